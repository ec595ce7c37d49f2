// Request and response shapes chat-api shares with its callers (web, tests, other services).
// Plain zod, no service imports, so the folder can move to packages/contracts unchanged.
export * from './export.js';
export * from './limits.js';
export * from './pool.js';
export * from './usage.js';
