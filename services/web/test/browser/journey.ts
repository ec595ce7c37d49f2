// The "Must show" journey in a real browser (Debian Chromium via playwright-core) against
// the real services and ollama-sim. Run: pnpm --filter @corral/web test:browser (after build).
// Screenshots go to services/web/test-artifacts/.
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, type Page, chromium } from 'playwright-core';
import { ADMIN, startStack } from './stack.js';

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
mkdirSync(artifacts, { recursive: true });
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const user = {
  name: 'Journey User',
  email: `journey-${Date.now()}@corral.test`,
  password: 'journey-password-1',
};

function failOnDialog(page: Page) {
  page.on('dialog', (dialog) => {
    throw new Error(`unexpected dialog: ${dialog.type()} ${dialog.message()}`);
  });
}

async function signIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await run();
  console.log(`✓ ${name} (${Date.now() - started} ms)`);
  return result;
}

async function main() {
  const stack = await startStack();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const base = stack.webUrl;
    const userContext = await browser.newContext({ baseURL: base, viewport: DESKTOP });
    const adminContext = await browser.newContext({ baseURL: base, viewport: DESKTOP });
    const page = await userContext.newPage();
    const adminPage = await adminContext.newPage();
    failOnDialog(page);

    await step('register shows "waiting for approval"', async () => {
      await page.goto('/register');
      await page.getByLabel('Name').fill(user.name);
      await page.getByLabel('Email').fill(user.email);
      await page.locator('input[name=password]').fill(user.password);
      await page.getByRole('button', { name: 'Register' }).click();
      await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    });

    await step('signing in before approval says so', async () => {
      await page.goto('/login');
      await signIn(page, user.email, user.password);
      await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
    });

    await step('an admin approves the account in a second browser context', async () => {
      await adminPage.goto('/login');
      await signIn(adminPage, ADMIN.email, ADMIN.password);
      await adminPage.getByRole('link', { name: 'Admin' }).click();
      await adminPage.getByLabel('Search users').fill(user.email);
      await adminPage.getByRole('button', { name: `Activate ${user.email}` }).click();
      await adminPage.locator(`tr[data-email="${user.email}"] .badge--active`).waitFor();
    });

    await step('the user signs in', async () => {
      await page.goto('/login');
      await signIn(page, user.email, user.password);
      await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    });

    const partial = await step('a message streams token by token and Stop ends it mid-way', async () => {
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill('Tell me a long story about a corral.');
      await composer.press('Enter');
      const reply = page.locator('article.message--assistant').last();
      await page.getByRole('button', { name: /Stop/ }).waitFor();
      // Watch it grow: two different non-empty lengths means tokens arrived one after another.
      const lengths = new Set<number>();
      const deadline = Date.now() + 15_000;
      while (lengths.size < 3 && Date.now() < deadline) {
        const text = (await reply.locator('.message__body').textContent()) ?? '';
        if (text.trim().length > 0) lengths.add(text.length);
        await page.waitForTimeout(150);
      }
      assert.ok(lengths.size >= 3, `reply did not stream (lengths seen: ${[...lengths].join(', ')})`);
      await page.screenshot({ path: path.join(artifacts, 'chat-streaming-desktop-light.png') });
      await page.keyboard.press('Escape');
      await reply.getByText('Stopped — the partial reply above was saved.').waitFor();
      const text = ((await reply.locator('.message__body').textContent()) ?? '').trim();
      assert.ok(text.length > 0, 'the stopped reply kept its partial text');
      return text;
    });

    await step('after a reload both messages and the partial reply are there', async () => {
      await page.reload();
      await page.locator('article.message--user').getByText('Tell me a long story about a corral.').waitFor();
      const reply = page.locator('article.message--assistant').last();
      await reply.getByText('Stopped — the partial reply above was saved.').waitFor();
      const saved = ((await reply.locator('.message__body').textContent()) ?? '').trim();
      assert.ok(
        saved.length > 0 && (saved.startsWith(partial) || partial.startsWith(saved)),
        'saved partial text',
      );
    });

    await step('screenshots: light and dark, desktop and phone', async () => {
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const [label, size] of [
          ['desktop', DESKTOP],
          ['phone', PHONE],
        ] as const) {
          await page.setViewportSize(size);
          await page.screenshot({
            path: path.join(artifacts, `chat-${label}-${scheme}.png`),
            animations: 'disabled',
          });
        }
      }
      await page.setViewportSize(DESKTOP);
      await page.emulateMedia({ colorScheme: 'light' });
    });

    await step('hostile model output renders as text and opens no dialog', async () => {
      const hostile = 'Look: <img src=x onerror=alert(1)> and [click me](javascript:alert(2))';
      // The simulator only speaks lorem ipsum, so this one reply stream is substituted.
      await page.route('**/api/conversations/*/messages', async (route) => {
        if (route.request().method() !== 'POST') return route.fallback();
        const now = new Date().toISOString();
        const message = (id: string, role: string, content: string, status: string) => ({
          id,
          conversationId: 'x',
          parentId: null,
          role,
          content,
          model: 'llama3.2',
          status,
          error: null,
          promptTokens: null,
          completionTokens: null,
          durationMs: null,
          createdAt: now,
        });
        const events = [
          [
            'start',
            {
              userMessage: message('u-x', 'user', 'show me html', 'complete'),
              assistantMessage: message('a-x', 'assistant', '', 'streaming'),
            },
          ],
          ['token', { text: hostile }],
          [
            'done',
            {
              messageId: 'a-x',
              status: 'complete',
              promptTokens: 3,
              completionTokens: 9,
              durationMs: 100,
              tokensPerSecond: 90,
            },
          ],
        ] as const;
        await route.fulfill({
          status: 200,
          headers: { 'Content-Type': 'text/event-stream' },
          body: events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''),
        });
      });
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill('show me html');
      await composer.press('Enter');
      const reply = page.locator('article[data-message-id="a-x"]');
      await reply.getByText('<img src=x onerror=alert(1)>', { exact: false }).waitFor();
      assert.equal(await reply.locator('img').count(), 0, 'no img element');
      const hrefs = await reply
        .locator('a')
        .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      assert.ok(
        hrefs.every((href) => !/script:/i.test(href)),
        `no javascript: href (${hrefs.join(', ')})`,
      );
      await reply.getByText('click me').click();
      await page.waitForTimeout(300);
      await page.unroute('**/api/conversations/*/messages');
    });

    const apiKey = await step('create an API key (shown once)', async () => {
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByLabel('Name').fill('curl from the journey');
      await page.getByRole('button', { name: 'Create key' }).click();
      const key = ((await page.getByTestId('new-api-key').textContent()) ?? '').trim();
      assert.match(key, /^sk-corral-/);
      await page.screenshot({ path: path.join(artifacts, 'settings-api-keys.png') });
      return key;
    });

    await step('the key works with curl against /v1', async () => {
      const { stdout } = await promisify(execFile)('curl', [
        '-sS',
        '--fail-with-body',
        `${base}/v1/chat/completions`,
        '-H',
        `Authorization: Bearer ${apiKey}`,
        '-H',
        'Content-Type: application/json',
        '-d',
        JSON.stringify({ model: 'llama3.2', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
      ]);
      const body = JSON.parse(stdout) as { choices?: Array<{ message?: { content?: string } }> };
      assert.ok(body.choices?.[0]?.message?.content, `curl got a completion: ${stdout.slice(0, 200)}`);
    });

    await step('sign out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
    });
    console.log(`journey passed; screenshots in ${artifacts}`);
  } finally {
    await browser?.close();
    await stack.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
