// The web issue's journey in Chromium against the stack `corral start` runs: register → an admin
// approves in a second browser context → sign in → a reply streams → Esc stops it → a reload
// shows what was saved → hostile model output stays text → an API key works → the admin's usage
// view names the user by email → sign out.
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import {
  DESKTOP,
  PHONE,
  fulfilReplyStream,
  signIn,
  stackContext,
  useChromium,
  useSimulatorPace,
  watchForTrouble,
} from './support/browser.js';
import { uniqueEmail } from './support/accounts.js';
import { corral } from './support/stack.js';

const SIMULATOR_NOTICE = 'Simulator — replies are generated text, not a model';
const STOPPED_NOTE = 'Stopped — the partial reply above was saved.';
const QUESTION = 'Tell me a long story about a corral.';
const user = { name: 'Journey User', email: uniqueEmail('journey'), password: 'journey-password-1' };

let userContext: BrowserContext;
let adminContext: BrowserContext;
let page: Page;
let trouble: ReturnType<typeof watchForTrouble>;
let partial = '';
let apiKey = '';

const screenshot = (name: string) =>
  page.screenshot({ path: path.join(corral().artifactsDir, `${name}.png`), animations: 'disabled' });
const lastReply = () => page.locator('article.message--assistant').last();
const replyText = async () => ((await lastReply().locator('.message__body').textContent()) ?? '').trim();

// Replies paced so a person could press Stop.
useSimulatorPace({ tokensPerSecond: 12, responseTokens: 400 });
useChromium(async (browser) => {
  userContext = await stackContext(browser);
  adminContext = await stackContext(browser);
  page = await userContext.newPage();
  trouble = watchForTrouble(page);
});

describe('the chat app in a browser', () => {
  it('register shows "waiting for approval", and signing in before approval says so', async () => {
    await page.goto('/register');
    await page.getByLabel('Name').fill(user.name);
    await page.getByLabel('Email').fill(user.email);
    await page.locator('input[name=password]').fill(user.password);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();

    await page.goto('/login');
    await signIn(page, user.email, user.password);
    await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
  });

  it('an admin approves the account in a second browser context', async () => {
    const adminPage = await adminContext.newPage();
    await adminPage.goto('/login');
    await signIn(adminPage, corral().admin.email, corral().admin.password);
    await adminPage.getByRole('link', { name: 'Admin' }).click();
    await adminPage.getByLabel('Search users').fill(user.email);
    await adminPage.getByRole('button', { name: `Activate ${user.email}` }).click();
    await adminPage.locator(`tr[data-email="${user.email}"] .badge--active`).waitFor();
    await adminPage.close();
  });

  it('the user signs in and the app says replies come from the simulator', async () => {
    await page.goto('/login');
    await page.getByRole('note').filter({ hasText: SIMULATOR_NOTICE }).waitFor();
    await signIn(page, user.email, user.password);
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    const notice = page.getByRole('note').filter({ hasText: SIMULATOR_NOTICE });
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.getAttribute('title')).toBe(corral().inference.label);
  });

  it('a message streams token by token, and Esc stops it mid-way with the partial reply kept', async () => {
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill(QUESTION);
    await composer.press('Enter');
    await page.getByRole('button', { name: /Stop/ }).waitFor();

    // The reply grows at least twice while we watch: tokens arrive one after another.
    const body = await lastReply().locator('.message__body').elementHandle();
    let length = 0;
    for (let grown = 0; grown < 3; grown += 1) {
      await page.waitForFunction(({ node, min }) => (node?.textContent?.trim().length ?? 0) > min, {
        node: body,
        min: length,
      });
      const next = (await replyText()).length;
      expect(next).toBeGreaterThan(length);
      length = next;
    }
    await screenshot('chat-streaming-desktop-light');

    await page.keyboard.press('Escape');
    await lastReply().getByText(STOPPED_NOTE).waitFor();
    partial = await replyText();
    expect(partial.length).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: /Stop/ }).count()).toBe(0);
  });

  it('after a reload both messages are there, the stopped reply with its partial text', async () => {
    await page.reload();
    await page.locator('article.message--user').getByText(QUESTION).waitFor();
    await lastReply().getByText(STOPPED_NOTE).waitFor();
    const saved = await replyText();
    expect(saved.length).toBeGreaterThan(0);
    // The server may have saved a token that was still on its way to the page when Stop landed.
    expect(saved.startsWith(partial) || partial.startsWith(saved)).toBe(true);
  });

  it('Regenerate makes a second branch; the first one, switched back to, is still shown after a reload', async () => {
    const first = await replyText();
    const firstId = await lastReply().getAttribute('data-message-id');
    await lastReply().getByRole('button', { name: 'Regenerate' }).click();
    await page.getByRole('button', { name: /Stop/ }).waitFor();
    // Esc only once the new reply (not the stopped one still on screen) has text of its own.
    await page.waitForFunction((previousId) => {
      const replies = document.querySelectorAll('article.message--assistant');
      const last = replies[replies.length - 1];
      return (
        last !== undefined &&
        last.getAttribute('data-message-id') !== previousId &&
        (last.querySelector('.message__body')?.textContent ?? '').trim().length > 0
      );
    }, firstId);
    await page.keyboard.press('Escape');
    await lastReply().getByText(STOPPED_NOTE).waitFor();
    const branches = lastReply().getByLabel('Branches');
    await branches.getByText('2/2').waitFor();

    const saved = page.waitForResponse(
      (res) => res.request().method() === 'PATCH' && /\/api\/conversations\/[^/]+$/.test(res.url()),
    );
    await branches.getByRole('button', { name: 'Previous branch' }).click();
    expect((await saved).status()).toBe(200);
    await branches.getByText('1/2').waitFor();
    expect(await replyText()).toBe(first);

    await page.reload();
    await lastReply().getByLabel('Branches').getByText('1/2').waitFor();
    expect(await replyText()).toBe(first);
  });

  it('screenshots: light and dark, desktop and phone; the composer hint fits a phone', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [label, size] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        await page.setViewportSize(size);
        const composer = page.getByLabel('Message', { exact: true });
        // The placeholder's text must fit the box it is shown in (it used to be cut off on phones).
        // The placeholder follows a media query's change event and a render, so the resize
        // takes a frame or two to reach it: measure until it settles (or the wait runs out).
        const measure = () =>
          composer.evaluate((node) => {
            const area = node as HTMLTextAreaElement;
            const style = getComputedStyle(area);
            const context = document.createElement('canvas').getContext('2d')!;
            context.font = style.font;
            const room = area.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return {
              placeholder: area.placeholder,
              width: context.measureText(area.placeholder).width,
              room,
            };
          });
        let fit = await measure();
        await vi
          .waitFor(
            async () => {
              fit = await measure();
              if (fit.width > fit.room) throw new Error('placeholder wider than the composer');
            },
            { timeout: 3_000, interval: 50 },
          )
          .catch(() => undefined);
        expect(fit.placeholder).not.toBe('');
        expect(fit.width, `"${fit.placeholder}" fits the ${label} composer`).toBeLessThanOrEqual(fit.room);
        await page.getByRole('note').filter({ hasText: SIMULATOR_NOTICE }).waitFor();
        await screenshot(`chat-${label}-${scheme}`);
      }
    }
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('hostile model output renders as text: no <img>, no javascript: link, no dialog', async () => {
    const hostile = 'Look: <img src=x onerror=alert(1)> and [click me](javascript:alert(2))';
    const pattern = '**/api/conversations/*/messages';
    await page.route(pattern, (route) =>
      route.request().method() === 'POST'
        ? fulfilReplyStream(route, { id: 'hostile-reply', prompt: 'show me html', text: hostile })
        : route.fallback(),
    );
    try {
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill('show me html');
      await composer.press('Enter');
      const reply = page.locator('article[data-message-id="hostile-reply"]');
      await reply.getByText('<img src=x onerror=alert(1)>', { exact: false }).waitFor();
      expect(await reply.locator('img').count()).toBe(0);
      const hrefs = await reply
        .locator('a')
        .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      expect(hrefs.filter((href) => /script:/i.test(href))).toEqual([]);
      const before = page.url();
      await reply.getByText('click me').click();
      // A round trip through the page's event loop: any alert() would have been raised by now.
      await page.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))),
      );
      expect(page.url()).toBe(before);
      expect(trouble.dialogs).toEqual([]);
    } finally {
      await page.unroute(pattern);
    }
  });

  it('math in a reply is typeset (KaTeX MathML) with no CSP violation, and prices stay text', async () => {
    const text = 'The area is $x^2$, not $5 or $10:\n\n$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$';
    const pattern = '**/api/conversations/*/messages';
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`),
      );
    });
    await page.route(pattern, (route) =>
      route.request().method() === 'POST'
        ? fulfilReplyStream(route, { id: 'math-reply', prompt: 'show me math', text })
        : route.fallback(),
    );
    try {
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill('show me math');
      await composer.press('Enter');
      const reply = page.locator('article[data-message-id="math-reply"]');
      await reply.locator('math[display="block"]').waitFor();
      expect(await reply.locator('.katex math').count()).toBe(2);
      expect(await reply.locator('.message__body').textContent()).toContain('not $5 or $10:');
      const layout = await reply.evaluate((node) => {
        const inline = node.querySelector('p math')!.getBoundingClientRect();
        const block = node.querySelector('math[display="block"]')!.getBoundingClientRect();
        const fraction = node.querySelector('math[display="block"] mfrac')!.getBoundingClientRect();
        return {
          inline: inline.width > 0 && inline.height > 0,
          // A real fraction: numerator over denominator, taller than one line of the inline math.
          fractionTaller: fraction.height > inline.height,
          blockBelowInline: block.top >= inline.bottom,
          violations: (window as unknown as { cspViolations: string[] }).cspViolations,
        };
      });
      expect(layout).toEqual({ inline: true, fractionTaller: true, blockBelowInline: true, violations: [] });
      await screenshot('chat-math');
    } finally {
      await page.unroute(pattern);
    }
  });

  it('creates an API key, shown once', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Name').fill('fetch from the journey');
    await page.getByRole('button', { name: 'Create key' }).click();
    apiKey = ((await page.getByTestId('new-api-key').textContent()) ?? '').trim();
    expect(apiKey).toMatch(/^sk-corral-/);
    await screenshot('settings-api-keys');
  });

  it('the key works from outside the browser against /v1 (what curl would send)', async () => {
    const res = await fetch(`${corral().baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text) as { choices?: Array<{ message?: { content?: string } }> };
    expect(body.choices?.[0]?.message?.content?.trim()).toBeTruthy();
  });

  it('Admin → Usage names the user by email (chat-api only knows the id)', async () => {
    const adminPage = await adminContext.newPage();
    try {
      await adminPage.goto('/admin/usage');
      const cell = adminPage.getByRole('table', { name: 'By user' }).getByText(user.email, { exact: true });
      await cell.waitFor();
      expect(await cell.getAttribute('title')).toMatch(/^User id [0-9a-f-]{36}$/);
    } finally {
      await adminPage.close();
    }
  });

  it('signs out, and a reload stays signed out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
    expect(trouble.errors).toEqual([]);
    expect(trouble.dialogs).toEqual([]);
  });
});
