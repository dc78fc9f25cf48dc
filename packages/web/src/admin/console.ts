/**
 * The operator console (`/admin` on the balancer; docs/operations.md, "Operator console"). The
 * operator key lives only in this module's memory for the life of the tab: never in a URL, a cookie
 * or Web Storage. Everything live arrives pushed on the console stream; actions go through the
 * operator-key endpoints and their outcome shows in the log and, pushed, in the tables.
 */
import { CONSOLE_OPERATOR_RPC_PREFIX, type ConsoleSnapshot, HttpPaths } from '@plexus/protocol';
import { barChart, formatNumber, lineChart } from './charts.ts';
import { openConsoleStream } from './stream.ts';

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T;

const ANALYTICS_RANGE_MS = 60 * 60_000;
const ANALYTICS_BUCKET_MS = 60_000;
/** Live points of the concurrent-users chart kept after the summary's (one per push). */
const LIVE_POINTS = 3600;
const LOG_ENTRIES = 50;

let key: string | null = null;
let stream: ReturnType<typeof openConsoleStream> | null = null;
let history: { at: number; value: number }[] = [];

const status = $<HTMLSpanElement>('#status');
const signIn = $<HTMLFormElement>('#sign-in');
const signInError = $<HTMLParagraphElement>('#sign-in-error');
const keyInput = $<HTMLInputElement>('#key');
const main = $<HTMLElement>('#console');
const signOut = $<HTMLButtonElement>('#sign-out');

function setStatus(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

signIn.addEventListener('submit', async (event) => {
  event.preventDefault();
  const candidate = keyInput.value.trim();
  keyInput.value = '';
  signInError.textContent = '';
  setStatus('signing-in', 'signing in…');
  const opened = openConsoleStream(candidate, {
    onSnapshot: render,
    onState: (state, detail) => {
      if (state === 'live') setStatus('live', 'live');
      else if (state === 'reconnecting') setStatus('reconnecting', 'reconnecting…');
      else {
        setStatus('signed-out', 'signed out');
        if (key === null) signInError.textContent = `Refused: ${detail ?? 'wrong operator key'}`;
        else end();
      }
    },
  });
  if (!(await opened.ready)) {
    opened.close();
    return;
  }
  key = candidate;
  stream = opened;
  signIn.hidden = true;
  main.hidden = false;
  signOut.hidden = false;
  void loadAnalytics();
});

signOut.addEventListener('click', end);

function end(): void {
  stream?.close();
  stream = null;
  key = null;
  history = [];
  main.hidden = true;
  signOut.hidden = true;
  signIn.hidden = false;
  setStatus('signed-out', 'signed out');
}

// ------------------------------------------------------------------ live tables

function cells(row: HTMLTableRowElement, values: readonly (string | number)[]): void {
  for (const v of values) row.insertCell().textContent = String(v);
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

const ms = (n: number | null) =>
  n === null ? '—' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;

function render(snapshot: ConsoleSnapshot): void {
  const servers = $<HTMLTableSectionElement>('#servers tbody');
  servers.replaceChildren();
  for (const s of snapshot.servers) {
    const row = servers.insertRow();
    row.dataset.serverId = s.serverId;
    row.insertCell().textContent = s.serverId;
    const state = row.insertCell();
    state.className = 'state';
    state.dataset.state = s.state;
    state.textContent = s.state === 'dead' && s.reason ? `dead (${s.reason})` : s.state;
    cells(row, [
      s.players,
      s.playgrounds,
      s.capacity,
      `${s.tickP50Ms.toFixed(2)} / ${s.tickP99Ms.toFixed(2)} ms`,
      `${formatNumber(s.bytesOutPerSec)} B/s`,
      ms(s.checkpointLagMs),
    ]);
    const actions = row.insertCell();
    if (s.state === 'ready') {
      actions.append(
        button('Drain…', () =>
          confirmThen(`Drain ${s.serverId}? Its ${s.players} players move to other servers.`, () =>
            act(
              `drain ${s.serverId}`,
              `${HttpPaths.adminServersPrefix}${encodeURIComponent(s.serverId)}/drain`,
            ),
          ),
        ),
      );
    }
  }

  const playgrounds = $<HTMLTableSectionElement>('#playgrounds tbody');
  playgrounds.replaceChildren();
  for (const p of snapshot.playgrounds) {
    const row = playgrounds.insertRow();
    row.dataset.playgroundId = p.playgroundId;
    cells(row, [p.playgroundId, p.players, p.serverId, p.epoch ?? '—', ms(p.checkpointAgeMs)]);
    row.insertCell().append(
      button('Close…', () =>
        confirmThen(`Close ${p.playgroundId}? Matchmaking stops sending people to it.`, () =>
          act(`close ${p.playgroundId}`, `${CONSOLE_OPERATOR_RPC_PREFIX}playgrounds.close`, {
            id: p.playgroundId,
          }),
        ),
      ),
    );
  }
  $('#playgrounds-total').textContent =
    snapshot.playgroundsTotal > snapshot.playgrounds.length
      ? `${snapshot.playgrounds.length} of ${snapshot.playgroundsTotal}`
      : `${snapshot.playgroundsTotal}`;

  const balancers = $<HTMLTableSectionElement>('#balancers tbody');
  balancers.replaceChildren();
  for (const b of snapshot.balancers) {
    cells(balancers.insertRow(), [b.self ? `${b.lbId} (this one)` : b.lbId, b.servers, b.players]);
  }

  const users = snapshot.servers.reduce((n, s) => n + s.players, 0);
  history.push({ at: Date.parse(snapshot.at), value: users });
  if (history.length > LIVE_POINTS) history.splice(0, history.length - LIVE_POINTS);
  lineChart($('#chart-users'), history);
}

// ------------------------------------------------------------------ actions

const dialog = $<HTMLDialogElement>('#confirm');

function confirmThen(question: string, action: () => Promise<void>): void {
  $('#confirm-text').textContent = question;
  dialog.returnValue = '';
  dialog.addEventListener(
    'close',
    () => {
      if (dialog.returnValue === 'ok') void action();
    },
    { once: true },
  );
  dialog.showModal();
}

async function operatorCall(path: string, body?: unknown): Promise<unknown> {
  if (key === null) throw new Error('signed out');
  const res = await fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const envelope = (await res.json()) as {
    data: unknown;
    error: { status: boolean; code: number; message: string };
  };
  if (envelope.error.status) throw new Error(`${envelope.error.message} (${envelope.error.code})`);
  return envelope.data;
}

async function act(what: string, path: string, body?: unknown): Promise<void> {
  try {
    const data = await operatorCall(path, body);
    log('ok', `${what}: accepted ${JSON.stringify(data).slice(0, 200)}`);
  } catch (err) {
    log('error', `${what}: ${(err as Error).message}`);
  }
}

function log(outcome: 'ok' | 'error', text: string): void {
  const list = $<HTMLOListElement>('#log');
  const item = document.createElement('li');
  item.dataset.outcome = outcome;
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  list.prepend(item);
  while (list.children.length > LOG_ENTRIES) list.lastElementChild?.remove();
}

$<HTMLFormElement>('#publish').addEventListener('submit', (event) => {
  event.preventDefault();
  const type = $<HTMLInputElement>('#event-type').value.trim();
  let payload: unknown;
  try {
    payload = JSON.parse($<HTMLTextAreaElement>('#event-payload').value);
  } catch {
    log('error', 'publish: the payload is not valid JSON');
    return;
  }
  confirmThen(`Publish "${type}" to every connected user?`, () =>
    act(`publish ${type}`, `${CONSOLE_OPERATOR_RPC_PREFIX}events.publish`, {
      target: { all: true },
      type,
      payload,
    }),
  );
});

// ------------------------------------------------------------------ analytics

interface Summary {
  concurrentUsers: { at: number; users: number }[];
  playgrounds: { playgroundId: string; joins: number; avgSessionMs: number | null }[];
  refusals: { reason: string | null; count: number }[];
}

/** The last hour from the backend's analytics (on sign-in and on Refresh; the live line is pushed). */
async function loadAnalytics(): Promise<void> {
  const error = $('#analytics-error');
  error.textContent = '';
  const to = Date.now();
  try {
    const summary = (await operatorCall(`${CONSOLE_OPERATOR_RPC_PREFIX}analytics.summary`, {
      from: to - ANALYTICS_RANGE_MS,
      to,
      bucketMs: ANALYTICS_BUCKET_MS,
    })) as Summary;
    const live = history.filter((p) => p.at > to);
    history = [...summary.concurrentUsers.map((p) => ({ at: p.at, value: p.users })), ...live];
    lineChart($('#chart-users'), history);
    barChart(
      $('#chart-joins'),
      summary.playgrounds.map((p) => ({ label: p.playgroundId, value: p.joins })),
    );
    barChart(
      $('#chart-sessions'),
      summary.playgrounds
        .filter((p) => p.avgSessionMs !== null)
        .map((p) => ({ label: p.playgroundId, value: Math.round((p.avgSessionMs as number) / 1000) })),
    );
    barChart(
      $('#chart-refusals'),
      summary.refusals.map((r) => ({ label: r.reason ?? '(none)', value: r.count })),
      { className: 'refusal' },
    );
  } catch (err) {
    error.textContent = `Analytics unavailable: ${(err as Error).message}`;
  }
}

$('#analytics-refresh').addEventListener('click', () => void loadAnalytics());
