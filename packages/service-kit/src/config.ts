import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isWellKnownSecret } from '@corral/contracts';

/** Thrown when the environment does not satisfy a service's schema; lists every bad variable by name. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration for ${service}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export interface SecretOptions {
  /** Used outside production when the variable is unset; refused in production. */
  devDefault?: string;
  /** Shorter values are refused in production. */
  minLength?: number;
  /** For the generated configuration reference. */
  description?: string;
  /**
   * Optional in development, refused unset in production by the service itself (checked where it
   * is used, e.g. the gateway's createApp); the configuration reference says so.
   */
  requiredInProduction?: boolean;
}

const secretOptions = new WeakMap<z.ZodType, Required<Pick<SecretOptions, 'minLength'>> & SecretOptions>();

/** Variables whose values are hidden in errors even when not declared with `secret()`. */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE_KEY|_KEK$/;

/**
 * A secret env var: may come from `NAME` or `NAME_FILE`, is never echoed in errors, and in
 * production must be set, not equal to its development default, and at least `minLength` long.
 */
export function secret(options: SecretOptions = {}): z.ZodType<string> {
  const base = z.string().min(1, 'must not be empty');
  const withDefault: z.ZodType<string> =
    options.devDefault === undefined ? base : base.default(options.devDefault);
  const schema = options.description ? withDefault.describe(options.description) : withDefault;
  secretOptions.set(schema, { minLength: 32, ...options });
  return schema;
}

/** An optional secret (e.g. a bootstrap password): same file and production rules when set. */
export function optionalSecret(
  options: Omit<SecretOptions, 'devDefault'> = {},
): z.ZodType<string | undefined> {
  const optional = z.string().min(1, 'must not be empty').optional();
  const schema = options.description ? optional.describe(options.description) : optional;
  secretOptions.set(schema, { minLength: 12, ...options });
  return schema;
}

/** `true`/`false` (also 1/0, yes/no, on/off); anything else is an error, not a silent false. */
export const envBoolean = (defaultValue: boolean) =>
  z
    .stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] })
    .default(defaultValue);

/** A whole number in a range; `''` or `12abc` are errors. */
export const envInt = (defaultValue: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z
    .string()
    .regex(/^-?\d+$/, `expected a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(defaultValue);

export const envPort = (defaultValue: number) => envInt(defaultValue, { min: 0, max: 65535 });

/** Comma-separated list; blanks dropped. */
export const envList = (defaultValue: string[] = []) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .default(defaultValue);

/** Express body-parser size: `512kb`, `1mb`, or bytes. */
export const envByteSize = (defaultValue: string) =>
  z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'expected a size such as 512kb or 1mb')
    .default(defaultValue);

const URL_KINDS = {
  http: { pattern: /^https?:\/\/[^\s/]+(\/.*)?$/, message: 'expected an http(s):// URL' },
  postgres: { pattern: /^postgres(ql)?:\/\//, message: 'expected a postgres:// URL' },
  redis: { pattern: /^rediss?:\/\//, message: 'expected a redis:// URL' },
} as const;

export type UrlKind = keyof typeof URL_KINDS;

/**
 * A URL of one kind: `http` (http or https, with a host; trailing slashes dropped, so paths can be
 * appended), `postgres` or `redis` (kept as given: the driver reads them). Chain `.default()`,
 * `.optional()`, `.describe()`, or use it as the item of an `envList()` pipe.
 */
export function envUrl(kind: UrlKind) {
  const { pattern, message } = URL_KINDS[kind];
  const url = z.string().regex(pattern, message);
  return url.transform((value) => (kind === 'http' ? value.replace(/\/+$/, '') : value));
}

/** `512kb`, `1mb` or bytes (an `envByteSize` value) as a number of bytes, as express's body parsers read it. */
export function byteSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(size.trim());
  if (!match) throw new RangeError(`not a size: ${size}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

/** Express `trust proxy`: false, true, a hop count, or a list of addresses/CIDRs/presets. */
export const envTrustProxy = z
  .string()
  .transform((value): boolean | number | string[] => {
    if (value === 'true') return true;
    if (value === 'false' || value === '') return false;
    if (/^\d+$/.test(value)) return Number(value);
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  })
  .default(false);

/** Variables every Corral service reads. */
export const baseEnvShape = {
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe('production refuses development defaults and weak secrets.'),
  LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'])
    .default('info')
    .describe('Lowest level written; access lines are info, probes debug.'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Address to listen on.'),
  BODY_LIMIT: envByteSize('1mb').describe('Largest request body accepted; larger ones get 413.'),
  TRUST_PROXY: envTrustProxy.describe(
    'Which proxies X-Forwarded-* is believed from (express "trust proxy").',
  ),
  CORS_ALLOW_ORIGIN: envList().describe('Origins allowed cross-origin; empty keeps CORS closed.'),
  SHUTDOWN_GRACE_MS: envInt(25_000, { max: 600_000 }).describe(
    'How long open requests and streams may run after SIGTERM.',
  ),
  SHUTDOWN_DELAY_MS: envInt(0, { max: 60_000 }).describe(
    'Wait between SIGTERM and closing the listener, so load balancers see /readyz fail first.',
  ),
  HTTP_HEADERS_TIMEOUT_MS: envInt(15_000, { min: 1000 }).describe(
    'Slow clients must send headers within this.',
  ),
  HTTP_REQUEST_TIMEOUT_MS: envInt(60_000, { min: 1000 }).describe(
    'Slow clients must send the whole request within this.',
  ),
  HTTP_KEEPALIVE_TIMEOUT_MS: envInt(65_000, { min: 1000 }).describe(
    'Idle keep-alive sockets close after this; keep it above the load balancer’s idle timeout.',
  ),
  HTTP_LISTEN_BACKLOG: envInt(511, { min: 1, max: 65_535 }).describe(
    'Connections the kernel queues before they are accepted (capped by net.core.somaxconn).',
  ),
  HTTP_ACCEPT_SOCKETS: envInt(4, { min: 1, max: 64 }).describe(
    'Listening sockets on PORT (SO_REUSEPORT, Node ≥ 22.12): Node accepts one connection per socket per event-loop turn, so a burst of new connections is taken in this many times fewer turns; 1 on older Node.',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional().describe('OTLP/HTTP collector; tracing is off when unset.'),
  METRICS_PORT: envPort(0).describe(
    'Serve /metrics on this port only, never on PORT (keeps it off the Ingress); 0 serves it on PORT.',
  ),
} as const;

export const baseEnvSchema = z.object(baseEnvShape);
export type BaseConfig = z.infer<typeof baseEnvSchema>;

type Env = Record<string, string | undefined>;

function describeReceived(value: unknown, isSecret: boolean): string {
  if (value === undefined) return '';
  if (isSecret) return ' (value hidden)';
  const text = String(value);
  return `, received "${text.length > 60 ? `${text.slice(0, 60)}…` : text}"`;
}

/** Reads `NAME_FILE` for every variable of the schema that is not set directly (Kubernetes Secret mounts). */
function resolveFileVariables(keys: string[], env: Env, problems: string[]): Env {
  const resolved: Env = { ...env };
  for (const key of keys) {
    const filePath = env[`${key}_FILE`];
    if (filePath === undefined || filePath === '') continue;
    if (env[key] !== undefined && env[key] !== '') {
      problems.push(`${key}: set either ${key} or ${key}_FILE, not both`);
      continue;
    }
    try {
      resolved[key] = readFileSync(filePath, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
      problems.push(`${key}_FILE: cannot read ${filePath} (${reason})`);
    }
  }
  return resolved;
}

function checkProductionSecrets(
  shape: Record<string, z.ZodType>,
  values: Record<string, unknown>,
  problems: string[],
): void {
  for (const [key, schema] of Object.entries(shape)) {
    const options = secretOptions.get(schema);
    const value = values[key];
    if (!options || typeof value !== 'string') continue;
    if (options.devDefault !== undefined && value === options.devDefault) {
      problems.push(`${key}: the development default is refused in production; set ${key} or ${key}_FILE`);
    } else if (isWellKnownSecret(value)) {
      problems.push(`${key}: a well-known weak value is refused in production`);
    } else if (value.length < options.minLength) {
      problems.push(`${key}: must be at least ${options.minLength} characters in production`);
    }
  }
}

/**
 * Parses the environment once at start-up. Every problem is collected and reported by variable
 * name; nothing given-but-wrong silently falls back to a default.
 */
export function loadConfig<Shape extends z.ZodRawShape>(
  service: string,
  shape: Shape,
  env: Env = process.env,
): z.infer<z.ZodObject<Shape>> {
  const problems: string[] = [];
  const keys = Object.keys(shape);
  const resolved = resolveFileVariables(keys, env, problems);
  // An empty string means "unset" so `FOO=` in a values file does not defeat a default.
  const input = Object.fromEntries(
    keys.map((key) => [key, resolved[key] === '' ? undefined : resolved[key]]),
  );
  const result = z.object(shape).safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '(root)');
      const received = input[key];
      const isSecret = secretOptions.has(shape[key] as z.ZodType) || SECRET_NAME.test(key);
      // zod may quote the input in its message; a secret's value must never reach a log.
      const message =
        isSecret && received !== undefined ? issue.message.replaceAll(received, '***') : issue.message;
      problems.push(
        received === undefined
          ? `${key}: is required`
          : `${key}: ${message}${describeReceived(received, isSecret)}`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  const values = result.data as Record<string, unknown>;
  if (values.NODE_ENV === 'production') {
    checkProductionSecrets(shape as unknown as Record<string, z.ZodType>, values, problems);
    if (problems.length > 0) throw new ConfigError(service, problems);
  }
  return result.data as z.infer<z.ZodObject<Shape>>;
}

export interface EnvDoc {
  name: string;
  description: string;
  default: string | undefined;
  secret: boolean;
  /** A secret with a development default, which production refuses (so it must be set there). */
  devDefault: boolean;
  /** Optional in development, must be set in production. */
  requiredInProduction: boolean;
  required: boolean;
}

/** The variables a schema reads, for generated configuration references. */
export function describeEnv(shape: z.ZodRawShape): EnvDoc[] {
  return Object.entries(shape).map(([name, schema]) => {
    const zodSchema = schema as z.ZodType;
    const probe = zodSchema.safeParse(undefined);
    const fallback = probe.success ? probe.data : undefined;
    return {
      name,
      description: zodSchema.description ?? '',
      default: fallback === undefined || secretOptions.has(zodSchema) ? undefined : JSON.stringify(fallback),
      secret: secretOptions.has(zodSchema),
      devDefault: secretOptions.get(zodSchema)?.devDefault !== undefined,
      requiredInProduction:
        secretOptions.get(zodSchema)?.devDefault !== undefined ||
        secretOptions.get(zodSchema)?.requiredInProduction === true,
      required: !probe.success,
    };
  });
}
