// Helpers the test suites share. One module per concern; each export says what it is for.
export { REPO_ROOT, TEST_DATABASE_URL, TEST_REDIS_URL, authTestEnv, schemaEnv } from './env.js';
export type { AuthTestEnvOptions, SchemaEnvOptions } from './env.js';
export { baseUrl, listen, serveApp } from './http.js';
export type { ListeningServer, ServedApp } from './http.js';
export { freePort } from './ports.js';
export { dropSchema, sql, uniqueSchema } from './postgres.js';
export {
  MAX_OUTPUT,
  RUNNER_VARIABLES,
  childEnv,
  configureSim,
  listeningUrl,
  logCount,
  startProcess,
  startService,
  startSimProcess,
  startTsProcess,
} from './processes.js';
export type {
  ExitStatus,
  RunningService,
  StartProcessOptions,
  StartServiceOptions,
  StartTsProcessOptions,
  TestProcess,
} from './processes.js';
export { TcpRelay } from './tcp-relay.js';
export { waitFor } from './wait.js';
export type { WaitOptions } from './wait.js';
export { ContractCheck, PROBE_ROUTES, contractCheck } from './contract-check.js';
export type { ContractRoute, ContractViolation } from './contract-check.js';
