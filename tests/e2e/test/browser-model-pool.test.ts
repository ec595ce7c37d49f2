// Issue 19 item 10 and "pool hygiene" in Chromium against `corral start`: a name Ollama would refuse
// is refused in the form, naming the field; a pulled model stays off users' pickers until the admin
// switches it on in Admin → Model pool; Remove takes it off every backend.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn, stackContext, useChromium } from './support/browser.js';
import { activeUser, adminSession, call } from './support/accounts.js';
import { corral } from './support/stack.js';

const MODEL = 'smollm2:360m';
let page: Page;
let user: Awaited<ReturnType<typeof activeUser>>;

/** The models a user's picker is offered (`GET /api/models`). */
const userModels = async (): Promise<string[]> => {
  const res = await call('/api/models', { token: user.session.accessToken });
  return (res.body.items as Array<{ name: string }>).map((m) => m.name);
};
const gatewayTags = async (): Promise<string[]> => {
  const headers: Record<string, string> = corral().gatewayToken
    ? { Authorization: `Bearer ${corral().gatewayToken}` }
    : {};
  const res = await fetch(`${corral().inference.urls[0]}/api/tags`, { headers });
  return ((await res.json()) as { models: Array<{ name: string }> }).models.map((m) => m.name);
};
const pullForm = () => page.getByRole('form', { name: 'Pull a model' });
const modelRow = () =>
  page.getByRole('table', { name: 'Models in the pool' }).getByRole('row', { name: MODEL });

useChromium(async (browser) => {
  user = await activeUser('pool-user');
  page = await (await stackContext(browser)).newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto('/login');
  await signIn(page, corral().admin.email, corral().admin.password);
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('link', { name: 'Model pool' }).click();
  await pullForm().waitFor();
});

describe('Admin → Model pool', () => {
  it('refuses a name Ollama would refuse, saying which field and why, and pulls nothing', async () => {
    const pulls: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/api/admin/models/pull')) pulls.push(req.url());
    });
    await pullForm().getByLabel('Pull a model onto the pool').fill('definitely not a model!!');
    await pullForm().getByRole('button', { name: 'Pull' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Model name:' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Model name: the model .* may hold only/);
    expect(await pullForm().getByLabel('Pull a model onto the pool').getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(pulls).toEqual([]);
    // chat-api refuses it too (a client that skips the form), naming the field.
    const res = await call('/api/admin/models/pull', {
      token: (await adminSession()).accessToken,
      body: { model: 'definitely not a model!!' },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.errors)).toContain('body.model');
  });

  it('a pulled model reaches users only once switched on, and Remove takes it off every backend', async () => {
    await pullForm().getByLabel('Pull a model onto the pool').fill(MODEL);
    await pullForm().getByRole('button', { name: 'Pull' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${MODEL} is on` })
      .waitFor();
    const toggle = modelRow().getByRole('switch', { name: `${MODEL} available to users` });
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    expect(await gatewayTags()).toContain(MODEL);
    expect(await userModels()).not.toContain(MODEL);

    await toggle.click();
    await page
      .getByRole('status')
      .filter({ hasText: `${MODEL} is available to users.` })
      .waitFor();
    expect(await toggle.isChecked()).toBe(true);
    await expect.poll(userModels, { timeout: 15_000 }).toContain(MODEL);

    await modelRow()
      .getByRole('button', { name: `Remove ${MODEL}` })
      .click();
    await page
      .getByRole('status')
      .filter({ hasText: `${MODEL} was removed from` })
      .waitFor();
    await modelRow().waitFor({ state: 'detached' });
    expect(await gatewayTags()).not.toContain(MODEL);
    await expect.poll(userModels, { timeout: 15_000 }).not.toContain(MODEL);
  });
});
