import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from '../src/config-reference.js';

describe('docs/configuration.md', () => {
  it('matches the services’ environment schemas (run `pnpm docs:config` after changing one)', async () => {
    expect(readFileSync(CONFIG_REFERENCE_PATH, 'utf8')).toBe(await renderConfigReference());
  });

  it('lists every service’s variables, with secrets marked as file-capable', async () => {
    const reference = await renderConfigReference();
    for (const variable of ['DATABASE_URL', 'GATEWAY_URL', 'OLLAMA_URLS', 'SHUTDOWN_GRACE_MS']) {
      expect(reference).toContain(`\`${variable}\``);
    }
    expect(reference).toContain('`SIGNING_KEY_SECRET` (or `SIGNING_KEY_SECRET_FILE`)');
  });

  it('says what the schemas say: required, required in production, or optional', async () => {
    const reference = await renderConfigReference();
    const row = (section: string, variable: string) => {
      const start = reference.indexOf(`## ${section}`);
      const line = reference
        .slice(start)
        .split('\n')
        .find((l) => l.startsWith(`| \`${variable}\``));
      if (!line) throw new Error(`no row for ${variable} under ${section}`);
      return line.split('|')[2]?.trim();
    };
    expect(row('auth', 'REGISTRATION_CODE')).toBe('unset (optional)');
    expect(row('auth', 'BOOTSTRAP_ADMIN_PASSWORD')).toBe('unset (optional)');
    expect(row('auth', 'BOOTSTRAP_ADMIN_API_KEY')).toBe('unset (optional)');
    expect(row('auth', 'SIGNING_KEY_SECRET')).toBe('development default; **required in production**');
    expect(row('chat-api', 'GATEWAY_SERVICE_TOKEN')).toBe('unset (optional)');
    expect(row('inference-gateway', 'GATEWAY_SERVICE_TOKEN')).toBe('unset; **required in production**');
  });
});
