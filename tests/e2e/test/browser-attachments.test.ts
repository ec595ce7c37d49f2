// Issue 14's browser test: in Chromium, a pasted image goes to the vision model (the simulator's
// llava, which says how many images reached it), and after a reload the image and the reply are
// still there. The image is its owner's only: not under another conversation, not for another user.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESKTOP, launchChromium, signIn, watchForTrouble } from './support/browser.js';
import { activeUser, call } from './support/accounts.js';
import { corral } from './support/stack.js';

/** A 2×2 PNG, the kind a screenshot paste gives the page. */
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==';

let browser: Browser | undefined;
let page: Page;
let trouble: ReturnType<typeof watchForTrouble>;
let owner: Awaited<ReturnType<typeof activeUser>>;
let setupError: unknown;
let conversationId = '';
let attachmentId = '';

const screenshot = (name: string) =>
  page.screenshot({ path: path.join(corral().artifactsDir, `${name}.png`), animations: 'disabled' });

/** The reply's text once it is complete (saved, no longer streaming). */
async function finishedReply(): Promise<string> {
  const reply = page.locator('article.message--assistant.message--complete').last();
  await reply.waitFor();
  return ((await reply.locator('.message__body').textContent()) ?? '').trim();
}

/** The user message's image as the page shows it: loaded (a natural width) from its owner's fetch. */
async function shownImageWidth(): Promise<number> {
  const image = page.locator('article.message--user .message__images img').first();
  await image.waitFor();
  await page.waitForFunction(
    () =>
      (document.querySelector('article.message--user .message__images img') as HTMLImageElement | null)
        ?.complete,
  );
  return image.evaluate((node) => (node as HTMLImageElement).naturalWidth);
}

beforeAll(async () => {
  try {
    browser = await launchChromium();
  } catch (error) {
    setupError = error;
    return;
  }
  owner = await activeUser('vision');
  const context = await browser.newContext({ baseURL: corral().baseUrl, viewport: DESKTOP });
  page = await context.newPage();
  trouble = watchForTrouble(page);
});

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await browser?.close();
});

describe('image attachments in the browser', () => {
  it('offers attaching only for a vision model, and the picker names capabilities', async () => {
    await page.goto('/login');
    await signIn(page, owner.email, owner.password);
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    const picker = page.getByLabel('Model');
    await picker.locator('option', { hasText: 'llava' }).waitFor({ state: 'attached' });
    const labels = await picker.locator('option').allTextContents();
    const llava = labels.find((label) => label.startsWith('llava'));
    expect(llava, labels.join(' | ')).toMatch(/\(images/);
    const plain = labels.find((label) => label.startsWith('llama3.2'));
    expect(plain).toBeDefined();
    await picker.selectOption({ label: plain! });
    expect(await page.getByRole('button', { name: 'Attach images' }).count()).toBe(0);
    await picker.selectOption({ label: llava! });
    await page.getByRole('button', { name: 'Attach images' }).waitFor();
  });

  it('a pasted image is previewed, sent to the vision model, and still there after a reload', async () => {
    const composer = page.getByLabel('Message', { exact: true });
    await composer.focus();
    // What Chromium dispatches when a screenshot is pasted: a paste event whose clipboard holds a file.
    await composer.evaluate((node, base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'screenshot.png', { type: 'image/png' }));
      node.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, PNG_BASE64);
    await page.locator('.composer__images img[alt="screenshot.png"]').waitFor();
    await composer.fill('What is in this picture?');
    await composer.press('Enter');

    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    conversationId = /\/c\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
    expect(await finishedReply()).toMatch(/^I see 1 image\./);
    expect(await shownImageWidth()).toBe(2);
    expect(await page.locator('.composer__images').count()).toBe(0);
    await screenshot('attachment-sent');

    await page.reload();
    await page.locator('article.message--assistant').last().waitFor();
    expect(await finishedReply()).toMatch(/^I see 1 image\./);
    expect(await shownImageWidth()).toBe(2);
    expect(trouble.errors).toEqual([]);

    const listing = await call(`/api/conversations/${conversationId}/messages`, {
      token: owner.session.accessToken,
    });
    const question = (listing.body.items as { role: string; attachments: { id: string }[] }[]).find(
      (m) => m.role === 'user',
    )!;
    expect(question.attachments).toHaveLength(1);
    attachmentId = question.attachments[0]!.id;
  });

  it('the image is fetched by its owner under its conversation only', async () => {
    const get = (conversation: string, token: string) =>
      fetch(`${corral().baseUrl}/api/conversations/${conversation}/attachments/${attachmentId}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
    const own = await get(conversationId, owner.session.accessToken);
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toBe('image/png');
    expect(own.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await own.arrayBuffer()).toString('base64')).toBe(PNG_BASE64);

    const other = await call('/api/conversations', {
      body: { model: 'llava' },
      token: owner.session.accessToken,
    });
    expect(other.status).toBe(201);
    const otherId = (other.body.conversation as { id: string }).id;
    expect((await get(otherId, owner.session.accessToken)).status).toBe(404);

    const stranger = await activeUser('stranger');
    expect((await get(conversationId, stranger.session.accessToken)).status).toBe(404);
  });
});
