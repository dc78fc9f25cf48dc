import type { Envelope } from '@plexus/protocol';
import type { AppError } from './app-error.ts';

const NO_ERROR = Object.freeze({ status: false, code: 0, message: '' });

/** The success envelope: `{data, error: {status: false, code: 0, message: ''}}`. */
export function ok<T>(data: T): Envelope<T> {
  return { data, error: NO_ERROR };
}

/** The failure envelope: `{data: null, error: {status: true, code, message}}`. */
export function fail(err: AppError): Envelope<never> {
  return { data: null, error: { status: true, code: err.code, message: err.message } };
}
