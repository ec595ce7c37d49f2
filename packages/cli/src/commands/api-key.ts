import { apiKeyScope } from '@corral/contracts';
import { CliError, usageError } from '../errors.js';
import { adminSession, call } from '../admin-session.js';
import { ADMIN_EMAIL } from '../local-state.js';
import { say, warn } from '../output.js';
import { loadTargets, requireServiceUrl } from '../targets.js';
import { type Command, str } from './types.js';

interface PublicUser {
  id: string;
  email: string;
}

export const createApiKeyCommand: Command = {
  name: 'create-api-key',
  summary: "issue an API key for a user (auth's admin API, as the bootstrap admin)",
  usage: `corral create-api-key --user <email> [--name NAME] [--expires-days N] [--models a,b]
                             [--scopes inference,keys,account,admin] [--auth-url URL]

Signs in to auth as the admin and issues a key owned by --user. The key is printed once, alone on
stdout (details go to stderr), so \`KEY=$(corral create-api-key --user …)\` works.
Auth: --auth-url, else AUTH_URL, else the local run.
--scopes: what the key may do (default inference: /v1 and generation); keys, account and admin are
granted by this admin, admin only on an administrator's own key.
Admin: CORRAL_ADMIN_API_KEY or CORRAL_ADMIN_API_KEY_FILE (an admin's key with the admin scope; needed
when PASSWORD_LOGIN_ENABLED=false), else CORRAL_ADMIN_EMAIL / CORRAL_ADMIN_PASSWORD (or _FILE), else
BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD (or _FILE), else the local run's ${ADMIN_EMAIL} and
.corral/admin-password.`,
  options: {
    user: { type: 'string' },
    name: { type: 'string' },
    'expires-days': { type: 'string' },
    models: { type: 'string' },
    scopes: { type: 'string' },
    'auth-url': { type: 'string' },
  },
  async run(values) {
    const email = str(values, 'user');
    if (!email) throw usageError('--user <email> is required');
    const expiresRaw = str(values, 'expires-days');
    let expiresAt: string | undefined;
    if (expiresRaw !== undefined) {
      const days = Number(expiresRaw);
      if (!Number.isFinite(days) || days <= 0)
        throw usageError(`--expires-days must be a positive number, got "${expiresRaw}"`);
      expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
    }
    const models = str(values, 'models')
      ?.split(',')
      .map((model) => model.trim())
      .filter(Boolean);
    const scopesRaw = str(values, 'scopes');
    let scopes: string[] | undefined;
    if (scopesRaw !== undefined) {
      scopes = [...new Set(scopesRaw.split(',').map((scope) => scope.trim()))];
      const unknown = scopes.find((scope) => !apiKeyScope.safeParse(scope).success);
      if (unknown !== undefined)
        throw usageError(
          `--scopes takes ${apiKeyScope.options.join(', ')} (comma-separated), got "${unknown}"`,
        );
    }
    const targets = loadTargets();
    const authUrl = requireServiceUrl(targets, 'auth', str(values, 'auth-url'));
    const { http } = await adminSession(targets, authUrl);
    const page = await call<{ items: PublicUser[] }>(
      http,
      'get',
      `/api/auth/admin/users?q=${encodeURIComponent(email)}&limit=50`,
      'looking up the user',
    );
    const user = page.items.find((item) => item.email.toLowerCase() === email.toLowerCase());
    if (!user) throw new CliError(`no user ${email}`);
    const created = await call<{
      key: string;
      apiKey: { id: string; name: string; expiresAt: string | null };
    }>(http, 'post', `/api/auth/admin/users/${user.id}/api-keys`, 'creating the key', {
      name: str(values, 'name') ?? 'corral-cli',
      ...(models?.length ? { models } : {}),
      ...(expiresAt ? { expiresAt } : {}),
      ...(scopes ? { scopes } : {}),
    });
    warn(
      `created API key "${created.apiKey.name}" (${created.apiKey.id}) for ${user.email}${created.apiKey.expiresAt ? `, expires ${created.apiKey.expiresAt}` : ''}; it is shown only now:`,
    );
    say(created.key);
    return 0;
  },
};
