import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { ADMIN } from './stack.js';

/** Short keep-alive so a killed server's sockets are never reused. */
export const agent = new Agent({ keepAliveTimeout: 1000, connections: 64 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends bytes exactly as given (no JSON encoding, no content-type added) and reads the whole answer. */
export async function send(base: string, req: RawRequest, timeoutMs = 15_000): Promise<Reply> {
  const res = await request(`${base}${req.path}`, {
    method: req.method as 'GET',
    headers: req.headers ?? {},
    ...(req.body === undefined ? {} : { body: req.body }),
    dispatcher: agent,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** JSON in, JSON out, with an optional bearer token. */
export function call(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return send(base, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    path,
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

export interface User {
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

export async function login(authUrl: string, email: string, password: string): Promise<User> {
  const res = await call(authUrl, '/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
  const body = res.json as { accessToken: string; refreshToken: string; user: { id: string } };
  return { id: body.user.id, email, password, token: body.accessToken, refreshToken: body.refreshToken };
}

export const loginAdmin = (authUrl: string): Promise<User> => login(authUrl, ADMIN.email, ADMIN.password);

/** A new active account (the stack registers users as active). */
export async function signUp(authUrl: string, what: string): Promise<User> {
  const email = `${what}-${randomBytes(4).toString('hex')}@fuzz.test`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const res = await call(authUrl, '/api/auth/register', { body: { email, password, name: what } });
  if (res.status !== 202) throw new Error(`register: ${res.status} ${res.text}`);
  return login(authUrl, email, password);
}

export async function createConversation(chatUrl: string, token: string, title = 'fuzz'): Promise<string> {
  const res = await call(chatUrl, '/api/conversations', { body: { title }, token });
  if (res.status !== 201) throw new Error(`create conversation: ${res.status} ${res.text}`);
  return (res.json as { conversation: { id: string } }).conversation.id;
}

/** Sends a message and reads the SSE reply to its end; returns the raw event stream text. */
export async function chatTurn(chatUrl: string, token: string, conversationId: string, content: string) {
  const res = await call(chatUrl, `/api/conversations/${conversationId}/messages`, {
    body: { content },
    token,
  });
  if (res.status !== 200) throw new Error(`send message: ${res.status} ${res.text}`);
  return res.text;
}
