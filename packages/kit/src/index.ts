export { AppError, isAppError } from './app-error.ts';
export { ConfigError, cfg, DEV_SECRETS, loadConfig, refuseDevSecrets, z } from './config.ts';
export { fail, ok } from './envelope.ts';
export { createHttpServer, parseInput, routesOf, sendError } from './http-server.ts';
export { KeyedRateLimiter } from './keyed-rate-limiter.ts';
export { createLogger, type Logger } from './logger.ts';
export { Counter, createMetrics, Gauge, Histogram, type Metrics, Registry } from './metrics.ts';
export { bodySchema, DOCS_PATH, type OpenApiInfo } from './openapi.ts';
export {
  RESUME_TOKEN_TTL_MS,
  type ResumeClaims,
  signResumeToken,
  verifyResumeToken,
} from './resume-token.ts';
export { installShutdown } from './shutdown.ts';
