import { existsSync } from 'node:fs';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
  type Route,
} from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { corral } from './stack.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Debian's Chromium through playwright-core; a missing browser fails the suite, it is never skipped. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser journey needs it (Debian: apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * One Chromium for a test file: launched before its tests, `setup` run once it is up (accounts,
 * contexts, pages), `teardown` and the browser's close after the tests. If Chromium cannot start,
 * every test of the file fails with the reason (a failure, never a skip) and `setup` is not run.
 * Returns the running browser, for contexts a test opens itself.
 */
export function useChromium(
  setup: (browser: Browser) => Promise<void>,
  teardown?: () => Promise<void>,
): () => Browser {
  let browser: Browser | undefined;
  let launchError: unknown;
  beforeAll(async () => {
    try {
      browser = await launchChromium();
    } catch (error) {
      launchError = error;
      return;
    }
    await setup(browser);
  });
  beforeEach(() => {
    if (launchError) throw launchError;
  });
  afterAll(async () => {
    if (browser) await teardown?.();
    await browser?.close();
  });
  return () => {
    if (!browser) throw launchError ?? new Error('Chromium is not running');
    return browser;
  };
}

/** A desktop browser context on the stack's front door; `options` add to or replace the defaults. */
export function stackContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ baseURL: corral().baseUrl, viewport: DESKTOP, ...options });
}

/** Signs `page` in as `account` through the sign-in form and waits for the empty chat. */
export async function signInThroughForm(
  page: Page,
  account: { email: string; password: string },
): Promise<void> {
  await page.goto('/login');
  await signIn(page, account.email, account.password);
  await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
}

/** The simulator's admin endpoint (not Ollama's API): with `body`, changes its options; answers with them. */
async function simConfig(body?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const url = `${corral().inference.urls[0]}/_sim/config`;
  const res = await fetch(url, body ? { method: 'POST', body: JSON.stringify(body) } : {});
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * Paces the simulator's replies for a file's tests (slow enough for a person to act mid-reply)
 * and puts its previous pace back after them.
 */
export function useSimulatorPace(pace: { tokensPerSecond: number; responseTokens: number }): void {
  let before: Record<string, unknown> | undefined;
  beforeAll(async () => {
    before = (await simConfig()).options as Record<string, unknown>;
    await simConfig(pace);
  });
  afterAll(async () => {
    if (!before) return;
    await simConfig({ tokensPerSecond: before.tokensPerSecond, responseTokens: before.responseTokens });
  });
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Collects what a user would see go wrong: dialogs (dismissed) and uncaught page errors. */
export function watchForTrouble(page: Page): { dialogs: string[]; errors: string[] } {
  const seen = { dialogs: [] as string[], errors: [] as string[] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  return seen;
}

/**
 * Answers one POST …/messages with a hand-written reply stream in chat-api's SSE format
 * (ollama-sim only writes lorem ipsum, and this reply must contain hostile markup).
 */
export async function fulfilReplyStream(route: Route, reply: { id: string; prompt: string; text: string }) {
  const now = new Date().toISOString();
  // The conversation the page posted to (…/api/conversations/<id>/messages): the events name it, as chat-api's do.
  const conversationId = /\/api\/conversations\/([^/]+)\/messages/.exec(route.request().url())?.[1] ?? 'e2e';
  const message = (id: string, role: string, content: string, status: string) => ({
    id,
    conversationId,
    parentId: null,
    role,
    content,
    reasoning: null,
    model: 'llama3.2',
    status,
    error: null,
    promptTokens: null,
    completionTokens: null,
    durationMs: null,
    attachments: [],
    createdAt: now,
    updatedAt: now,
  });
  const events: Array<[string, unknown]> = [
    [
      'start',
      {
        conversationId,
        userMessage: message(`${reply.id}-question`, 'user', reply.prompt, 'complete'),
        assistantMessage: message(reply.id, 'assistant', '', 'streaming'),
      },
    ],
    ['token', { text: reply.text }],
    [
      'done',
      {
        messageId: reply.id,
        status: 'complete',
        promptTokens: 3,
        completionTokens: 9,
        durationMs: 100,
        tokensPerSecond: 90,
      },
    ],
  ];
  await route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/event-stream' },
    body: events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''),
  });
}
