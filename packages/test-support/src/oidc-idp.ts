// A real OpenID Provider for tests: oidc-provider (a certified OP) on an ephemeral port, with a
// client for Corral and accounts the test edits between sign-ins (groups, email verification).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, IdpAccount>;
  close(): Promise<void>;
}

export const OTHER_CLIENT_ID = 'another-application';

/** Where Corral is reached (its PUBLIC_URL): the client's redirect URI and post-logout URI are built from it. */
export async function startIdp(options: { corralUrl: string }): Promise<TestIdp> {
  const corralUrl = options.corralUrl.replace(/\/$/, '');
  const accounts = new Map<string, IdpAccount>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'corral';
  const clientSecret = 'corral-test-client-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${corralUrl}/api/auth/oidc/callback`],
        post_logout_redirect_uris: [`${corralUrl}/login`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      // Another application at the same IdP (same redirect URI registered): its codes and ID tokens are not Corral's.
      {
        client_id: OTHER_CLIENT_ID,
        client_secret: 'another-application-client-secret-0123456789',
        redirect_uris: [`${corralUrl}/api/auth/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['oidc-provider-test-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...account }) };
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One browser without a window: a cookie jar per host, following redirects by hand (`publicUrl` is served by `corralUrl`). */
export class TestBrowser {
  private readonly jars = new Map<string, Map<string, string>>();
  readonly visited: string[] = [];
  /** Every cookie value set, in order (to replay an old one). */
  readonly cookieLog: Array<{ name: string; value: string }> = [];

  constructor(private readonly routes: { publicUrl: string; corralUrl: string }) {}

  private actual(url: URL): URL {
    const publicOrigin = new URL(this.routes.publicUrl).origin;
    if (url.origin !== publicOrigin) return url;
    return new URL(`${url.pathname}${url.search}`, this.routes.corralUrl);
  }

  private jar(url: URL): Map<string, string> {
    let jar = this.jars.get(url.host);
    if (!jar) this.jars.set(url.host, (jar = new Map()));
    return jar;
  }

  cookie(url: string, name: string): string | undefined {
    return this.jar(new URL(url)).get(name);
  }

  setCookie(url: string, name: string, value: string): void {
    this.jar(new URL(url)).set(name, value);
  }

  async request(url: URL, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> {
    const jar = this.jar(url);
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    this.visited.push(url.toString());
    const response = await fetch(this.actual(url), {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.body ? { body: init.body.toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.trim().split('=');
        return (
          (key.toLowerCase() === 'max-age' && Number(val) <= 0) ||
          (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now())
        );
      });
      if (expired || value === '') jar.delete(name);
      else {
        jar.set(name, value);
        this.cookieLog.push({ name, value });
      }
    }
    return response;
  }

  /** Follows redirects from `start`; at the IdP's login and consent pages signs in as `login`. Returns the last URL. */
  async signIn(start: string, login: string): Promise<URL> {
    let url = new URL(start);
    let response = await this.request(url);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        url = new URL(location, url);
        if (url.origin === new URL(this.routes.publicUrl).origin && !url.pathname.startsWith('/api/'))
          return url;
        response = await this.request(url);
        continue;
      }
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (!action || !prompt)
        throw new Error(`stuck at ${url.toString()} (${response.status}): ${html.slice(0, 300)}`);
      const body = new URLSearchParams({ prompt });
      if (prompt === 'login') {
        body.set('login', login);
        body.set('password', 'any');
      }
      url = new URL(action, url);
      response = await this.request(url, { method: 'POST', body });
    }
    throw new Error('too many redirects');
  }
}
