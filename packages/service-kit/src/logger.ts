import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';
import winston from 'winston';

/** What is known about the request being served, for every log line written while serving it. */
export interface RequestContext {
  requestId: string;
  userId?: string;
}

const requestStore = new AsyncLocalStorage<RequestContext>();

export const runWithRequestContext = <T>(context: RequestContext, fn: () => T): T =>
  requestStore.run(context, fn);
export const currentRequestContext = (): RequestContext | undefined => requestStore.getStore();

/** Called by auth middleware once the caller is known, so later log lines carry the user id. */
export function setRequestUser(userId: string): void {
  const context = requestStore.getStore();
  if (context) context.userId = userId;
}

const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|credential|private[-_]?key/i;
const SENSITIVE_VALUE =
  /(sk-corral-[A-Za-z0-9_-]+)|(Bearer\s+[A-Za-z0-9._~+/-]+=*)|(eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+)/g;
/** `password=…` in messages, and the password in `postgres://user:password@host`. */
const SENSITIVE_ASSIGNMENT = /\b(pass(?:word|wd)?|secret|token|api[-_]?key)(\s*[=:]\s*)[^\s,;&]+/gi;
const URL_CREDENTIALS = /(\b[a-z][\w+.-]*:\/\/[^:\s/@]+:)[^@\s]+@/gi;
const REDACTED = '[REDACTED]';

const redactString = (value: string): string =>
  value
    .replace(SENSITIVE_VALUE, REDACTED)
    .replace(SENSITIVE_ASSIGNMENT, `$1$2${REDACTED}`)
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`);

/** Deep copy with secret-looking keys and token-looking strings masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth limit]';
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactString(value.message),
      stack: value.stack && redactString(value.stack),
    };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SENSITIVE_KEY.test(key) ? REDACTED : redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

const WINSTON_INTERNAL = new Set(['level', 'message']);

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (WINSTON_INTERNAL.has(key)) continue;
    info[key] = SENSITIVE_KEY.test(key) ? REDACTED : redact(info[key]);
  }
  if (typeof info.message === 'string') info.message = redact(info.message) as string;
  return info;
});

const contextFormat = winston.format((info) => {
  const context = requestStore.getStore();
  if (context) {
    info.requestId ??= context.requestId;
    if (context.userId !== undefined) info.userId ??= context.userId;
  }
  return info;
});

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where JSON lines go; stdout unless a test captures them. */
  stream?: Writable;
}

/** JSON lines: one object per event with service, level, time, request id and user id when known. */
export function createLogger({ service, level = 'info', stream }: LoggerOptions): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      contextFormat(),
      redactFormat(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ forceConsole: false }),
    ],
  });
}
