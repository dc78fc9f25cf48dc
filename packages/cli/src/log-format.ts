/** Turns one NDJSON pino line into a short human line for the dev cluster's console. */
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'component', 'msg']);

export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof rec !== 'object' || rec === null) return line;
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : '';
  const level = LEVELS[Number(rec.level)] ?? String(rec.level ?? '');
  const extras = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)} ${String(rec.msg ?? '')}${extras ? ` ${extras}` : ''}`;
}
