// Issue 19, items 6, 7, 11 and 13 in Chromium, and an axe-core scan of the main pages in both
// themes: usage charts readable on a phone; where the focus goes (sign-in, a wrong password, the
// first send, the ⋯ menus); a failed import that says what was wrong; the pin icon, the
// wrong-password notice, the Undo toast, admin tables on a phone, API keys by name in the audit
// log, dark-theme contrast, the skip link, one h1 per page, "Show archived".
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { contrastOf, seriousViolations } from './support/a11y.js';
import {
  DESKTOP,
  PHONE,
  fulfilReplyStream,
  signIn,
  signInThroughForm,
  stackContext,
  useChromium,
} from './support/browser.js';
import { activeUser, call } from './support/accounts.js';
import { corral } from './support/stack.js';

let user: Awaited<ReturnType<typeof activeUser>>;
let context: BrowserContext;
let page: Page;
let adminContext: BrowserContext;
/** Conversations made here, by what they were made for. */
const made: Record<string, string> = {};
const KEY_NAME = 'a11y laptop key';

const composer = (on: Page = page) => on.getByLabel('Message', { exact: true });
const conversationIdOf = (on: Page = page) => /\/c\/([^/?#]+)/.exec(on.url())?.[1] ?? '';
const rowLink = (id: string, on: Page = page) => on.locator(`a.sidebar__link[href="/c/${id}"]`);
const focusedDescription = (on: Page = page) =>
  on.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}[${el.getAttribute('aria-label') ?? el.getAttribute('name') ?? el.textContent?.trim() ?? ''}]`;
  });

async function newConversation(title: string, archived = false): Promise<string> {
  const created = await call('/api/conversations', { body: { title }, token: user.session.accessToken });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const id = (created.body.conversation as { id: string }).id;
  if (archived) {
    const patched = await call(`/api/conversations/${id}`, {
      method: 'PATCH',
      body: { archived: true },
      token: user.session.accessToken,
    });
    if (patched.status !== 200) throw new Error(`archive: ${patched.status}`);
  }
  return id;
}

/** Two boxes share some area. */
const overlap = (
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const browser = useChromium(async (chromium) => {
  user = await activeUser('a11y');
  // A real reply, so the user has usage to chart.
  const conv = await call('/api/conversations', {
    body: { title: 'Usage' },
    token: user.session.accessToken,
  });
  made.usage = (conv.body.conversation as { id: string }).id;
  const reply = await fetch(`${corral().baseUrl}/api/conversations/${made.usage}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${user.session.accessToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content: 'Count to three.' }),
  });
  await reply.text();
  // An API key, made and revoked, for the audit log.
  const key = await call('/api/auth/api-keys', { body: { name: KEY_NAME }, token: user.session.accessToken });
  const keyId = (key.body.apiKey as { id: string }).id;
  await call(`/api/auth/api-keys/${keyId}`, { method: 'DELETE', token: user.session.accessToken });

  context = await stackContext(chromium);
  page = await context.newPage();
  await signInThroughForm(page, user);
  adminContext = await stackContext(chromium);
});

describe('focus', () => {
  it('the sign-in page focuses its first field; a wrong password says so once and focuses the password', async () => {
    const signedOut = await stackContext(browser());
    const page = await signedOut.newPage();
    const focused = () => focusedDescription(page);
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
    await expect.poll(() => focused()).toBe('input[email]');

    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text.match(/invalid email or password/gi)).toHaveLength(1);
    await expect.poll(() => focused()).toBe('input[password]');
    // Its text is selected: typing replaces it.
    expect(
      await page.evaluate(() => {
        const input = document.activeElement as HTMLInputElement;
        return input.selectionStart === 0 && input.selectionEnd === input.value.length;
      }),
    ).toBe(true);

    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await signedOut.close();
  });

  it('after the first send the composer has the focus again', async () => {
    await composer().click();
    await composer().fill('Say something short.');
    await composer().press('Enter');
    await page.waitForURL(/\/c\//);
    await page.locator('article.message--assistant.message--complete').waitFor();
    made.heading = conversationIdOf();
    await expect.poll(() => focusedDescription()).toBe('textarea#composer-input[]');
  });

  it('a chat page’s one h1 is the conversation title; a reply’s "# heading" is demoted under it', async () => {
    await page.route(`**/api/conversations/${made.heading!}/messages`, (route) =>
      route.request().method() === 'POST'
        ? fulfilReplyStream(route, {
            id: 'a11y-heading-reply',
            prompt: 'Give me a heading',
            text: '# Big heading\n\nSome text under it.',
          })
        : route.fallback(),
    );
    await composer().fill('Give me a heading');
    await composer().press('Enter');
    await page.locator('article h2', { hasText: 'Big heading' }).waitFor();
    await page.unroute(`**/api/conversations/${made.heading!}/messages`);

    const h1s = page.locator('h1');
    expect(await h1s.count()).toBe(1);
    // The title the sidebar shows (a generated one may arrive meanwhile: both follow it).
    await expect
      .poll(async () => [
        ((await h1s.textContent()) ?? '').trim(),
        ((await rowLink(made.heading!).textContent()) ?? '').trim(),
      ])
      .toSatisfy(([h1, row]) => h1 !== '' && h1 === row);
  });

  it('the ⋯ menu takes the focus, moves with the arrow keys, and closes on Esc and on a click outside', async () => {
    const id = made.heading!;
    const label = ((await rowLink(id).textContent()) ?? '').trim();
    const button = page.getByRole('button', { name: `Actions for ${label}` });
    await button.click();
    const menu = page.getByRole('menu');
    await menu.waitFor();
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => focusedDescription()).toBe('button[Pin]');
    await page.keyboard.press('ArrowDown');
    expect(await focusedDescription()).toBe('button[Rename]');
    await page.keyboard.press('End');
    expect(await focusedDescription()).toBe('button[Delete]');
    await page.keyboard.press('ArrowDown');
    expect(await focusedDescription()).toBe('button[Pin]');
    await page.keyboard.press('ArrowUp');
    expect(await focusedDescription()).toBe('button[Delete]');
    expect(await menu.getByRole('menuitem').count()).toBe(6); // Pin, Rename, Archive, Move to folder…, Export, Delete

    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await focusedDescription()).toBe(`button[Actions for ${label}]`);

    await button.click();
    await menu.waitFor();
    await page.locator('.chat__messages').click({ position: { x: 5, y: 5 } });
    await menu.waitFor({ state: 'detached' });
  });
});

describe('the conversation list', () => {
  it('a pinned conversation shows an SVG pin, not an emoji', async () => {
    const id = made.heading!;
    const label = ((await rowLink(id).textContent()) ?? '').trim();
    await page.getByRole('button', { name: `Actions for ${label}` }).click();
    await page.getByRole('menuitem', { name: 'Pin' }).click();
    await rowLink(id).locator('svg[data-icon="pin"]').waitFor();
    expect(await rowLink(id).textContent()).not.toMatch(/\p{Extended_Pictographic}/u);
    expect(await rowLink(id).textContent()).toContain('Pinned');
  });

  it('"Show archived" adds the archived conversations, marked, to the others', async () => {
    made.archived = await newConversation('Old archived plans', true);
    made.plain = await newConversation('Current plans');
    await page.reload();
    await rowLink(made.plain).waitFor();
    expect(await rowLink(made.archived).count()).toBe(0);

    await page.getByLabel('Show archived').check();
    await rowLink(made.archived).waitFor();
    expect(await rowLink(made.plain).count()).toBe(1);
    expect(await rowLink(made.heading!).count()).toBe(1);
    expect(await rowLink(made.archived).locator('.badge').textContent()).toBe('archived');
    expect(await rowLink(made.plain).locator('.badge').count()).toBe(0);

    await page.getByLabel('Show archived').uncheck();
    await rowLink(made.archived).waitFor({ state: 'detached' });
    expect(await rowLink(made.plain).count()).toBe(1);
  });

  it('the Undo toast does not cover the composer, on a desktop and on a phone', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      const id = await newConversation(`Delete me ${viewport.width}`);
      await page.goto('/');
      await composer().waitFor();
      if (viewport === PHONE) await page.getByRole('button', { name: 'Show conversations' }).click();
      await page.getByRole('button', { name: `Actions for Delete me ${viewport.width}` }).click();
      await page.getByRole('menuitem', { name: 'Delete' }).click();
      const toast = page.locator('.toast');
      await toast.waitFor();
      // The drawer closed by a tap beside it, as on a phone.
      if (viewport === PHONE) await page.mouse.click(viewport.width - 10, viewport.height / 2);
      await page.locator('.app--sidebar-open').waitFor({ state: 'detached' });
      const toastBox = await toast.boundingBox();
      const composerBox = await page.locator('form.composer').boundingBox();
      expect(toastBox && composerBox).toBeTruthy();
      expect(overlap(toastBox!, composerBox!)).toBe(false);
      // Visible, in the window.
      expect(toastBox!.x).toBeGreaterThanOrEqual(0);
      expect(toastBox!.x + toastBox!.width).toBeLessThanOrEqual(viewport.width);
      await page.getByRole('button', { name: 'Undo' }).click();
      await toast.waitFor({ state: 'detached' });
      await call(`/api/conversations/${id}`, { method: 'DELETE', token: user.session.accessToken });
    }
    await page.setViewportSize(DESKTOP);
  });

  it('a skip link is the first tab stop and goes to the page’s content', async () => {
    await page.goto(`/c/${made.heading!}`);
    await page.locator('article.message--assistant').waitFor();
    await page.keyboard.press('Tab');
    expect(await focusedDescription()).toBe('a[Skip to content]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');
  });
});

describe('import', () => {
  it('a failed import shows only what was wrong, not the last import’s success', async () => {
    await page.goto('/settings/data');
    const input = page.locator('input[type="file"]');
    const exported = await call('/api/conversations/export', { token: user.session.accessToken });
    await input.setInputFiles({
      name: 'good.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(exported.body)),
    });
    const status = page.getByRole('status').filter({ hasText: 'Imported' });
    await status.waitFor();

    await input.setInputFiles({
      name: 'notes.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ format: 'something-else', version: 1, conversations: [] })),
    });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const said = (await alert.textContent()) ?? '';
    expect(said).toContain('Could not import notes.json');
    expect(said).toContain('format');
    expect(said).not.toContain('Request validation failed');
    expect(await status.count()).toBe(0);

    await input.setInputFiles({
      name: 'photo.json',
      mimeType: 'application/json',
      buffer: Buffer.from('GIF89a'),
    });
    await expect.poll(async () => (await alert.textContent()) ?? '').toContain('Could not import photo.json');
    expect(await alert.textContent()).toContain('not valid JSON');
    expect(await page.getByRole('alert').count()).toBe(1);
  });
});

describe('usage charts on a phone', () => {
  it('legend swatches sit by their labels, date labels do not overlap, and ticks are readable', async () => {
    await page.setViewportSize(PHONE);
    await page.goto('/settings/usage');
    const chart = page.locator('figure.usage-chart');
    await chart.locator('.legend__item, .legend span').first().waitFor();

    const gap = await chart.locator('figcaption').evaluate((caption) => {
      const item = caption.querySelector('span')!;
      const swatch = item.querySelector('svg')!.getBoundingClientRect();
      const range = document.createRange();
      const text = [...item.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim())!;
      range.selectNodeContents(text);
      const label = range.getBoundingClientRect();
      return { between: label.left - swatch.right, swatchWidth: swatch.width };
    });
    expect(gap.swatchWidth).toBeLessThanOrEqual(12);
    expect(gap.between).toBeGreaterThanOrEqual(0);
    expect(gap.between).toBeLessThanOrEqual(10);

    const ticks = await chart.locator('svg[role="img"] text').evaluateAll((nodes) =>
      nodes.map((n) => {
        const r = n.getBoundingClientRect();
        return { text: n.textContent ?? '', x: r.x, y: r.y, width: r.width, height: r.height };
      }),
    );
    const days = ticks.filter((t) => /^\d\d-\d\d$/.test(t.text));
    expect(days.length).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < days.length; i += 1)
      for (let j = i + 1; j < days.length; j += 1) expect(overlap(days[i]!, days[j]!)).toBe(false);
    const today = new Date().toISOString().slice(5, 10);
    expect(days.map((d) => d.text)).toContain(today);
    // Rendered at 11px or more, not a 640-unit drawing squeezed into 350 pixels.
    for (const tick of ticks) expect(tick.height).toBeGreaterThanOrEqual(11);
    await page.setViewportSize(DESKTOP);
  });
});

describe('admin', () => {
  let admin: Page;
  beforeAll(async () => {
    if (!adminContext) return; // Chromium did not start: every test says so
    admin = await adminContext.newPage();
    await admin.goto('/login');
    await signIn(admin, corral().admin.email, corral().admin.password);
    await admin.getByRole('link', { name: 'Admin' }).waitFor();
  });

  it('the audit log names API keys by their name', async () => {
    await admin.goto('/admin/audit');
    for (const action of ['api_key.created', 'api_key.revoked']) {
      await admin.getByLabel('Filter by action').fill(action);
      const row = admin.locator('tr', { hasText: action }).filter({ hasText: `API key “${KEY_NAME}”` });
      await row.first().waitFor();
    }
  });

  it('on a phone, admin tables fit the width: nothing scrolls sideways', async () => {
    await admin.setViewportSize(PHONE);
    for (const tab of ['users', 'groups', 'models', 'usage', 'audit']) {
      await admin.goto(`/admin/${tab}`);
      await admin.locator('table.table tbody tr').first().waitFor();
      const overflowing = await admin.evaluate(() => {
        const wide: string[] = [];
        const main = document.querySelector('main')!;
        if (main.scrollWidth > main.clientWidth + 1)
          wide.push(`main ${main.scrollWidth}>${main.clientWidth}`);
        for (const table of document.querySelectorAll<HTMLElement>('table.table')) {
          const r = table.getBoundingClientRect();
          if (table.scrollWidth > table.clientWidth + 1 || r.right > window.innerWidth + 1)
            wide.push(`${table.getAttribute('aria-label') ?? 'table'} ${table.scrollWidth}/${r.right}`);
        }
        return wide;
      });
      expect(overflowing, tab).toEqual([]);
    }
    await admin.setViewportSize(DESKTOP);
  });
});

describe('contrast and axe-core, light and dark', () => {
  it('in the dark theme red buttons and placeholders reach 4.5:1', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    // A key not revoked, so its red Revoke button is there.
    await call('/api/auth/api-keys', { body: { name: 'contrast' }, token: user.session.accessToken });
    await page.goto('/settings/keys');
    await page.locator('.btn--danger').first().waitFor();
    expect(await contrastOf(page, '.btn--danger', 'text')).toBeGreaterThanOrEqual(4.5);
    await page.goto('/');
    await composer().waitFor();
    expect(await contrastOf(page, '#composer-input', 'placeholder')).toBeGreaterThanOrEqual(4.5);
    expect(await contrastOf(page, 'input.sidebar__search', 'placeholder')).toBeGreaterThanOrEqual(4.5);
    await page.emulateMedia({ colorScheme: 'light' });
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`${scheme}: sign-in, a chat with a reply, settings and admin have no serious or critical violations`, async () => {
      const signedOut = await stackContext(browser(), { colorScheme: scheme });
      const fresh = await signedOut.newPage();
      const found: Record<string, unknown> = {};
      try {
        await fresh.goto('/login');
        await fresh.getByRole('heading', { name: 'Sign in to Corral' }).waitFor();
        found.signIn = await seriousViolations(fresh);
      } finally {
        await signedOut.close();
      }

      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`/c/${made.usage!}`);
      await page.locator('article.message--assistant.message--complete').waitFor();
      found.chat = await seriousViolations(page);
      await page.goto('/settings/keys');
      await page.locator('table.table').waitFor();
      found.settings = await seriousViolations(page);

      const admin = await adminContext.newPage();
      await admin.emulateMedia({ colorScheme: scheme });
      await admin.goto('/admin/users');
      await admin.locator('table.table tbody tr').first().waitFor();
      found.admin = await seriousViolations(admin);
      await admin.close();
      await page.emulateMedia({ colorScheme: 'light' });

      expect(found).toEqual({ signIn: [], chat: [], settings: [], admin: [] });
    }, 120_000);
  }
});
