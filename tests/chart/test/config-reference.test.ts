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
});
