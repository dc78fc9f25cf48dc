import { ErrorCodes, type ErrorName, errorNameOf } from '@plexus/protocol';

/** Options of {@link PlexusError}. */
export interface PlexusErrorOptions {
  /** Overrides the HTTP status taken from the error registry. */
  status?: number;
  /** Name to use when `code` is not in this SDK's registry (e.g. a newer server). */
  name?: string;
  /** The underlying failure (network error, decode error…). */
  cause?: unknown;
}

/**
 * Every failure the SDK reports: HTTP error envelopes, ERROR frames, connection failures and local
 * failures (network, timeout). `code` and `name` come from the one error registry of
 * `@plexus/protocol` (see docs/errors.md); `status` is the matching HTTP status.
 *
 * ```ts
 * try { await client.login(email, password); }
 * catch (err) { if (err instanceof PlexusError && err.is('AUTH_INVALID_CREDENTIALS')) … }
 * ```
 */
export class PlexusError extends Error {
  /** Numeric code from the registry (e.g. 2001). */
  readonly code: number;
  /** Registry name (e.g. `AUTH_INVALID_SESSION`); `UNKNOWN_ERROR` for an unknown code without a name. */
  override readonly name: string;
  /** HTTP status that matches the error (also for socket errors, from the registry). */
  readonly status: number;

  constructor(code: number, message?: string, options: PlexusErrorOptions = {}) {
    const registryName = errorNameOf(code);
    const spec = registryName ? ErrorCodes[registryName] : undefined;
    super(
      message || spec?.message || `Error ${code}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.code = code;
    this.name = registryName ?? options.name ?? 'UNKNOWN_ERROR';
    this.status = options.status ?? spec?.status ?? 500;
  }

  /** Creates the error registered under `name`, with an optional more specific message. */
  static of(name: ErrorName, message?: string, options: PlexusErrorOptions = {}): PlexusError {
    return new PlexusError(ErrorCodes[name].code, message, options);
  }

  /** Creates the error carried by a failed `{data, error}` envelope (`error.status === true`). */
  static fromEnvelope(error: { code: number; message: string }, httpStatus?: number): PlexusError {
    return new PlexusError(error.code, error.message, httpStatus === undefined ? {} : { status: httpStatus });
  }

  /** Creates the error carried by an ERROR frame of the wire protocol. */
  static fromFrame(frame: { code: number; name: string; message: string }): PlexusError {
    return new PlexusError(frame.code, frame.message, { name: frame.name });
  }

  /** True when this error is the registry entry `name`. */
  is(name: ErrorName): boolean {
    return this.code === ErrorCodes[name].code;
  }
}

/** Wraps anything thrown into a PlexusError (kept as is when it already is one). */
export function toPlexusError(err: unknown, fallback: ErrorName, message: string): PlexusError {
  if (err instanceof PlexusError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return PlexusError.of(fallback, detail ? `${message}: ${detail}` : message, { cause: err });
}
