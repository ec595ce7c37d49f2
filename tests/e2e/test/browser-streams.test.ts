// Issue 19's core loop in Chromium against `corral start` (local mode: no Redis, the in-process
// reply events): scroll up while a reply streams and stay there with "Jump to latest"; switch
// chats mid-reply and back; reload mid-reply and see it continue to the end; stop from a second
// tab; reload Admin → Model pool.
import type { BrowserContext, Page, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  signIn,
  signInThroughForm,
  stackContext,
  useChromium,
  useSimulatorPace,
  watchForTrouble,
} from './support/browser.js';
import { activeUser, adminSession, call, userIdOf } from './support/accounts.js';
import { corral } from './support/stack.js';

const STOPPED_NOTE = 'Stopped — the partial reply above was saved.';

let context: BrowserContext;
let page: Page;
let trouble: ReturnType<typeof watchForTrouble>;
let user: Awaited<ReturnType<typeof activeUser>>;
/** Conversations made by the tests, by what they were made for. */
const made: Record<string, string> = {};

const lastReply = (on: Page = page) => on.locator('article.message--assistant').last();
const replyText = async (on: Page = page) =>
  ((await lastReply(on).locator('.message__body').textContent()) ?? '').trim();
const stopButton = (on: Page = page) => on.getByRole('button', { name: /Stop/ });
const conversationIdOf = (on: Page = page) => /\/c\/([^/?#]+)/.exec(on.url())?.[1] ?? '';

/** Sends `text` from the composer and waits until the reply has some text of its own. */
async function sendAndWaitForText(text: string, on: Page = page): Promise<void> {
  const before = await on.locator('article.message--assistant').count();
  const composer = on.getByLabel('Message', { exact: true });
  await composer.fill(text);
  await composer.press('Enter');
  await stopButton(on).waitFor();
  await on.waitForFunction((count) => {
    const replies = document.querySelectorAll('article.message--assistant');
    const last = replies[replies.length - 1];
    return replies.length > count && (last?.querySelector('.message__body')?.textContent ?? '').trim() !== '';
  }, before);
}

/** Waits until the last reply's text is longer than `length` (a token arrived). */
async function waitForGrowth(length: number, on: Page = page): Promise<void> {
  await on.waitForFunction((min) => {
    const replies = document.querySelectorAll('article.message--assistant');
    const body = replies[replies.length - 1]?.querySelector('.message__body');
    return (body?.textContent ?? '').trim().length > min;
  }, length);
}

/** The last reply is finished and saved complete: no cursor, no Stop, its stats shown. */
async function waitForComplete(on: Page = page): Promise<void> {
  await on.locator('article.message--assistant.message--complete').last().waitFor();
  await on.getByRole('button', { name: 'Send message' }).waitFor();
  expect(await stopButton(on).count()).toBe(0);
}

// Slow enough to act mid-reply, short enough to wait for the end.
useSimulatorPace({ tokensPerSecond: 15, responseTokens: 90 });
const browser = useChromium(async (chromium) => {
  user = await activeUser('streams');
  context = await stackContext(chromium);
  page = await context.newPage();
  trouble = watchForTrouble(page);
  await signInThroughForm(page, user);
});

describe('replies that stream while the user does other things', () => {
  it('scrolled up during a reply, the view stays put; "Jump to latest" goes back down and follows', async () => {
    // A question taller than the window, so the list scrolls.
    const question = Array.from({ length: 80 }, (_, i) => `Line ${i + 1} of a long question.`).join('\n');
    await sendAndWaitForText(question);
    made.scrolled = conversationIdOf();
    const list = page.locator('.chat__messages');
    // A real wheel turned up over the list (its scroll event only comes with the next frame: a token
    // rendered before then must not pull the view back down).
    await list.hover();
    await page.mouse.wheel(0, -100_000);
    const jump = page.getByRole('button', { name: /Jump to latest/ });
    await jump.waitFor();
    await expect.poll(() => list.evaluate((node) => node.scrollTop)).toBe(0);

    // Two more tokens arrive; the view is still at the top.
    for (let i = 0; i < 2; i += 1) {
      await waitForGrowth((await replyText()).length);
      expect(await list.evaluate((node) => node.scrollTop)).toBe(0);
    }
    await jump.click();
    const distanceFromEnd = () =>
      list.evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight);
    await expect.poll(distanceFromEnd).toBeLessThanOrEqual(48);
    // Back at the bottom, the view follows the reply again.
    await waitForGrowth((await replyText()).length);
    await expect.poll(distanceFromEnd).toBeLessThanOrEqual(48);
    expect(await jump.count()).toBe(0);
    await waitForComplete();
  });

  it('a reply goes on in its own conversation while another is open: no Stop there, and it is there on return', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    // The empty chat first: counted on the previous chat's page, its reply would be "the new one".
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await sendAndWaitForText('Write me a poem about fences.');
    made.poem = conversationIdOf();
    const poemLink = page.locator(`a.sidebar__link[href="/c/${made.poem}"]`);
    await poemLink.locator('[data-replying]').waitFor();

    await page.locator(`a.sidebar__link[href="/c/${made.scrolled}"]`).click();
    await page.waitForURL(`**/c/${made.scrolled}`);
    await page.locator('article.message--assistant.message--complete').last().waitFor();
    expect(await stopButton().count()).toBe(0);
    expect(await page.getByLabel('Model').isDisabled()).toBe(false);
    // The other conversation's sidebar entry still says its reply is being written.
    expect(await poemLink.locator('[data-replying]').count()).toBe(1);

    await poemLink.click();
    await page.waitForURL(`**/c/${made.poem}`);
    await stopButton().waitFor();
    expect(await page.getByLabel('Model').isDisabled()).toBe(true);
    await waitForGrowth((await replyText()).length);
    await waitForComplete();
    await poemLink.locator('[data-replying]').waitFor({ state: 'detached' });
  });

  it('a reload mid-reply follows the reply to its end, with no second reload', async () => {
    await sendAndWaitForText('And another one, about gates.');
    const before = await replyText();
    await page.reload();
    await stopButton().waitFor();
    await waitForGrowth(before.length);
    await waitForComplete();
    const after = await replyText();
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.startsWith(before.slice(0, 20))).toBe(true);
    // What the page shows is what was saved.
    await page.reload();
    await page.locator('article.message--assistant.message--complete').last().waitFor();
    expect(await replyText()).toBe(after);
  });

  it('Stop pressed in a second tab stops the reply both tabs show', async () => {
    await sendAndWaitForText('One more, about hay.');
    const second = await context.newPage();
    try {
      await second.goto(`/c/${conversationIdOf()}`);
      await stopButton(second).click();
      await lastReply(second).getByText(STOPPED_NOTE).waitFor();
      await lastReply().getByText(STOPPED_NOTE).waitFor();
      expect(await stopButton().count()).toBe(0);
    } finally {
      await second.close();
    }
    expect(trouble.errors).toEqual([]);
  });
});

describe('limits that protect the models, not the page', () => {
  it('switching between chats 40 times in a row never meets the request limit', async () => {
    const chats = [made.scrolled, made.poem];
    for (let i = 0; i < 40; i += 1) {
      const target = chats[i % 2]!;
      const loaded = page.waitForResponse((res) =>
        res.url().includes(`/api/conversations/${target}/messages`),
      );
      await page.locator(`a.sidebar__link[href="/c/${target}"]`).click();
      expect((await loaded).status()).toBe(200);
      await page.locator('.chat__messages[aria-busy="false"] article.message--assistant').first().waitFor();
    }
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByLabel('Message', { exact: true }).isEnabled()).toBe(true);
  });

  it('a first message refused by the limit leaves no empty chat: a notice with the wait, the draft kept', async () => {
    const limited = await activeUser('limited');
    const admin = await adminSession();
    const userId = await userIdOf(admin, limited.email);
    const set = await call(`/api/admin/users/${userId}/limits`, {
      method: 'PUT',
      body: { requestsPerMinute: 1 },
      token: admin.accessToken,
    });
    expect(set.status).toBe(200);
    const own = await stackContext(browser());
    try {
      const tab = await own.newPage();
      await tab.goto('/login');
      await signIn(tab, limited.email, limited.password);
      await tab.getByRole('heading', { name: 'What can I help with?' }).waitFor();
      await sendAndWaitForText('The one message this minute allows.', tab);
      await waitForComplete(tab);

      await tab.getByRole('button', { name: '+ New chat' }).click();
      const composer = tab.getByLabel('Message', { exact: true });
      await composer.fill('A second one, too soon.');
      await composer.press('Enter');
      const notice = tab.getByRole('alert');
      await notice.getByText(/Retry possible in \d+s/).waitFor();
      expect(await composer.inputValue()).toBe('A second one, too soon.');
      expect(tab.url()).toBe(`${corral().baseUrl}/`);
      // The view is still the chat screen, and nothing was created on the server.
      await tab.getByRole('heading', { name: 'What can I help with?' }).waitFor();
      expect(await tab.locator('a.sidebar__link').count()).toBe(1);
      const list = await call('/api/conversations', { token: limited.session.accessToken });
      expect((list.body.items as unknown[]).length).toBe(1);
    } finally {
      await own.close();
    }
  });
});

describe('long input', () => {
  it('300,000 pasted characters send; near the limit a counter shows, over it the numbers are given', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    const composer = page.getByLabel('Message', { exact: true });
    const pasted = 'A pasted document line. '.repeat(12_500); // 300,000 characters
    expect(pasted.length).toBe(300_000);
    await composer.focus();
    await page.keyboard.insertText(pasted);
    expect(await page.locator('.message-length').count()).toBe(0);
    await composer.press('Enter');
    await stopButton().waitFor();
    await page.waitForURL(/\/c\//);
    await waitForComplete();
    const conversationId = conversationIdOf();
    const saved = await call(`/api/conversations/${conversationId}/messages`, {
      token: user.session.accessToken,
    });
    const question = (saved.body.items as Array<{ role: string; content: string }>).find(
      (m) => m.role === 'user',
    );
    expect(question?.content.length).toBe(pasted.trim().length);

    // Close to the limit (400,000 by default): the count shows; past it, sending says by how much.
    await composer.focus();
    await page.keyboard.insertText('x'.repeat(330_000));
    await page.locator('.message-length').getByText('330,000 / 400,000 characters').waitFor();
    await page.keyboard.insertText('x'.repeat(70_010));
    await page.locator('.message-length--over').getByText('10 over the limit', { exact: false }).waitFor();
    await composer.press('Enter');
    await page.getByRole('alert').getByText('400,010 characters; at most 400,000 are accepted').waitFor();
    expect((await composer.inputValue()).length).toBe(400_010);
    await composer.fill('');
  });
});

describe('sessions across tabs', () => {
  it('an expired session keeps the typed message and returns to the same conversation after sign-in', async () => {
    await page.locator(`a.sidebar__link[href="/c/${made.poem}"]`).click();
    await page.waitForURL(`**/c/${made.poem}`);
    const draft = 'Words typed just as the session ran out.';
    // The server's answers once the session is over: the access token refused, the refresh too.
    const expired = { code: 'invalid_token', title: 'Unauthorized', status: 401, detail: 'expired' };
    const refuse = (route: Route) =>
      route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify(expired) });
    await page.route('**/api/auth/refresh', refuse);
    await page.route(`**/api/conversations/${made.poem}/messages`, (route) =>
      route.request().method() === 'POST' ? refuse(route) : route.fallback(),
    );
    try {
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill(draft);
      await composer.press('Enter');
      await page.getByText('Your session ended. Please sign in again.').waitFor();
    } finally {
      await page.unroute('**/api/auth/refresh');
      await page.unroute(`**/api/conversations/${made.poem}/messages`);
    }
    await signIn(page, user.email, user.password);
    await page.waitForURL(`**/c/${made.poem}`);
    await page.locator('article.message--assistant').first().waitFor();
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe(draft);
  });

  it('signing out in one tab signs the other out at once; signing in brings it back', async () => {
    const other = await context.newPage();
    try {
      await other.goto(`/c/${made.scrolled}`);
      await other.locator('article.message--assistant').first().waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
      // No reload, no click in the other tab: it is signed out too.
      await other.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
      // Nothing typed before signing out is kept for the next person at this computer.
      expect(
        await other.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('corral:draft:'))),
      ).toEqual([]);

      await signIn(page, user.email, user.password);
      await page.getByRole('button', { name: '+ New chat' }).waitFor();
      await other.getByRole('button', { name: '+ New chat' }).waitFor();
      // The other tab returns to the conversation it was showing.
      await other.waitForURL(`**/c/${made.scrolled}`);
    } finally {
      await other.close();
    }
  });
});

describe('admin pages in local mode', () => {
  it('reloading Admin → Model pool shows the page, not the gateway’s 401', async () => {
    const admin = await stackContext(browser());
    try {
      const adminPage = await admin.newPage();
      await adminPage.goto('/login');
      await signIn(adminPage, corral().admin.email, corral().admin.password);
      await adminPage.getByRole('link', { name: 'Admin' }).click();
      await adminPage.getByRole('link', { name: 'Model pool' }).click();
      await adminPage.getByRole('form', { name: 'Pull a model' }).waitFor();
      await adminPage.reload();
      await adminPage.getByRole('heading', { name: 'Administration' }).waitFor();
      await adminPage.getByRole('form', { name: 'Pull a model' }).waitFor();
      // A bookmark opened in a fresh tab.
      const bookmark = await admin.newPage();
      await bookmark.goto('/admin/models');
      await bookmark.getByRole('form', { name: 'Pull a model' }).waitFor();
    } finally {
      await admin.close();
    }
  });
});
