import { randomBytes } from 'node:crypto';
import { corral } from './stack.js';

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** The `corral_refresh` cookie as a browser would send it back (`name=value`). */
  refreshCookie: string;
  user: { id: string; email: string; role: string; status: string };
}

/** JSON over HTTP to the web origin, the way curl would send it. */
export async function call(
  path: string,
  init: { method?: string; body?: unknown; token?: string; cookie?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.cookie) headers.Cookie = init.cookie;
  const res = await fetch(`${corral().baseUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

/** `name=value` of the refresh cookie in a response's Set-Cookie headers, if any. */
export function refreshCookieFrom(headers: Headers): string | undefined {
  const cookie = headers.getSetCookie().find((line) => line.startsWith('corral_refresh='));
  return cookie?.split(';')[0];
}

export async function login(email: string, password: string): Promise<Session> {
  const res = await call('/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  const cookie = refreshCookieFrom(res.headers);
  if (!cookie) throw new Error('login set no corral_refresh cookie');
  return { ...(res.body as unknown as Omit<Session, 'refreshCookie'>), refreshCookie: cookie };
}

/** Registration does not say who has an account; an admin looks the id up. */
export async function userIdOf(admin: Session, email: string): Promise<string> {
  const found = await call(`/api/auth/admin/users?q=${encodeURIComponent(email)}`, {
    token: admin.accessToken,
  });
  const user = (found.body.items as { id: string; email: string }[] | undefined)?.find(
    (u) => u.email === email,
  );
  if (!user) throw new Error(`no account for ${email}: ${found.status} ${JSON.stringify(found.body)}`);
  return user.id;
}

export const adminSession = (): Promise<Session> => login(corral().admin.email, corral().admin.password);

export const uniqueEmail = (what: string): string => `${what}-${randomBytes(4).toString('hex')}@corral.test`;

/** A new account, registered over HTTP and activated by the admin: what an approved user has. */
export async function activeUser(
  what: string,
): Promise<{ email: string; password: string; session: Session }> {
  const email = uniqueEmail(what);
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const registered = await call('/api/auth/register', { body: { email, password, name: what } });
  if (registered.status !== 202)
    throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const admin = await adminSession();
  const userId = await userIdOf(admin, email);
  const activated = await call(`/api/auth/admin/users/${userId}/activate`, {
    method: 'POST',
    token: admin.accessToken,
  });
  if (activated.status !== 200)
    throw new Error(`activate: ${activated.status} ${JSON.stringify(activated.body)}`);
  return { email, password, session: await login(email, password) };
}

/** An API key made through auth's own route, as the settings page does. */
export async function createApiKey(session: Session, name: string): Promise<string> {
  const res = await call('/api/auth/api-keys', { body: { name }, token: session.accessToken });
  if (res.status !== 201) throw new Error(`create API key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key as string;
}
