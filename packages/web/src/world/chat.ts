import type { Playground, PlaygroundMessage } from '@plexus/client';

/** The custom message type of a chat line (relayed by the open-world playground to everyone else). */
export const CHAT_MESSAGE = 'chat';
/** Longest line sent or shown, characters. */
export const CHAT_MAX_CHARS = 200;
/** Lines kept in the log; older ones are dropped. */
const MAX_LINES = 60;
/** At most one line per this many ms from this page (the server rate-limits frames as well). */
const MIN_INTERVAL_MS = 400;

/**
 * Text chat over custom messages: `pg.send('chat', { text })`, received as `message` events. Every
 * line is bounded and put on the page as text (textContent), never as markup.
 */
export class Chat {
  private readonly log: HTMLElement;
  private readonly input: HTMLInputElement;
  private pg: Playground | undefined;
  private nameOf: (clientId: number) => string = (id) => `client ${id}`;
  private lastSentMs = Number.NEGATIVE_INFINITY;

  constructor(
    log: HTMLElement,
    form: HTMLFormElement,
    input: HTMLInputElement,
    notice: (text: string) => void,
  ) {
    this.log = log;
    this.input = input;
    this.input.maxLength = CHAT_MAX_CHARS;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim().slice(0, CHAT_MAX_CHARS);
      if (!text || !this.pg) return;
      const now = performance.now();
      if (now - this.lastSentMs < MIN_INTERVAL_MS) {
        notice('Slow down a little');
        return;
      }
      if (!this.pg.send(CHAT_MESSAGE, { text })) {
        notice('Not connected: the message was not sent');
        return;
      }
      this.lastSentMs = now;
      this.input.value = '';
      this.add('you', text, true);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') input.blur();
    });
  }

  /** Listens to `pg`'s messages; `nameOf` names a sender by client id (its avatar's tag). */
  bind(pg: Playground, nameOf: (clientId: number) => string): void {
    this.pg = pg;
    this.nameOf = nameOf;
    pg.on('message', (message) => this.receive(message));
    this.log.replaceChildren();
  }

  /** Focuses the input (Enter or T in the world). */
  focus(): void {
    this.input.focus();
  }

  private receive(message: PlaygroundMessage): void {
    if (message.type !== CHAT_MESSAGE) return;
    const payload = message.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return;
    const text = payload.text;
    if (typeof text !== 'string') return;
    const line = text.trim().slice(0, CHAT_MAX_CHARS);
    if (line) this.add(this.nameOf(message.from), line, false);
  }

  private add(who: string, text: string, own: boolean): void {
    const row = document.createElement('li');
    if (own) row.className = 'own';
    const name = document.createElement('b');
    name.textContent = who;
    const body = document.createElement('span');
    body.textContent = text;
    row.append(name, body);
    this.log.append(row);
    while (this.log.childElementCount > MAX_LINES) this.log.firstElementChild?.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }
}
