import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ZodType } from 'zod';

/** What a route answers, by the schemas in @corral/contracts. */
export interface ContractRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | '*';
  /** An express-style path (`/api/conversations/:id`); a trailing `/*` matches anything below. */
  path: string;
  /**
   * The JSON body of a success. `null`: a format this repo does not own (Ollama's, OpenAI's,
   * Prometheus text), or no body the callers read.
   */
  body: ZodType | null;
  /** text/event-stream: the schema of each event's JSON `data`, by event name. */
  events?: Record<string, ZodType>;
  /** application/x-ndjson: the schema of each line. */
  lines?: ZodType;
  /**
   * The JSON body of an error that is not problem+json (a wire format's own errors); `null`: a
   * route whose errors are not a Corral view (a probe's JSON). Unset: errors are problem+json.
   */
  errors?: ZodType | null;
}

/** service-kit's probes (a 503 is their own JSON, not a problem) and Prometheus text: no Corral view. */
export const PROBE_ROUTES: readonly ContractRoute[] = [
  '/healthz',
  '/health',
  '/readyz',
  '/ready',
  '/metrics',
].map((path) => ({ method: 'GET', path, body: null, errors: null }));

export interface ContractViolation {
  request: string;
  status: number;
  problem: string;
}

/**
 * Checks every response a service sends in a test against its contract: the app is wrapped where
 * the test serves it, so whatever sends the request (supertest, fetch, an SDK) is covered.
 * problem+json bodies, on any route, are checked against `problem` (contracts' `problemDetails`).
 */
export class ContractCheck {
  readonly violations: ContractViolation[] = [];
  /** Responses checked, by `METHOD path-pattern status`. */
  readonly checked = new Map<string, number>();
  private readonly compiled: Array<{ route: ContractRoute; pattern: RegExp }>;

  constructor(
    routes: readonly ContractRoute[],
    private readonly problem: ZodType,
  ) {
    this.compiled = routes.map((route) => ({ route, pattern: compilePath(route.path) }));
  }

  /** The request listener, answering as before, with every response recorded and checked. */
  wrap(app: RequestListener): RequestListener {
    return (req, res) => {
      this.observe(req, res);
      app(req, res);
    };
  }

  /** Throws (and forgets them) if any response so far broke its contract. */
  assertClean(): void {
    const found = this.violations.splice(0);
    if (found.length === 0) return;
    const lines = found.map((v) => `  ${v.request} → ${v.status}: ${v.problem}`);
    throw new Error(`responses that break their contract (@corral/contracts):\n${lines.join('\n')}`);
  }

  routeFor(method: string, path: string): ContractRoute | undefined {
    return this.compiled.find(
      ({ route, pattern }) => (route.method === '*' || route.method === method) && pattern.test(path),
    )?.route;
  }

  private observe(req: IncomingMessage, res: ServerResponse): void {
    // Read now: express rewrites req.url inside mounted routers.
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(
        Buffer.isBuffer(chunk)
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk)
            : Buffer.from(
                String(chunk),
                typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
              ),
      );
    };
    // Headers given to writeHead directly may bypass getHeader: remember the content type.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((arg) => typeof arg === 'object' && arg !== null);
      if (headers && !Array.isArray(headers)) {
        for (const [name, value] of Object.entries(headers)) {
          if (name.toLowerCase() === 'content-type') contentTypes.set(res, String(value));
        }
      }
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as ServerResponse['write'];
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as ServerResponse['end'];
    let settled = false;
    const settle = (complete: boolean) => {
      if (settled) return;
      settled = true;
      this.check(method, path, res, Buffer.concat(chunks).toString('utf8'), complete);
    };
    res.once('finish', () => settle(true));
    res.once('close', () => settle(res.writableFinished));
  }

  private check(method: string, path: string, res: ServerResponse, text: string, complete: boolean): void {
    const status = res.statusCode;
    const request = `${method} ${path}`;
    const violation = (problem: string): void => void this.violations.push({ request, status, problem });
    const route = this.routeFor(method, path);
    const type = String(res.getHeader('content-type') ?? contentTypes.get(res) ?? '');
    this.checked.set(
      `${method} ${route?.path ?? path} ${status}`,
      (this.checked.get(`${method} ${route?.path ?? path} ${status}`) ?? 0) + 1,
    );
    if (method === 'HEAD' || status === 204 || status === 304 || text === '') return;

    if (type.startsWith('application/problem+json')) {
      if (complete) expectJson(this.problem, text, violation);
      return;
    }
    if (type.startsWith('text/event-stream')) {
      if (!route) return violation('an event stream from a route with no contract');
      if (route.events) checkEvents(route.events, text, violation);
      else if (route.body !== null) violation('an event stream where the contract has a JSON body');
      return;
    }
    if (type.startsWith('application/x-ndjson')) {
      if (!route) return violation('NDJSON from a route with no contract');
      if (route.lines) checkLines(route.lines, text, complete, violation);
      else if (route.body !== null) violation('NDJSON where the contract has a JSON body');
      return;
    }
    if (!type.includes('json') || !complete) return;
    if (status >= 400) {
      if (route?.errors === null) return;
      if (route?.errors) expectJson(route.errors, text, violation);
      else violation(`an error as ${type || 'no type'}, not application/problem+json`);
      return;
    }
    if (!route) return violation('JSON from a route with no contract');
    if (route.body) expectJson(route.body, text, violation);
  }
}

const contentTypes = new WeakMap<ServerResponse, string>();

export const contractCheck = (routes: readonly ContractRoute[], problem: ZodType): ContractCheck =>
  new ContractCheck(routes, problem);

function compilePath(path: string): RegExp {
  const prefix = path.endsWith('/*');
  const base = prefix ? path.slice(0, -2) : path;
  const source = base
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}${prefix ? '(?:/.*)?' : '/?'}$`);
}

function describeIssues(error: { issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }> }) {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

function expectJson(
  schema: ZodType,
  text: string,
  violation: (problem: string) => void,
  what = 'body',
): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    violation(`the ${what} is not JSON: ${text.slice(0, 120)}`);
    return;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) violation(`${what}: ${describeIssues(parsed.error)}`);
}

/** Complete events only (each ends with a blank line): a stream cut short is checked as far as it got. */
function checkEvents(schemas: Record<string, ZodType>, text: string, violation: (problem: string) => void) {
  const blocks = text.split(/\r\n\r\n|\n\n|\r\r/);
  blocks.pop();
  for (const block of blocks) {
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) continue;
    const schema = schemas[name];
    if (!schema) violation(`an event "${name}" the contract does not name`);
    else expectJson(schema, data.join('\n'), violation, `event "${name}"`);
  }
}

function checkLines(schema: ZodType, text: string, complete: boolean, violation: (problem: string) => void) {
  const lines = text.split('\n');
  const last = lines.pop();
  if (complete && last) lines.push(last);
  for (const line of lines) {
    if (line.trim() !== '') expectJson(schema, line, violation, 'line');
  }
}
