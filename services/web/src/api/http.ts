import { session as sessionSchema } from '@corral/contracts';
import type { z } from 'zod';
import { ApiError, NetworkError, UnexpectedAnswer, toApiError } from './errors.js';
import type { Session, User } from './types.js';

type Fetch = typeof fetch;

export interface RequestOptions {
  method?: string;
  /** Sent as JSON unless it is FormData/Blob/string. */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  /** Attach the access token (default true). */
  auth?: boolean;
  headers?: Record<string, string>;
}

export interface SessionListener {
  (state: { user: User | null; reason?: 'expired' | 'signed-out' | 'signed-in' | 'refreshed' }): void;
}

/** Refresh this long before the access token expires, so a request never races the expiry. */
const EXPIRY_MARGIN_MS = 30_000;
const REFRESH_PATH = '/api/auth/refresh';

/**
 * The one place that talks HTTP: attaches the access token, refreshes it silently (once, shared
 * by every caller that needs it) before it expires or when a call answers 401, and turns error
 * bodies into `ApiError`s. The access token lives in memory only; the refresh token is an
 * httpOnly cookie the browser sends to /api/auth, which is how a session survives a reload.
 */
export class ApiClient {
  private accessToken: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<boolean> | undefined;
  private readonly listeners = new Set<SessionListener>();
  private readonly fetchImpl: Fetch;

  constructor(
    private readonly baseUrl = '',
    fetchImpl?: Fetch,
    private readonly now: () => number = Date.now,
  ) {
    // Bound so `window.fetch` keeps its receiver.
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  get hasSession(): boolean {
    return this.accessToken !== null;
  }

  onSessionChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stores a fresh session (from login or refresh) and tells listeners who is signed in. */
  acceptSession(
    session: Omit<Session, 'refreshToken' | 'refreshExpiresIn'>,
    reason: 'signed-in' | 'refreshed' = 'signed-in',
  ): void {
    this.accessToken = session.accessToken;
    this.expiresAt = this.now() + session.expiresIn * 1000;
    this.emit({ user: session.user, reason });
  }

  endSession(reason: 'expired' | 'signed-out'): void {
    const had = this.accessToken !== null || reason === 'signed-out';
    this.accessToken = null;
    this.expiresAt = 0;
    if (had) this.emit({ user: null, reason });
  }

  /** Exchanges the refresh cookie for a new access token; concurrent callers share one request. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${REFRESH_PATH}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      });
    } catch (error) {
      throw new NetworkError(undefined, { cause: error });
    }
    if (!res.ok) {
      // 401/403: the refresh token is gone, expired or reused; anything else is a real failure.
      if (res.status === 401 || res.status === 403) {
        this.endSession('expired');
        return false;
      }
      throw await toApiError(res);
    }
    this.acceptSession(await answerOf(sessionSchema, REFRESH_PATH, res), 'refreshed');
    return true;
  }

  /** A JSON call whose answer must match `schema` (its contract in @corral/contracts). */
  async json<Schema extends z.ZodType>(
    schema: Schema,
    path: string,
    options: RequestOptions = {},
  ): Promise<z.output<Schema>> {
    return answerOf(schema, path, await this.send(path, options));
  }

  /** A call whose answer has no body the caller reads (204s, sign-out); resolves to the body as sent. */
  async request(path: string, options: RequestOptions = {}): Promise<unknown> {
    const res = await this.send(path, options);
    if (res.status === 204) return undefined;
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) return res.text();
    return res.json();
  }

  /** The raw response (for streams and downloads), after the same auth and error handling. */
  async send(path: string, options: RequestOptions = {}): Promise<Response> {
    const useAuth = options.auth !== false;
    if (useAuth && this.accessToken && this.now() > this.expiresAt - EXPIRY_MARGIN_MS) {
      await this.refresh();
    }
    let res = await this.attempt(path, options, useAuth);
    if (res.status === 401 && useAuth && this.accessToken !== null) {
      const error = await toApiError(res.clone());
      if (error.code === 'invalid_token' || error.code === 'unauthorized') {
        if (await this.refresh()) res = await this.attempt(path, options, useAuth);
      }
    }
    if (!res.ok) {
      const error = await toApiError(res);
      if (
        error.status === 401 &&
        useAuth &&
        (error.code === 'invalid_token' || error.code === 'unauthorized')
      ) {
        this.endSession('expired');
      }
      throw error;
    }
    return res;
  }

  private async attempt(path: string, options: RequestOptions, useAuth: boolean): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (useAuth && this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    let body: BodyInit | undefined;
    if (
      options.body instanceof FormData ||
      options.body instanceof Blob ||
      typeof options.body === 'string'
    ) {
      body = options.body;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    const init: RequestInit = {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      credentials: 'same-origin',
    };
    if (body !== undefined) init.body = body;
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}${queryString(options.query)}`, init);
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      if (error instanceof ApiError) throw error;
      throw new NetworkError(undefined, { cause: error });
    }
  }

  private emit(state: Parameters<SessionListener>[0]): void {
    for (const listener of this.listeners) listener(state);
  }
}

/** Reads a JSON answer and checks it against its contract: the client never guesses a shape. */
async function answerOf<Schema extends z.ZodType>(
  schema: Schema,
  path: string,
  res: Response,
): Promise<z.output<Schema>> {
  let body: unknown;
  try {
    body = await res.json();
  } catch (error) {
    throw new UnexpectedAnswer(path, 'it is not JSON', { cause: error });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnexpectedAnswer(
      path,
      `${issue?.path.join('.') || 'the body'}: ${issue?.message ?? 'invalid'}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

export function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
