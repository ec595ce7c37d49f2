// The shapes that cross a Corral service boundary: zod schemas and the types inferred from them.
// Plain zod, no service imports: services, the web app and the tests all read them from here.
export * from './api-keys.js';
export * from './attachments.js';
export * from './audit.js';
export * from './common.js';
export * from './conversations.js';
export * from './errors.js';
export * from './export.js';
export * from './feedback.js';
export * from './folders.js';
export * from './library.js';
export * from './limits.js';
export * from './model-names.js';
export * from './models.js';
export * from './openai-errors.js';
export * from './pool.js';
export * from './replies.js';
export * from './revocations.js';
export * from './secrets.js';
export * from './usage.js';
export * from './users.js';
