import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page, type Route } from 'playwright-core';

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
