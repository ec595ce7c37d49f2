// Issue 19's features in Chromium against `corral start`: the prompt library (`/` in the composer,
// managed in Settings), an assistant picked like a model whose system prompt and parameters reach
// the model (ollama-sim records what it was sent), and a shared conversation that another
// signed-in user opens, that a signed-out visitor is sent to sign in for, and that its owner revokes.
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn, signInThroughForm, stackContext, useChromium, watchForTrouble } from './support/browser.js';
import { activeUser, call } from './support/accounts.js';
import { corral } from './support/stack.js';

let context: BrowserContext;
let page: Page;
/** Uncaught errors on the owner's page (its confirm dialogs, such as Revoke's, are accepted). */
const pageErrors: string[] = [];
let owner: Awaited<ReturnType<typeof activeUser>>;
let shareLink = '';

const composer = (on: Page = page) => on.getByLabel('Message', { exact: true });

/** The chat requests ollama-sim received lately (its own inspection endpoint, not Ollama's API). */
async function simChats(): Promise<
  Array<{ messages: Array<{ role: string; content: string }>; options: Record<string, unknown> }>
> {
  const res = await fetch(`${corral().inference.urls[0]}/_sim/chats`);
  if (!res.ok) throw new Error(`/_sim/chats: ${res.status}`);
  return ((await res.json()) as { items: Awaited<ReturnType<typeof simChats>> }).items;
}

async function waitForComplete(on: Page = page): Promise<void> {
  await on.locator('article.message--assistant.message--complete').last().waitFor();
  await on.getByRole('button', { name: 'Send message' }).waitFor();
}

const browser = useChromium(async (chromium) => {
  owner = await activeUser('library');
  context = await stackContext(chromium);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => void dialog.accept());
  await signInThroughForm(page, owner);
});

describe('prompt library, assistants and shared conversations in the browser', () => {
  it('a prompt saved in Settings is inserted by typing / in the composer (keyboard only)', async () => {
    await page.goto('/settings/prompts');
    const form = page.getByRole('form', { name: 'New prompt' });
    await form.getByLabel('Title').fill('Haiku about work');
    await form.getByLabel('Text').fill('Write a haiku about the following task:');
    await form.getByRole('button', { name: 'Save prompt' }).click();
    await page.getByRole('cell', { name: 'Haiku about work', exact: true }).waitFor();
    await page.getByLabel('Title').fill('Translate to French');
    await page.getByLabel('Text').fill('Translate this into French:');
    await page.getByRole('button', { name: 'Save prompt' }).click();
    await page.getByRole('cell', { name: 'Translate to French', exact: true }).waitFor();

    await page.goto('/');
    await composer().click();
    await page.keyboard.type('/');
    const list = page.getByRole('listbox', { name: 'Saved prompts' });
    await list.waitFor();
    expect(await list.getByRole('option').count()).toBeGreaterThanOrEqual(2);
    expect(await composer().getAttribute('aria-controls')).toBe(await list.getAttribute('id'));

    // Typing narrows the list; arrows move the active option the composer points at.
    await page.keyboard.type('fren');
    await expect.poll(() => list.getByRole('option').count()).toBe(1);
    const active = list.getByRole('option', { selected: true });
    expect(await active.textContent()).toContain('Translate to French');
    expect(await composer().getAttribute('aria-activedescendant')).toBe(await active.getAttribute('id'));

    // Esc closes it and leaves the text; typing again reopens it; Enter inserts (does not send).
    await page.keyboard.press('Escape');
    await list.waitFor({ state: 'detached' });
    expect(await composer().inputValue()).toBe('/fren');
    await page.keyboard.press('Backspace');
    await list.waitFor();
    await page.keyboard.press('Enter');
    await list.waitFor({ state: 'detached' });
    expect(await composer().inputValue()).toBe('Translate this into French:');
    expect(await page.locator('article.message').count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('composer-input');
  });

  it('an assistant picked like a model: its system prompt and parameters reach the model', async () => {
    const tag = randomBytes(3).toString('hex');
    const systemPrompt = `You are Captain ${tag}. Answer as a ship's captain.`;
    await page.goto('/settings/assistants');
    const form = page.getByRole('form', { name: 'New assistant' });
    await form.getByLabel('Name').fill(`Captain ${tag}`);
    await form.getByLabel('System prompt').fill(systemPrompt);
    await form.getByLabel('Temperature').fill('0.2');
    await form.getByLabel('Seed').fill('42');
    await form.getByRole('button', { name: 'Create assistant' }).click();
    await page.getByRole('cell', { name: `Captain ${tag}`, exact: true }).waitFor();

    await page.goto('/');
    const picker = page.getByLabel('Model');
    const option = picker.locator('optgroup[label="Assistants"] option', { hasText: `Captain ${tag}` });
    await option.waitFor({ state: 'attached' });
    await picker.selectOption({ value: (await option.getAttribute('value')) ?? '' });
    const question = `Where are we sailing, ${tag}?`;
    await composer().fill(question);
    await composer().press('Enter');
    await page.waitForURL(/\/c\//);
    await waitForComplete();

    const sent = (await simChats()).filter((chat) => chat.messages.some((m) => m.content === question));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.messages[0]).toEqual({ role: 'system', content: systemPrompt });
    expect(sent[0]!.options).toMatchObject({ temperature: 0.2, seed: 42 });
    // The conversation names its assistant beside the base model, after a reload too.
    await page.getByText(`Assistant: Captain ${tag}`).waitFor();
    await page.reload();
    await page.getByText(`Assistant: Captain ${tag}`).waitFor();
    await page.getByText('System prompt (set)').waitFor();
  });

  it('a shared link: a signed-out visitor is sent to sign in, then another user reads the snapshot', async () => {
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    shareLink = (await page.getByTestId('share-link').textContent()) ?? '';
    expect(shareLink).toMatch(/\/share\/[A-Za-z0-9_-]{32,}$/);
    const token = shareLink.split('/').pop()!;

    // Without a session the API refuses it outright.
    expect((await call(`/api/shares/view/${token}`)).status).toBe(401);

    const reader = await activeUser('share-reader');
    const visitor = await stackContext(browser());
    const visitorPage = await visitor.newPage();
    const visitorTrouble = watchForTrouble(visitorPage);
    await visitorPage.goto(new URL(shareLink).pathname);
    await visitorPage.waitForURL('**/login');
    expect(await visitorPage.getByText('Where are we sailing').count()).toBe(0);
    await signIn(visitorPage, reader.email, reader.password);
    await visitorPage.waitForURL(`**/share/${token}`);
    await visitorPage.getByRole('heading', { level: 1 }).waitFor();
    await visitorPage
      .locator('article.message--user')
      .getByText(/Where are we sailing/)
      .waitFor();
    expect(await visitorPage.locator('article.message--assistant').count()).toBe(1);
    // Read-only: no composer, no send.
    expect(await visitorPage.locator('#composer-input').count()).toBe(0);

    // The owner revokes it in Settings → Shared links; the reader's reload finds nothing.
    await page.goto('/settings/shares');
    await page
      .getByRole('button', { name: /^Revoke link to / })
      .first()
      .click();
    await page.getByText('No shared links.').waitFor();
    await visitorPage.reload();
    await visitorPage.getByText(/No such shared conversation/).waitFor();
    expect(visitorTrouble.errors).toEqual([]);
    await visitor.close();
    expect(pageErrors).toEqual([]);
  });
});
