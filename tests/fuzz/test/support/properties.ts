import fc from 'fast-check';
import {
  type ErrorShape,
  type Fields,
  describeRequest,
  expectNoServerError,
  expectRejected,
  fuzzParams,
  invalidBody,
  invalidObjectText,
  oddContentType,
  oddHeaderValue,
  oddQuery,
} from './fuzz.js';
import { type RawRequest, send } from './http.js';

export interface BodyRoute {
  method: 'POST' | 'PUT' | 'PATCH';
  path: string;
  fields: Fields;
  shape: ErrorShape;
  /** Bearer token sent with every request (none: an anonymous route). */
  token?: string;
  numRuns?: number;
  /**
   * `{}` (or no body) is a valid request here: only non-empty JSON-typed bodies are sent, since an
   * unread body is treated as none.
   */
  emptyIsValid?: boolean;
  /**
   * Only JSON the parser accepts (wrong types, nesting, pollution keys): for routes whose parser
   * errors are checked on their own.
   */
  parsableOnly?: boolean;
}

/** Headers a client may add: request ids, accept, cookies, forwarding, all attacker-chosen. */
const headerNoise = (): fc.Arbitrary<Record<string, string>> =>
  fc.record(
    {
      'x-request-id': oddHeaderValue(),
      accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'application/json;q=0', ''),
      cookie: fc.oneof(oddHeaderValue(), fc.constant('corral_refresh=%ZZ; corral_refresh=x')),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1', ''),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', '*'),
    },
    { requiredKeys: [] },
  );

const contentType = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: oddContentType() },
  );

/** Every body is invalid by construction: the answer is 4xx in the route family's error shape. */
export async function fuzzInvalidBodies(base: string, route: BodyRoute): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      route.parsableOnly
        ? invalidObjectText(route.fields).map((text) => Buffer.from(text, 'utf8'))
        : invalidBody(route.fields).filter(
            (body) => !route.emptyIsValid || body.toString('utf8').trim() !== '',
          ),
      route.emptyIsValid || route.parsableOnly ? fc.constant('application/json') : contentType(),
      headerNoise(),
      async (body, type, noise) => {
        const headers: Record<string, string> = { ...noise };
        if (type !== undefined) headers['content-type'] = type;
        if (route.token) headers.authorization = `Bearer ${route.token}`;
        const req: RawRequest = { method: route.method, path: route.path, headers, body };
        expectRejected(await send(base, req), route.shape, describeRequest(req));
      },
    ),
    fuzzParams(route.numRuns ?? 60),
  );
}

export interface ReadRoute {
  path: string;
  queryNames: string[];
  shape: ErrorShape;
  token?: string;
  numRuns?: number;
}

/** Hostile query strings and headers on a read route: never a 5xx, errors in the family's shape. */
export async function fuzzQueries(base: string, route: ReadRoute): Promise<void> {
  await fc.assert(
    fc.asyncProperty(oddQuery(route.queryNames), headerNoise(), async (query, noise) => {
      const headers: Record<string, string> = { ...noise };
      if (route.token) headers.authorization = `Bearer ${route.token}`;
      const req: RawRequest = { method: 'GET', path: `${route.path}?${query}`, headers };
      expectNoServerError(await send(base, req), route.shape, describeRequest(req));
    }),
    fuzzParams(route.numRuns ?? 50),
  );
}

/** Hostile Authorization headers: always 401 (or 400 for a malformed header), never a 5xx. */
export async function fuzzAuthorization(
  base: string,
  req: Omit<RawRequest, 'headers'>,
  shape: ErrorShape,
  numRuns = 40,
): Promise<void> {
  const authorization = fc.oneof(
    oddHeaderValue(),
    fc.string({ maxLength: 200 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, 'x')}`),
    fc
      .array(fc.base64String({ maxLength: 60 }), { minLength: 3, maxLength: 3 })
      .map((parts) => `Bearer ${parts.join('.').replace(/=/g, '')}`),
    fc.string({ maxLength: 60 }).map((s) => `Bearer sk-corral-${s.replace(/[^\x21-\x7e]/g, 'x')}`),
  );
  await fc.assert(
    fc.asyncProperty(authorization, async (value) => {
      const full: RawRequest = {
        ...req,
        headers: {
          authorization: value,
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      };
      const reply = await send(base, full);
      expectRejected(reply, shape, describeRequest(full));
      if (reply.status !== 400) {
        if (reply.status !== 401)
          throw new Error(`expected 401, got ${reply.status}: ${describeRequest(full)}`);
      }
    }),
    fuzzParams(numRuns),
  );
}

/** Bodies that may well be valid but carry odd values: never a 5xx (stored data may change). */
export async function fuzzOddValues(
  base: string,
  route: Omit<BodyRoute, 'fields'> & { body: fc.Arbitrary<unknown> },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(route.body, async (value) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (route.token) headers.authorization = `Bearer ${route.token}`;
      const req: RawRequest = {
        method: route.method,
        path: route.path,
        headers,
        body: JSON.stringify(value),
      };
      expectNoServerError(await send(base, req), route.shape, describeRequest(req));
    }),
    fuzzParams(route.numRuns ?? 40),
  );
}
