import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line: tokens, keys and passwords. */
const REDACT = [
  'sessionId',
  'ticket',
  'password',
  'partnerKey',
  'clusterSecret',
  '*.sessionId',
  '*.ticket',
  '*.password',
  '*.partnerKey',
  '*.clusterSecret',
  'req.headers.authorization',
  'headers.authorization',
];

export interface LoggerOptions {
  component: string;
  level?: string;
  /** Where NDJSON goes; defaults to stdout. Tests pass a stream to inspect lines. */
  destination?: NodeJS.WritableStream;
}

/** The process's root logger: NDJSON with `component` bound; children add playgroundId, clientId… */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: options.component, pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
