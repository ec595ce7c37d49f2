// Single sign-on in Chromium: the sign-in page's IdP button → the identity provider's own login
// and consent pages (oidc-provider) → back in Corral (first time: waiting for approval; an admin
// activates) → chat → sign out, which also ends the session at the identity provider.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { adminSession, call, userIdOf } from './support/accounts.js';
import { stackContext, useChromium, watchForTrouble } from './support/browser.js';
import { corral } from './support/stack.js';

let page: Page;
let trouble: ReturnType<typeof watchForTrouble>;

const screenshot = (name: string) =>
  page.screenshot({ path: path.join(corral().artifactsDir, `${name}.png`), animations: 'disabled' });
const atCorral = () => page.url().startsWith(corral().baseUrl);

/** Through the IdP's pages as the person would: log in if it asks, consent if it asks, until back at Corral. */
async function passIdentityProvider(): Promise<{ askedToLogIn: boolean }> {
  let askedToLogIn = false;
  for (let step = 0; step < 4; step += 1) {
    await page.waitForLoadState('load');
    if (atCorral()) return { askedToLogIn };
    if (await page.locator('input[name=login]').count()) {
      askedToLogIn = true;
      await page.locator('input[name=login]').fill(corral().sso.login);
      await page.locator('input[name=password]').fill('any password the test IdP accepts');
      await Promise.all([page.waitForURL(() => true), page.getByRole('button', { name: 'Sign-in' }).click()]);
    } else if (await page.getByRole('button', { name: 'Continue' }).count()) {
      await Promise.all([
        page.waitForURL(() => true),
        page.getByRole('button', { name: 'Continue' }).click(),
      ]);
    } else {
      await page.waitForURL((url) => url.toString().startsWith(corral().baseUrl));
    }
  }
  throw new Error(`still at the identity provider: ${page.url()}`);
}

useChromium(async (browser) => {
  page = await (await stackContext(browser)).newPage();
  trouble = watchForTrouble(page);
});

describe('single sign-on in a browser', () => {
  it('the sign-in page offers the identity provider next to the password form', async () => {
    await page.goto('/login');
    await page.getByRole('link', { name: corral().sso.buttonLabel }).waitFor();
    expect(await page.getByLabel('Password').isVisible()).toBe(true);
    await screenshot('sso-sign-in');
  });

  it('a first sign-in through the IdP makes a pending account, and the page says so', async () => {
    await page.getByRole('link', { name: corral().sso.buttonLabel }).click();
    await page.waitForURL((url) => url.toString().startsWith(corral().sso.issuer));
    expect((await passIdentityProvider()).askedToLogIn).toBe(true);
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login/error');
    await screenshot('sso-pending');
  });

  it('once an admin activates it, the IdP sign-in lands in the chat, and a reply comes', async () => {
    const admin = await adminSession();
    const userId = await userIdOf(admin, corral().sso.email);
    const activated = await call(`/api/auth/admin/users/${userId}/activate`, {
      method: 'POST',
      token: admin.accessToken,
    });
    expect(activated.status).toBe(200);

    await page.getByRole('link', { name: 'Back to sign in' }).click();
    await page.getByRole('link', { name: corral().sso.buttonLabel }).click();
    // Still signed in at the IdP: it sends the browser straight back.
    await passIdentityProvider();
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();

    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Hello from single sign-on');
    await composer.press('Enter');
    const reply = page.locator('article.message--assistant').last().locator('.message__body');
    await page.waitForFunction(
      (node) => (node?.textContent?.trim().length ?? 0) > 0,
      await reply.elementHandle(),
    );
    await screenshot('sso-chat');

    const audit = await call('/api/auth/admin/audit?action=user.sign_in&limit=20', {
      token: admin.accessToken,
    });
    const items = audit.body.items as Array<{
      outcome: string;
      targetId: string | null;
      details: { via?: string } | null;
    }>;
    expect(
      items.some(
        (event) => event.targetId === userId && event.outcome === 'success' && event.details?.via === 'oidc',
      ),
    ).toBe(true);
  });

  it('signing out ends the IdP session too: the next sign-in asks for the password again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.toString().startsWith(corral().sso.issuer));
    // oidc-provider's own "sign out?" page (RP-initiated logout).
    await page.getByRole('button', { name: /Yes, sign me out/ }).click();
    await page.waitForURL((url) => url.toString().startsWith(`${corral().baseUrl}/login`));
    await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();

    await page.getByRole('link', { name: corral().sso.buttonLabel }).click();
    await page.waitForURL((url) => url.toString().startsWith(corral().sso.issuer));
    await page.locator('input[name=login]').waitFor();
    expect(trouble).toEqual({ dialogs: [], errors: [] });
  });
});
