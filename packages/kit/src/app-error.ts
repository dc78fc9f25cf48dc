import { ErrorCodes, type ErrorName } from '@plexus/protocol';

/**
 * The typed error services throw. It carries a registry name (and so a numeric code and HTTP
 * status); only the edges render it, as an envelope over HTTP or an ERROR frame on sockets.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly errorName: ErrorName;
  readonly code: number;
  readonly status: number;

  constructor(errorName: ErrorName, message?: string, options?: { cause?: unknown }) {
    const spec = ErrorCodes[errorName];
    super(message ?? spec.message, options);
    this.errorName = errorName;
    this.code = spec.code;
    this.status = spec.status;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
