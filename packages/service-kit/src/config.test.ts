import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  baseEnvShape,
  byteSize,
  describeEnv,
  envBoolean,
  envInt,
  envList,
  envPort,
  envUrl,
  loadConfig,
  optionalSecret,
  secret,
} from './config.js';

const shape = {
  ...baseEnvShape,
  PORT: envPort(5001),
  DATABASE_URL: z.string().url(),
  SIGNING_KEY_SECRET: secret({ devDefault: 'dev-only-signing-key-secret-change-me-now' }),
  BOOTSTRAP_ADMIN_PASSWORD: optionalSecret(),
  ENABLE_REGISTRATION: envBoolean(false),
  MAX_PARALLEL: envInt(4, { min: 1, max: 64 }),
  OLLAMA_URLS: envList(),
};

const minimal = { DATABASE_URL: 'postgres://localhost/test' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig('auth', shape, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: valid environments', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig('auth', shape, {
      ...minimal,
      ENABLE_REGISTRATION: 'yes',
      MAX_PARALLEL: '8',
      OLLAMA_URLS: 'http://a:11434, http://b:11434,',
      TRUST_PROXY: '1',
    });
    expect(config.PORT).toBe(5001);
    expect(config.NODE_ENV).toBe('development');
    expect(config.ENABLE_REGISTRATION).toBe(true);
    expect(config.MAX_PARALLEL).toBe(8);
    expect(config.OLLAMA_URLS).toEqual(['http://a:11434', 'http://b:11434']);
    expect(config.TRUST_PROXY).toBe(1);
    expect(config.SIGNING_KEY_SECRET).toBe('dev-only-signing-key-secret-change-me-now');
    expect(config.BOOTSTRAP_ADMIN_PASSWORD).toBeUndefined();
  });

  it('treats an empty variable as unset so the default applies', () => {
    expect(loadConfig('auth', shape, { ...minimal, PORT: '' }).PORT).toBe(5001);
  });

  it('reads NAME_FILE for a secret mounted from a Kubernetes Secret, without the trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-config-'));
    const file = join(dir, 'signing');
    writeFileSync(file, 'a-very-long-secret-value-from-a-mounted-file-0123456789\n');
    const config = loadConfig('auth', shape, {
      ...minimal,
      NODE_ENV: 'production',
      SIGNING_KEY_SECRET_FILE: file,
    });
    expect(config.SIGNING_KEY_SECRET).toBe('a-very-long-secret-value-from-a-mounted-file-0123456789');
  });
});

describe('loadConfig: bad environments stop start-up naming the variable', () => {
  it('names a missing required variable', () => {
    expect(problemsOf({})).toEqual(['DATABASE_URL: is required']);
  });

  it('names a malformed number instead of falling back to the default', () => {
    const problems = problemsOf({ ...minimal, PORT: '50O1' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PORT: expected a whole number between 0 and 65535, received "50O1"/);
  });

  it('rejects an out-of-range number and a non-boolean flag, reporting both at once', () => {
    const problems = problemsOf({ ...minimal, MAX_PARALLEL: '0', ENABLE_REGISTRATION: 'maybe' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['ENABLE_REGISTRATION', 'MAX_PARALLEL']);
  });

  it('rejects an unknown enum value', () => {
    expect(problemsOf({ ...minimal, LOG_LEVEL: 'loud' })[0]).toMatch(/^LOG_LEVEL: /);
  });

  it('refuses both NAME and NAME_FILE, and an unreadable NAME_FILE', () => {
    expect(problemsOf({ ...minimal, SIGNING_KEY_SECRET: 'x', SIGNING_KEY_SECRET_FILE: '/nope' })).toEqual([
      'SIGNING_KEY_SECRET: set either SIGNING_KEY_SECRET or SIGNING_KEY_SECRET_FILE, not both',
    ]);
    expect(problemsOf({ ...minimal, SIGNING_KEY_SECRET_FILE: '/does/not/exist' })).toEqual([
      'SIGNING_KEY_SECRET_FILE: cannot read /does/not/exist (ENOENT)',
    ]);
  });

  it('never echoes a secret value in an error', () => {
    const error = (() => {
      try {
        loadConfig(
          'auth',
          { SESSION_SECRET: z.string().startsWith('zz') },
          { SESSION_SECRET: 'hunter2-top-secret' },
        );
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).not.toContain('hunter2');
  });
});

describe('loadConfig: production refuses default and weak secrets', () => {
  const production = { ...minimal, NODE_ENV: 'production' };

  it('refuses the development default', () => {
    expect(problemsOf(production)).toEqual([
      'SIGNING_KEY_SECRET: the development default is refused in production; set SIGNING_KEY_SECRET or SIGNING_KEY_SECRET_FILE',
    ]);
  });

  it('refuses a short or well-known secret, including optional ones when set', () => {
    expect(problemsOf({ ...production, SIGNING_KEY_SECRET: 'short' })[0]).toMatch(
      /^SIGNING_KEY_SECRET: must be at least 32 characters/,
    );
    const weak = problemsOf({
      ...production,
      SIGNING_KEY_SECRET: 'x'.repeat(40),
      BOOTSTRAP_ADMIN_PASSWORD: 'changeme',
    });
    expect(weak).toEqual(['BOOTSTRAP_ADMIN_PASSWORD: a well-known weak value is refused in production']);
  });

  it('accepts a strong secret', () => {
    const config = loadConfig('auth', shape, { ...production, SIGNING_KEY_SECRET: 'q'.repeat(48) });
    expect(config.SIGNING_KEY_SECRET).toHaveLength(48);
  });
});

describe('describeEnv', () => {
  it('lists variables with defaults, hiding secret defaults', () => {
    const docs = describeEnv(shape);
    const byName = Object.fromEntries(docs.map((d) => [d.name, d]));
    expect(byName.PORT).toMatchObject({ default: '5001', required: false, secret: false });
    expect(byName.DATABASE_URL).toMatchObject({ required: true });
    expect(byName.SIGNING_KEY_SECRET).toMatchObject({ secret: true, default: undefined });
    expect(byName.BODY_LIMIT?.description).toMatch(/413/);
  });
});

describe('envUrl and byteSize', () => {
  const urls = {
    GATEWAY_URL: envUrl('http').default('http://127.0.0.1:5003'),
    BACKENDS: envList().pipe(z.array(envUrl('http'))),
    DATABASE_URL: envUrl('postgres'),
    REDIS_URL: envUrl('redis').optional(),
  };

  it('accepts each kind, dropping an http URL’s trailing slashes only', () => {
    const config = loadConfig('svc', urls, {
      GATEWAY_URL: 'https://gw.internal:5003/base//',
      BACKENDS: 'http://a:11434/, http://b:11434',
      DATABASE_URL: 'postgresql://u@db/corral?schema=chat',
      REDIS_URL: 'rediss://cache:6380/',
    });
    expect(config).toEqual({
      GATEWAY_URL: 'https://gw.internal:5003/base',
      BACKENDS: ['http://a:11434', 'http://b:11434'],
      DATABASE_URL: 'postgresql://u@db/corral?schema=chat',
      REDIS_URL: 'rediss://cache:6380/',
    });
    expect(loadConfig('svc', urls, { DATABASE_URL: 'postgres://db/x' }).GATEWAY_URL).toBe(
      'http://127.0.0.1:5003',
    );
  });

  it('names the variable and the kind expected for a URL of the wrong kind', () => {
    let problems: string[] = [];
    try {
      loadConfig('svc', urls, {
        GATEWAY_URL: 'ftp://gw',
        BACKENDS: 'http://a:11434,http://',
        DATABASE_URL: 'mysql://db',
        REDIS_URL: 'http://cache',
      });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      'GATEWAY_URL: expected an http(s):// URL, received "ftp://gw"',
      'BACKENDS: expected an http(s):// URL, received "http://a:11434,http://"',
      'DATABASE_URL: expected a postgres:// URL, received "mysql://db"',
      'REDIS_URL: expected a redis:// URL, received "http://cache"',
    ]);
  });

  it('reads body sizes as express does', () => {
    expect([byteSize('1024'), byteSize('512kb'), byteSize('32MB'), byteSize('7b')]).toEqual([
      1024,
      512 * 1024,
      32 * 1024 * 1024,
      7,
    ]);
    expect(() => byteSize('1gb')).toThrow(RangeError);
  });
});
