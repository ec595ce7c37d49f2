// Issue 19's "what ChatGPT and Open WebUI users reach for daily", in Chromium against `corral start`:
// copy a whole reply, thumbs up/down with a comment (kept, in the admin usage view and the export),
// keyboard shortcuts and their `?` dialog, the conversation list grouped by date, and folders
// (create, rename, drag a conversation in, Move to folder…, delete).
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn, signInThroughForm, stackContext, useChromium, watchForTrouble } from './support/browser.js';
import { activeUser, adminSession, call } from './support/accounts.js';
import { corral } from './support/stack.js';

let context: BrowserContext;
let page: Page;
let trouble: ReturnType<typeof watchForTrouble>;
let user: Awaited<ReturnType<typeof activeUser>>;

const lastReply = () => page.locator('article.message--assistant').last();
const conversationIdOf = () => /\/c\/([^/?#]+)/.exec(page.url())?.[1] ?? '';
const composer = () => page.getByLabel('Message', { exact: true });
const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
const sidebarRow = (title: string) => page.locator('li.sidebar__item', { hasText: title });

async function sendAndWaitForReply(text: string): Promise<void> {
  await composer().fill(text);
  await composer().press('Enter');
  await page.waitForURL('**/c/*');
  await lastReply().and(page.locator('.message--complete')).waitFor();
  await page.getByRole('button', { name: 'Send message' }).waitFor();
}

/** Conversations imported with the given last-activity times (the list's dates come from them). */
async function importConversations(items: Array<{ id: string; title: string; updatedAt: Date }>) {
  const res = await call('/api/conversations/import', {
    token: user.session.accessToken,
    body: {
      format: 'corral.conversations',
      version: 1,
      conversations: items.map(({ id, title, updatedAt }) => ({
        id,
        title,
        model: 'llama3.2',
        systemPrompt: null,
        tags: [],
        pinned: false,
        archived: false,
        currentMessageId: null,
        createdAt: updatedAt.toISOString(),
        updatedAt: updatedAt.toISOString(),
        messages: [],
      })),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const browser = useChromium(async (chromium) => {
  user = await activeUser('daily');
  context = await stackContext(chromium, { permissions: ['clipboard-read', 'clipboard-write'] });
  page = await context.newPage();
  trouble = watchForTrouble(page);
  await signInThroughForm(page, user);
});

describe('a reply: copy it, rate it', () => {
  it('Copy puts the reply’s markdown source on the clipboard and says so', async () => {
    await sendAndWaitForReply('Tell me about fences in **bold**.');
    const id = conversationIdOf();
    const copy = lastReply().getByRole('button', { name: 'Copy' });
    await copy.click();
    await lastReply().getByRole('button', { name: 'Copied' }).waitFor();
    await lastReply().getByRole('status').filter({ hasText: 'Reply copied to the clipboard.' }).waitFor();
    const saved = await call(`/api/conversations/${id}/messages`, { token: user.session.accessToken });
    const reply = (saved.body.items as Array<{ role: string; content: string }>).find(
      (m) => m.role === 'assistant',
    );
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(reply?.content);
  });

  it('a thumbs up with a comment is kept after a reload, shown to the admin and in the export', async () => {
    const id = conversationIdOf();
    const good = lastReply().getByRole('button', { name: 'Good reply' });
    await good.click();
    await expect.poll(() => good.getAttribute('aria-pressed')).toBe('true');
    const comment = lastReply().getByLabel('Comment on this reply (optional)');
    await comment.fill('Clear and to the point');
    await lastReply().getByRole('button', { name: 'Send feedback' }).click();
    await comment.waitFor({ state: 'detached' });

    await page.reload();
    await lastReply().getByRole('button', { name: 'Good reply', pressed: true }).waitFor();
    expect(await lastReply().getByRole('button', { name: 'Bad reply' }).getAttribute('aria-pressed')).toBe(
      'false',
    );

    const exported = await call(`/api/conversations/${id}/export`, { token: user.session.accessToken });
    const messages = (exported.body.conversations as Array<{ messages: Array<{ feedback?: unknown }> }>)[0]!
      .messages;
    expect(messages.find((m) => m.feedback)?.feedback).toMatchObject({
      rating: 'up',
      comment: 'Clear and to the point',
    });

    // The admin sees it under Admin → Usage.
    const adminContext = await stackContext(browser());
    try {
      const admin = await adminContext.newPage();
      await admin.goto('/login');
      await signIn(admin, corral().admin.email, corral().admin.password);
      await admin.getByRole('link', { name: 'Admin' }).waitFor();
      await admin.goto('/admin/usage');
      const comments = admin.getByRole('table', { name: 'Recent comments' });
      await comments.getByRole('row', { name: /Clear and to the point/ }).waitFor();
      const byModel = admin.getByRole('table', { name: 'Feedback by model' });
      await byModel.locator('tr[data-model]').first().waitFor();
    } finally {
      await adminContext.close();
    }
    // And over HTTP, the numbers behind the view.
    const summary = await call('/api/admin/feedback', { token: (await adminSession()).accessToken });
    expect(JSON.stringify(summary.body.recentComments)).toContain('Clear and to the point');
  });
});

describe('keyboard shortcuts', () => {
  it('? lists them in a dialog that Esc closes; the shortcuts do what it says', async () => {
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    await page.keyboard.press('Shift+Slash');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    for (const what of [
      'New chat',
      'Search conversations',
      'Focus the message box',
      'Stop the reply being written',
    ]) {
      await dialog.getByRole('cell', { name: what, exact: false }).first().waitFor();
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    const onPage = conversationIdOf();
    expect(onPage).not.toBe('');
    // ↑ in the empty message box edits the last message the user wrote.
    await composer().focus();
    await page.keyboard.press('ArrowUp');
    const edit = page.getByLabel('Edit message');
    await edit.waitFor();
    expect(await edit.evaluate((node) => node === document.activeElement)).toBe(true);
    expect(await edit.inputValue()).toBe('Tell me about fences in **bold**.');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.keyboard.press('Control+k');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label')))
      .toBe('Search conversations');
    await page.keyboard.press('Shift+Escape');
    await expect.poll(focusedId).toBe('composer-input');
    await page.keyboard.press('Control+Shift+O');
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await expect.poll(focusedId).toBe('composer-input');
    // A text field keeps its question marks.
    await composer().pressSequentially('why?');
    expect(await composer().inputValue()).toBe('why?');
    expect(await dialog.isVisible()).toBe(false);
    await composer().fill('');
  });
});

describe('the conversation list', () => {
  it('groups conversations by date: Today, Yesterday, Previous 7 days, Previous 30 days, then months', async () => {
    const now = new Date();
    const daysAgo = (n: number) => new Date(now.getFullYear(), now.getMonth(), now.getDate() - n, 12);
    await importConversations([
      { id: crypto.randomUUID(), title: 'From today', updatedAt: new Date() },
      { id: crypto.randomUUID(), title: 'From yesterday', updatedAt: daysAgo(1) },
      { id: crypto.randomUUID(), title: 'From this week', updatedAt: daysAgo(4) },
      { id: crypto.randomUUID(), title: 'From this month', updatedAt: daysAgo(20) },
      { id: crypto.randomUUID(), title: 'From long ago', updatedAt: daysAgo(90) },
    ]);
    await page.reload();
    await sidebarRow('From long ago').waitFor();
    const headings = await page.locator('.sidebar [data-date-group]').allTextContents();
    const month = daysAgo(90).toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
    expect(headings).toEqual(['Today', 'Yesterday', 'Previous 7 days', 'Previous 30 days', month]);
    // Each conversation sits under its heading.
    const order = await page
      .locator('.sidebar [data-date-group], .sidebar li.sidebar__item')
      .evaluateAll((nodes) =>
        nodes.map((n) => (n as HTMLElement).dataset.dateGroup ?? n.textContent?.trim()),
      );
    const under = (title: string) => {
      const at = order.findIndex((text) => text?.startsWith(title));
      return order
        .slice(0, at)
        .reverse()
        .find((text) => headings.includes(text ?? ''));
    };
    expect(under('From today')).toBe('Today');
    expect(under('From yesterday')).toBe('Yesterday');
    expect(under('From this week')).toBe('Previous 7 days');
    expect(under('From this month')).toBe('Previous 30 days');
    expect(under('From long ago')).toBe(month);
  });

  it('folders: create, drag a conversation in, Move to folder… from the menu, rename, delete (its chats stay)', async () => {
    await page.getByRole('button', { name: '+ New folder' }).click();
    await page.getByLabel('Folder name').fill('Fencing');
    await page.getByLabel('Folder name').press('Enter');
    // An empty folder's list has no height: its heading shows it is there.
    await page.getByRole('button', { name: 'Rename folder Fencing' }).waitFor();
    const folder = page.getByRole('list', { name: 'Folder Fencing' });

    // Drag a conversation onto the folder.
    await sidebarRow('From this week').dragTo(
      page.locator('li.sidebar__folder', { hasText: 'Fencing' }).locator('.sidebar__folder-head'),
    );
    await folder.locator('li.sidebar__item', { hasText: 'From this week' }).waitFor();

    // The keyboard way: the row's menu → Move to folder… → pick → Move.
    await page.getByRole('button', { name: 'Actions for From long ago' }).click();
    await page.getByRole('menuitem', { name: 'Move to folder…' }).click();
    const select = page.getByLabel('Folder for From long ago');
    await select.selectOption({ label: 'Fencing' });
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await folder.locator('li.sidebar__item', { hasText: 'From long ago' }).waitFor();

    // Kept on the server: a reload shows the same.
    await page.reload();
    await page
      .getByRole('list', { name: 'Folder Fencing' })
      .locator('li.sidebar__item', { hasText: 'From long ago' })
      .waitFor();
    const folders = await call('/api/folders', { token: user.session.accessToken });
    expect((folders.body.items as Array<{ name: string }>).map((f) => f.name)).toEqual(['Fencing']);

    await page.getByRole('button', { name: 'Rename folder Fencing' }).click();
    await page.getByLabel('New folder name').fill('Fences & gates');
    await page.getByLabel('New folder name').press('Enter');
    const renamed = page.getByRole('list', { name: 'Folder Fences & gates' });
    await renamed.locator('li.sidebar__item', { hasText: 'From this week' }).waitFor();

    await page.getByRole('button', { name: 'Delete folder Fences & gates' }).click();
    await renamed.waitFor({ state: 'detached' });
    // Its conversations are back in the date groups, not deleted.
    await sidebarRow('From this week').waitFor();
    await sidebarRow('From long ago').waitFor();
    expect(await page.locator('li.sidebar__folder').count()).toBe(0);
    expect(trouble.errors).toEqual([]);
  });

  it('a folder shows what it holds even where the list’s pages have not reached yet', async () => {
    const longAgo = new Date(Date.now() - 400 * 86_400_000);
    const old = { id: crypto.randomUUID(), title: 'Filed long ago', updatedAt: longAgo };
    // A first page's worth (30) of newer conversations, so the filed one is beyond it.
    const newer = Array.from({ length: 32 }, (_, i) => ({
      id: crypto.randomUUID(),
      title: `Newer chat ${i}`,
      updatedAt: new Date(Date.now() - i * 60_000),
    }));
    await importConversations([old, ...newer]);
    const made = await call('/api/folders', { token: user.session.accessToken, body: { name: 'Archive' } });
    expect(made.status).toBe(201);
    const folderId = (made.body.folder as { id: string }).id;
    const moved = await call(`/api/conversations/${old.id}/folder`, {
      method: 'PUT',
      token: user.session.accessToken,
      body: { folderId },
    });
    expect(moved.status).toBe(200);

    await page.reload();
    const archive = page.getByRole('list', { name: 'Folder Archive' });
    await archive.locator('li.sidebar__item', { hasText: 'Filed long ago' }).waitFor();
    // The pages themselves stop at the first one: the oldest newer chat is not listed yet.
    await sidebarRow('Newer chat 0').waitFor();
    expect(await sidebarRow('Newer chat 31').count()).toBe(0);
    expect(await sidebarRow('Filed long ago').count()).toBe(1);
    expect(trouble.errors).toEqual([]);
  });
});
