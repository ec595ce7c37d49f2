import fc from 'fast-check';
import { expect } from 'vitest';
import { sql } from '@corral/test-support';
import type { RawRequest, Reply } from './http.js';
import { send } from './http.js';

/** The error body a route family answers with. */
export type ErrorShape = 'problem' | 'openai' | 'ollama';

/** What a field accepts; anything else is a wrong type. */
export type Kind =
  | 'string'
  | 'nullableString'
  | 'boolean'
  | 'number'
  | 'nullableNumber'
  | 'stringArray'
  | 'nullableStringArray'
  | 'object'
  | 'array';

export interface FieldSpec {
  kind: Kind;
  /** Longest string the route accepts for it (a longer one is invalid). */
  max?: number;
}

export type Fields = Record<string, FieldSpec>;

/** fast-check settings: FUZZ_SEED replays a failure; the seed is printed in every failure message. */
export const fuzzParams = (numRuns: number): fc.Parameters<unknown> => {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return { numRuns, ...(seed === undefined ? {} : { seed }), endOnFailure: true };
};

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Strings that have broken parsers, databases and loggers before. */
export const ODD_STRINGS = [
  '',
  ' ',
  '\ud800',
  'x\udfffy',
  '\u202etxt.exe',
  '\ufeff',
  '\u200b\u200c\u200d',
  'e\u0301\u0301\u0301',
  '𝕏🏳️‍🌈👩‍👩‍👧‍👦',
  '\uffff\ufffe',
  '%00%ff%',
  '../../../../etc/passwd',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '\\u0000',
  '\r\n\r\nX-Injected: 1',
  'ＡＤＭＩＮ',
  'NaN',
  '-0',
  '1e309',
  '[object Object]',
];

/** NUL characters: PostgreSQL text cannot hold them, so services must refuse them with a 4xx. */
export const NUL_STRINGS = ['\u0000', 'a\u0000b', 'admin\u0000@fuzz.test'];

/** Any string: short unicode (lone surrogates included), the odd list with NULs, or long repeats. */
export const oddString = (withNul = true): fc.Arbitrary<string> => {
  const arb = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS, ...(withNul ? NUL_STRINGS : [])) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('a', 'é', '𝕏', '\ud800'), fc.integer({ min: 200, max: 5000 }))
        .map(([s, n]) => s.repeat(n)),
    },
  );
  return withNul ? arb : arb.map((value) => value.replaceAll('\u0000', ' '));
};

/** A JSON value of any type, with odd strings and prototype-pollution keys inside. */
export const anyJson = (): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      oddString(true),
      fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
      fc.integer(),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), tie('value'), {
        maxKeys: 4,
      }),
    ),
  })).value;

function wrongValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const str = oddString(true);
  const num = fc.oneof(fc.integer(), fc.double({ noNaN: true }));
  const obj = fc.oneof(
    fc.constant({}),
    fc.dictionary(fc.constantFrom(...PROTO_KEYS, 'a'), anyJson(), { maxKeys: 3 }),
  );
  const arr = fc.array(anyJson(), { maxLength: 3 });
  const bool = fc.boolean();
  const tooLong = spec.max === undefined ? [] : [fc.constant('x'.repeat(spec.max + 1))];
  switch (spec.kind) {
    case 'string':
      return fc.oneof(num, bool, fc.constant(null), arr, obj, ...tooLong);
    case 'nullableString':
      return fc.oneof(num, bool, arr, obj, ...tooLong);
    case 'boolean':
      return fc.oneof(str, num, fc.constant(null), arr, obj);
    case 'number':
      return fc.oneof(str, bool, fc.constant(null), arr, obj);
    case 'nullableNumber':
      return fc.oneof(str, bool, arr, obj);
    case 'stringArray':
      return fc.oneof(
        str,
        num,
        bool,
        fc.constant(null),
        obj,
        fc.array(fc.oneof(num, bool, obj), { minLength: 1 }),
      );
    case 'nullableStringArray':
      return fc.oneof(str, num, bool, obj, fc.array(fc.oneof(num, bool, obj), { minLength: 1 }));
    case 'object':
      return fc.oneof(str, num, bool, arr);
    case 'array':
      return fc.oneof(str, num, bool, obj);
  }
}

/** Deeply nested JSON text: `[[[…]]]` or `{"a":{"a":…}}`, 1,000 to 20,000 levels. */
export const deepJson = (): fc.Arbitrary<string> =>
  fc
    .tuple(fc.boolean(), fc.integer({ min: 1000, max: 20_000 }))
    .map(([arrays, depth]) =>
      arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    );

const key = (name: string) => JSON.stringify(name);

/**
 * A JSON object text that the route must reject: at least one declared field has a wrong type
 * (possibly deeply nested, possibly sent twice with the bad copy last), surrounded by random extra
 * and prototype-pollution keys.
 */
export function invalidObjectText(fields: Fields): fc.Arbitrary<string> {
  const names = Object.keys(fields);
  return fc
    .record({
      bad: fc.constantFrom(...names),
      badValue: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: deepJson() },
      ),
      others: fc.subarray(names),
      values: fc.array(anyJson(), { minLength: names.length, maxLength: names.length }),
      extras: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 6 })), anyJson()),
        {
          maxLength: 3,
        },
      ),
      duplicate: fc.boolean(),
      seed: fc.integer(),
    })
    .chain((r) =>
      wrongValue(fields[r.bad] as FieldSpec).map((wrong) => {
        const entries: string[] = [];
        for (const [i, name] of names.entries()) {
          if (name === r.bad || !r.others.includes(name)) continue;
          entries.push(`${key(name)}:${JSON.stringify(r.values[i] ?? null) ?? 'null'}`);
        }
        for (const [name, value] of r.extras) {
          // Extra keys must not overwrite the bad field (the parser keeps the last copy).
          if (name !== r.bad) entries.push(`${key(name)}:${JSON.stringify(value) ?? 'null'}`);
        }
        if (r.duplicate) entries.unshift(`${key(r.bad)}:"valid-looking"`);
        const badText = r.badValue ?? JSON.stringify(wrong);
        entries.push(`${key(r.bad)}:${badText}`);
        return `{${entries.join(',')}}`;
      }),
    );
}

/** Bytes that are not valid UTF-8: overlong forms, lone continuation bytes, encoded surrogates, 0xFF. */
export const invalidUtf8 = (): fc.Arbitrary<Buffer> =>
  fc
    .array(
      fc.constantFrom(
        [0xff],
        [0xfe, 0xff],
        [0xc0, 0xaf],
        [0x80],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xe2, 0x82],
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => Buffer.from(parts.flat()));

/** Text that JSON.parse refuses. */
export const malformedJson = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      '{',
      '{"a":}',
      "{'a':1}",
      '{"a":1,}',
      '{"a":NaN}',
      '{"a":1} {"b":2}',
      '/* c */{}',
      '{"a":"\\x00"}',
      '{"a":"\\ud800\\u"}',
      'undefined',
      '\u0000',
      '{"a":1',
    ),
    fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
  );

/** A body for a JSON route that can never be valid, as the bytes to send. */
export function invalidBody(fields: Fields): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: invalidObjectText(fields).map((text) => Buffer.from(text, 'utf8')) },
    { weight: 2, arbitrary: malformedJson().map((text) => Buffer.from(text, 'utf8')) },
    // A top-level value of the wrong type.
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('null', '1', '"x"', 'true', '[]', '[{}]', '-0', '1e999')
        .map((text) => Buffer.from(text)),
    },
    // Invalid UTF-8 in an extra key and value in front of an invalid document (splicing it into
    // the declared keys could rename the bad field away and make the body valid).
    {
      weight: 2,
      arbitrary: fc
        .tuple(invalidObjectText(fields), invalidUtf8())
        .map(([text, bad]) =>
          Buffer.concat([
            Buffer.from('{"'),
            bad,
            Buffer.from('":"'),
            bad,
            Buffer.from('",'),
            Buffer.from(text.slice(1)),
          ]),
        ),
    },
  );
}

/** Content types a JSON route may be sent by mistake or malice (the body is valid JSON). */
export const oddContentType = (): fc.Arbitrary<string | undefined> =>
  fc.constantFrom(
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/json; charset=bogus',
    'application/xml',
    'application/json, text/plain',
    '*/*',
    'application/merge-patch+json',
  );

/** Query strings: declared names and prototype keys, repeated, odd and badly percent-encoded values. */
export function oddQuery(names: string[]): fc.Arbitrary<string> {
  const value = fc.oneof(
    oddString().map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))),
    fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%FF%FE', '-1', '0', '1e400', '9'.repeat(30), 'true', '[]'),
  );
  const name = fc.oneof(
    fc.constantFrom(...names, ...PROTO_KEYS, `${names[0] ?? 'a'}[]`, `${names[0] ?? 'a'}[x]`),
    fc.string({ maxLength: 6 }).map(encodeURIComponent),
  );
  return fc
    .array(fc.tuple(name, value), { minLength: 1, maxLength: 6 })
    .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('&'));
}

/** Header values an attacker controls (printable ASCII only: the client library refuses the rest). */
export const oddHeaderValue = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 64,
    }),
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      'Bearer  x',
      'Basic YTpi',
      'bearer a.b.c',
      'Bearer a.b',
      'x'.repeat(8000),
    ),
  );

/** Checks an error answer: the status class and the body's shape for that route family. */
export function expectErrorShape(reply: Reply, shape: ErrorShape, context: string): void {
  const where = `${context}\n→ ${reply.status} ${reply.text.slice(0, 400)}`;
  const type = String(reply.headers['content-type'] ?? '');
  const body = reply.json as Record<string, unknown> | undefined;
  // Node's HTTP parser answers these itself, before any application code runs.
  if (reply.status === 431 || reply.status === 414) return;
  expect(body, `error body is JSON: ${where}`).toBeTypeOf('object');
  if (shape === 'problem') {
    expect(type, `content type: ${where}`).toMatch(/^application\/problem\+json/);
    expect(body, where).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status: reply.status,
      detail: expect.any(String),
      code: expect.any(String),
    });
  } else if (shape === 'openai') {
    expect(type, `content type: ${where}`).toMatch(/^application\/json/);
    expect(body?.error, `OpenAI error object: ${where}`).toMatchObject({
      message: expect.any(String),
      type: expect.any(String),
    });
  } else {
    expect(type, `content type: ${where}`).toMatch(/^application\/json/);
    expect(body?.error, `Ollama error string: ${where}`).toEqual(expect.any(String));
  }
}

/** A rejected request: 4xx in the family's error shape, never 5xx. */
export function expectRejected(reply: Reply, shape: ErrorShape, context: string): void {
  expect(reply.status, `${context}\n→ ${reply.status} ${reply.text.slice(0, 400)}`).toBeGreaterThanOrEqual(
    400,
  );
  expect(reply.status, `${context}\n→ ${reply.status} ${reply.text.slice(0, 400)}`).toBeLessThan(500);
  expectErrorShape(reply, shape, context);
}

/** Any answer but a server error; errors in the family's shape. */
export function expectNoServerError(reply: Reply, shape: ErrorShape, context: string): void {
  expect(reply.status, `${context}\n→ ${reply.status} ${reply.text.slice(0, 400)}`).toBeLessThan(500);
  if (reply.status >= 400) expectErrorShape(reply, shape, context);
}

/** Short, printable description of a request for failure messages. */
export function describeRequest(req: RawRequest): string {
  const body =
    req.body === undefined
      ? ''
      : ` body(${req.body.length}b)=${JSON.stringify(req.body.toString('latin1').slice(0, 300))}`;
  return `${req.method} ${req.path.slice(0, 300)} headers=${JSON.stringify(req.headers ?? {}).slice(0, 300)}${body}`;
}

/** Every service still answers /healthz. */
export async function expectAlive(urls: string[]): Promise<void> {
  for (const url of urls) {
    const reply = await send(url, { method: 'GET', path: '/healthz' });
    expect(reply.status, `${url}/healthz`).toBe(200);
  }
}

/** A user's stored data in both schemas, for before/after comparison. */
export async function snapshotUser(
  userId: string,
  db: { authUrl: string; authSchema: string; chatUrl: string; chatSchema: string },
): Promise<unknown> {
  const a = `"${db.authSchema}"`;
  const c = `"${db.chatSchema}"`;
  const [user, apiKeys, refresh, keys, conversations, messages, usage, limits] = await Promise.all([
    sql(
      `SELECT id, email, password_hash, name, role, status FROM ${a}.users WHERE id = $1`,
      [userId],
      db.authUrl,
    ),
    sql(`SELECT * FROM ${a}.api_keys WHERE user_id = $1 ORDER BY id`, [userId], db.authUrl),
    sql(`SELECT * FROM ${a}.refresh_tokens WHERE user_id = $1 ORDER BY id`, [userId], db.authUrl),
    sql(`SELECT kid, retired_at FROM ${a}.signing_keys ORDER BY kid`, [], db.authUrl),
    sql(`SELECT * FROM ${c}.conversations WHERE user_id = $1 ORDER BY id`, [userId], db.chatUrl),
    sql(
      `SELECT m.* FROM ${c}.messages m JOIN ${c}.conversations v ON v.id = m.conversation_id WHERE v.user_id = $1 ORDER BY m.id`,
      [userId],
      db.chatUrl,
    ),
    sql(`SELECT * FROM ${c}.usage_records WHERE user_id = $1 ORDER BY 1`, [userId], db.chatUrl),
    sql(`SELECT * FROM ${c}.user_limits WHERE user_id = $1`, [userId], db.chatUrl),
  ]);
  return JSON.parse(
    JSON.stringify(
      { user, apiKeys, refresh, keys, conversations, messages, usage, limits },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  );
}
