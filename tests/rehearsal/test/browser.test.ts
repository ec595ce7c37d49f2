// The browser step needs Chromium: without it the rehearsal fails, naming what is missing.
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('the browser step', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('fails with a clear message when Chromium is absent', async () => {
    vi.stubEnv('CHROMIUM_PATH', '/nonexistent/chromium');
    vi.resetModules();
    const { launchChromium } = await import('../src/browser.js');
    await expect(launchChromium('corral.rehearsal.test')).rejects.toThrow(
      /Chromium not found at \/nonexistent\/chromium: the rehearsal's browser step needs it \(Debian: apt-get install chromium, or set CHROMIUM_PATH\)/,
    );
  });
});
