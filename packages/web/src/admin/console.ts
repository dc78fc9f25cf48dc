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

/**
 * The rows of `body` for `ids`, in that order: a row whose id was there before is the same element,
 * updated in place, so a click that spans a snapshot (one a second) still lands on its button.
 * Rows of ids no longer listed go. `created` says which rows are new.
 */
function keyedRows(
  body: HTMLTableSectionElement,
  ids: readonly string[],
): { rows: HTMLTableRowElement[]; created: Set<HTMLTableRowElement> } {
  const old = new Map<string, HTMLTableRowElement>();
  for (const row of Array.from(body.rows)) old.set(row.dataset.id as string, row);
  const rows: HTMLTableRowElement[] = [];
  const created = new Set<HTMLTableRowElement>();
  ids.forEach((id, i) => {
    let row = old.get(id);
    old.delete(id);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = id;
      created.add(row);
    }
    // Moved only when out of place: a row that stays put keeps any press on it.
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] ?? null);
    rows.push(row);
  });
  for (const row of old.values()) row.remove();
  return { rows, created };
}

/** Sets a row's text cells (made on first use), changing only those whose text changed. */
function setCells(row: HTMLTableRowElement, values: readonly (string | number)[]): void {
  values.forEach((v, i) => {
    const cell = row.cells[i] ?? row.insertCell();
    const text = String(v);
    if (cell.textContent !== text) cell.textContent = text;
  });
}

/** The latest snapshot's entries, read by the buttons when clicked (their rows outlive snapshots). */
const latestServers = new Map<string, ConsoleSnapshot['servers'][number]>();

function render(snapshot: ConsoleSnapshot): void {
  const serverBody = $<HTMLTableSectionElement>('#servers tbody');
  latestServers.clear();
  for (const s of snapshot.servers) latestServers.set(s.serverId, s);
  const servers = keyedRows(
    serverBody,
    snapshot.servers.map((s) => s.serverId),
  );
  snapshot.servers.forEach((s, i) => {
    const row = servers.rows[i] as HTMLTableRowElement;
    row.dataset.serverId = s.serverId;
    setCells(row, [
      s.serverId,
      s.state === 'dead' && s.reason ? `dead (${s.reason})` : s.state,
      s.players,
      s.playgrounds,
      s.capacity,
      `${s.tickP50Ms.toFixed(2)} / ${s.tickP99Ms.toFixed(2)} ms`,
      `${formatNumber(s.bytesOutPerSec)} B/s`,
      ms(s.checkpointLagMs),
    ]);
    const state = row.cells[1] as HTMLTableCellElement;
    state.className = 'state';
    state.dataset.state = s.state;
    const actions = row.cells[8] ?? row.insertCell();
    const id = s.serverId;
    if (s.state !== 'ready') actions.replaceChildren();
    else if (!actions.firstChild) {
      actions.append(
        button('Drain…', () =>
          confirmThen(
            `Drain ${id}? Its ${latestServers.get(id)?.players ?? 0} players move to other servers.`,
            () => act(`drain ${id}`, `${HttpPaths.adminServersPrefix}${encodeURIComponent(id)}/drain`),
          ),
        ),
      );
    }
  });

  const playgroundBody = $<HTMLTableSectionElement>('#playgrounds tbody');
  const playgrounds = keyedRows(
    playgroundBody,
    snapshot.playgrounds.map((p) => p.playgroundId),
  );
  snapshot.playgrounds.forEach((p, i) => {
    const row = playgrounds.rows[i] as HTMLTableRowElement;
    row.dataset.playgroundId = p.playgroundId;
    setCells(row, [p.playgroundId, p.players, p.serverId, p.epoch ?? '—', ms(p.checkpointAgeMs)]);
    if (playgrounds.created.has(row)) {
      const id = p.playgroundId;
      row
        .insertCell()
        .append(
          button('Close…', () =>
            confirmThen(`Close ${id}? Matchmaking stops sending people to it.`, () =>
              act(`close ${id}`, `${CONSOLE_OPERATOR_RPC_PREFIX}playgrounds.close`, { id }),
            ),
          ),
        );
    }
  });
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
