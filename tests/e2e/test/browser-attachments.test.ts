// Issue 14's browser test: in Chromium, a pasted image goes to the vision model (the simulator's
// llava, which says how many images reached it), and after a reload the image and the reply are
// still there. The image is its owner's only: not under another conversation, not for another user.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn, stackContext, useChromium, watchForTrouble } from './support/browser.js';
import { activeUser, call } from './support/accounts.js';
import { corral } from './support/stack.js';

/** A 2×2 PNG, the kind a screenshot paste gives the page. */
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==';

let page: Page;
let trouble: ReturnType<typeof watchForTrouble>;
let owner: Awaited<ReturnType<typeof activeUser>>;
let conversationId = '';
let attachmentId = '';

const screenshot = (name: string) =>
  page.screenshot({ path: path.join(corral().artifactsDir, `${name}.png`), animations: 'disabled' });

/** The reply's text once it is complete (saved, no longer streaming). */
async function finishedReply(count = 1): Promise<string> {
  await page
    .locator('article.message--assistant.message--complete')
    .nth(count - 1)
    .waitFor();
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

useChromium(async (browser) => {
  owner = await activeUser('vision');
  page = await (await stackContext(browser)).newPage();
  trouble = watchForTrouble(page);
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
  it('Settings shows what the images take of the storage quota', async () => {
    await page.goto('/settings/usage');
    const line = page.getByTestId('storage-used');
    await line.waitFor();
    // One 2×2 PNG so far; the default quota is DEFAULT_STORAGE_QUOTA_MB=500.
    const size = Buffer.from(PNG_BASE64, 'base64').length;
    expect(await line.textContent()).toBe(`Images stored: ${size} B of 500.0 MiB.`);
  });

  it('the file picker and a drop add previews, and a preview can be removed before sending', async () => {
    await page.goto(`/c/${conversationId}`);
    await page.getByRole('button', { name: 'Attach images' }).waitFor();
    const png = Buffer.from(PNG_BASE64, 'base64');
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'picked.png', mimeType: 'image/png', buffer: png });
    await page.locator('.composer__images img[alt="picked.png"]').waitFor();
    await page.locator('form.composer').evaluate((form, base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      form.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      form.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, PNG_BASE64);
    await page.locator('.composer__images img[alt="dropped.png"]').waitFor();
    await page.getByRole('button', { name: 'Remove picked.png' }).click();
    expect(await page.locator('.composer__images img').count()).toBe(1);

    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('And this one?');
    await composer.press('Enter');
    await page
      .locator('article.message--user')
      .nth(1)
      .locator('.message__images img[alt="dropped.png"]')
      .waitFor();
    // The model sees the branch's images: the first message's and this one's.
    expect(await finishedReply(2)).toMatch(/^I see 2 images\./);
  });

  it('a thinking model’s reasoning shows collapsed above its answer, and again after a reload', async () => {
    await page.goto('/');
    const picker = page.getByLabel('Model');
    await picker.locator('option', { hasText: 'qwen3' }).waitFor({ state: 'attached' });
    const qwen = (await picker.locator('option').allTextContents()).find((label) =>
      label.startsWith('qwen3'),
    );
    expect(qwen).toMatch(/thinking/);
    await picker.selectOption({ label: qwen! });
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Why is the sky blue?');
    await composer.press('Enter');
    const thinking = page.locator('article.message--assistant details.message__thinking');
    await thinking.waitFor();
    expect(await thinking.evaluate((node) => (node as HTMLDetailsElement).open)).toBe(false);
    await finishedReply();
    expect(await thinking.locator('summary').textContent()).toBe('Thought');
    await thinking.locator('summary').click();
    const reasoning = ((await thinking.locator('p').textContent()) ?? '').trim();
    expect(reasoning).not.toBe('');
    const answer = (
      (await page.locator('article.message--assistant .message__body').textContent()) ?? ''
    ).trim();
    expect(answer).not.toContain(reasoning);
    await screenshot('thinking-shown');
    // Saved with the reply: after a reload the same collapsed disclosure holds the same reasoning.
    await page.reload();
    const reloaded = page.locator('article.message--assistant details.message__thinking');
    await reloaded.waitFor();
    expect(await reloaded.evaluate((node) => (node as HTMLDetailsElement).open)).toBe(false);
    expect(await reloaded.locator('summary').textContent()).toBe('Thought');
    expect(((await reloaded.locator('p').textContent()) ?? '').trim()).toBe(reasoning);
  });
  it('an image over ATTACHMENT_MAX_BYTES is refused with the limit named; nothing is sent, the draft stays', async () => {
    await page.goto('/');
    const picker = page.getByLabel('Model');
    await picker.locator('option', { hasText: 'llava' }).waitFor({ state: 'attached' });
    const llava = (await picker.locator('option').allTextContents()).find((label) =>
      label.startsWith('llava'),
    );
    await picker.selectOption({ label: llava! });
    // A PNG signature and 11 MB after it: over the default 10 MiB.
    const big = Buffer.concat([Buffer.from(PNG_BASE64, 'base64').subarray(0, 8), Buffer.alloc(11_000_000)]);
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: big });
    await page.locator('.composer__images img[alt="huge.png"]').waitFor();
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Too big?');
    await composer.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('ATTACHMENT_MAX_BYTES');
    expect(await composer.inputValue()).toBe('Too big?');
    expect(await page.locator('.composer__images img[alt="huge.png"]').count()).toBe(1);
    expect(new URL(page.url()).pathname).toBe('/');
  });
});
