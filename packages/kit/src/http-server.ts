import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError, isAppError } from './app-error.ts';
import { fail, ok } from './envelope.ts';
import {
  clientErrorHandler,
  jsonTooDeep,
  limitConnectionsPerAddress,
  MAX_JSON_DEPTH,
} from './http-guards.ts';
import type { Metrics } from './metrics.ts';
import { type OpenApiInfo, registerOpenApi } from './openapi.ts';

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  /** Largest accepted request body (docs/operations.md "Limits": 64 KiB by default, 16 KiB on auth RPCs). */
  bodyLimitBytes?: number;
  /** `GET /readyz` answers 200 only while this returns true. */
  isReady?: () => boolean;
  /**
   * Names errors the process knows but that are not AppErrors (e.g. a lost database → 503);
   * anything it returns undefined for is an internal error (500).
   */
  classifyError?: (err: unknown) => AppError | undefined;
  /** Request headers must be complete within this long (docs/api.md: 10 s). */
  headersTimeoutMs?: number;
  /** A whole request (headers and body) must arrive within this long (docs/api.md: 30 s). */
  requestTimeoutMs?: number;
  /** Serve the OpenAPI document of the routes at `/docs` (kit/openapi.ts). */
  openapi?: OpenApiInfo;
  /** TCP connections one source address may hold open; more are closed at once (default 256). */
  maxConnectionsPerAddress?: number;
}

/** Method and URL of every route of an app, in registration order (the OpenAPI tests use it). */
const routeLists = new WeakMap<FastifyInstance, { method: string; url: string; hidden: boolean }[]>();

export function routesOf(app: FastifyInstance): readonly { method: string; url: string; hidden: boolean }[] {
  return routeLists.get(app) ?? [];
}

/** Default per-address connection cap of every HTTP listener (docs/operations.md, limits). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/**
 * How often node checks the header and request deadlines. Its default (30 s) let a slow request
 * live up to 30 s past its deadline; 1 s keeps the documented deadlines within a second.
 */
const DEADLINE_CHECK_INTERVAL_MS = 1_000;

/**
 * A fastify instance with the conventions every Plexus process shares: the `{data, error}`
 * envelope for every failure (including malformed JSON, oversize bodies and unknown routes),
 * request metrics, and `GET /healthz`, `/readyz`, `/metrics`.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { logger, metrics } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines are replaced by the onResponse hook below (metrics + warnings on 5xx).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    http: { connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS },
    clientErrorHandler,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  const routes: { method: string; url: string; hidden: boolean }[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, hidden: route.schema?.hide === true });
    }
  });
  // Route schemas document the API (kit/openapi.ts); the zod schemas in the handlers validate it.
  app.setValidatorCompiler(() => (value) => ({ value }));
  if (options.openapi) registerOpenApi(app, options.openapi);
  limitConnectionsPerAddress(
    app.server,
    options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  );
  // JSON only: anything else is a 415 rather than a string body reaching the handlers.
  app.removeContentTypeParser('text/plain');
  // fastify's own JSON parser (prototype-poisoning checks included) behind a nesting limit.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonTooDeep(body as string)) {
      done(
        new AppError('COMMON_JSON_TOO_DEEP', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
        undefined,
      );
      return;
    }
    parseJson(req, body as string, done);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: reply.statusCode });
    metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) req.log.warn({ route, status: reply.statusCode }, 'request failed');
  });

  app.setErrorHandler((err, req, reply) => {
    const appError = options.classifyError?.(err) ?? toAppError(err);
    if (appError.status >= 500) req.log.error({ err }, 'unhandled error');
    else req.log.debug({ code: appError.code, msg: appError.message }, 'request refused');
    return sendError(reply, appError);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new AppError('COMMON_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`)),
  );

  // In a plugin, so that they load after the OpenAPI plugin and appear in the document.
  app.register(async (health) => {
    health.get('/healthz', async () => ok({ status: 'alive' }));
    health.get('/readyz', async (_req, reply) => {
      if (options.isReady && !options.isReady()) return sendError(reply, new AppError('COMMON_UNAVAILABLE'));
      return ok({ status: 'ready' });
    });
    health.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  });
  return app;
}

/** Renders an AppError as the failure envelope with its HTTP status. */
export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  return reply.code(err.status).send(fail(err));
}

/** Parses a request body (or any input) with a schema; failure is a 400 naming the bad fields. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const detail = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
  throw new AppError('COMMON_BAD_REQUEST', `Invalid request: ${detail}`);
}

function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('COMMON_MALFORMED_JSON', undefined, { cause: err });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('COMMON_PAYLOAD_TOO_LARGE', undefined, { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('COMMON_UNSUPPORTED_MEDIA_TYPE', undefined, { cause: err });
  }
  if (err instanceof SyntaxError && e.statusCode === 400) {
    return new AppError('COMMON_MALFORMED_JSON', undefined, { cause: err });
  }
  if (e.statusCode === 429) return new AppError('COMMON_RATE_LIMITED', undefined, { cause: err });
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('COMMON_BAD_REQUEST', e.message, { cause: err });
  }
  return new AppError('COMMON_INTERNAL', undefined, { cause: err });
}
