import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorName } from '@plexus/protocol';
import { AppError } from './app-error.ts';
import { fail } from './envelope.ts';

/** Deepest accepted nesting of arrays and objects in a JSON body (docs/api.md, common rules). */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether `text` nests arrays/objects deeper than `max`. One pass over the characters, skipping
 * string contents, so a hostile body is refused before `JSON.parse` builds it (and before anything
 * recursive such as `JSON.stringify` or a schema walks it and overflows the stack).
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Caps the TCP connections one source address holds open on `server`: a connection past the cap
 * is destroyed at once, before it costs a parser or a timer, so one address can never take every
 * file descriptor and the process keeps answering others (docs/operations.md, limits).
 */
export function limitConnectionsPerAddress(server: Server, maxPerAddress: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= maxPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/**
 * Node's answers to requests that never reach a route (a bad request line, oversized headers, a
 * request past its deadline) in the `{data, error}` envelope instead of a bare body. Wired as
 * fastify's `clientErrorHandler` (node's http `clientError` event).
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const name: ErrorName =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'COMMON_HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'COMMON_REQUEST_TIMEOUT'
        : 'COMMON_BAD_REQUEST';
  const appError =
    name === 'COMMON_BAD_REQUEST' ? new AppError(name, 'Malformed HTTP request') : new AppError(name);
  const body = JSON.stringify(fail(appError));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${appError.status} ${STATUS_TEXT[appError.status] ?? 'Error'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};
