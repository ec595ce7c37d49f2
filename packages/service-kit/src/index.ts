export {
  ConfigError,
  baseEnvSchema,
  baseEnvShape,
  byteSize,
  describeEnv,
  envBoolean,
  envByteSize,
  envInt,
  envList,
  envPort,
  envTrustProxy,
  envUrl,
  loadConfig,
  optionalSecret,
  secret,
  type BaseConfig,
  type EnvDoc,
  type SecretOptions,
  type UrlKind,
} from './config.js';
export {
  AppError,
  ERROR_CATALOG,
  isAppError,
  dependencyUnavailable,
  problemType,
  toAppError,
  type AppErrorOptions,
  type ErrorCode,
  type ProblemDetails,
  type UnavailableReason,
} from './errors.js';
export {
  Readiness,
  type CheckOptions,
  type CheckResult,
  type ReadinessCheck,
  type ReadinessReport,
} from './health.js';
export {
  createHttpApp,
  requireJsonBody,
  routeTemplate,
  withDirectRoutes,
  type DirectRoute,
  type HttpAppOptions,
} from './http.js';
export { Lifecycle, createServiceKit, type ServiceKit, type ServiceKitOptions } from './kit.js';
export {
  createLogger,
  currentRequestContext,
  redact,
  runWithRequestContext,
  setRequestUser,
  type Logger,
  type LoggerOptions,
  type RequestContext,
} from './logger.js';
export { createMetrics, defineCounter, defineGauge, defineHistogram, type HttpMetrics } from './metrics.js';
export { startServer, type RunningServer, type StartServerOptions } from './server.js';
export { shutdownTelemetry, startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.js';
export { TtlCache } from './ttl-cache.js';
export { assertJsonBody, hasBody, readBody, readJsonBody, type BodyOptions } from './body.js';
export {
  openAiRenderer,
  renderOllamaError,
  renderProblem,
  respondWithError,
  sendError,
  type ErrorBody,
  type ErrorRenderer,
} from './wire-errors.js';
export { parseInput } from './validate.js';
export { runService, type RunServiceOptions } from './run.js';
