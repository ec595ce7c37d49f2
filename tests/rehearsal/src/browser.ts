// The journey's browser step, in Chromium (playwright-core) against the front over HTTPS: sign in
// as the bootstrap admin, send a message in a new chat and see the streamed reply complete, reload
// and see it saved, open Admin → Model pool (the /admin/models route through the Ingress), and keep
// screenshots in the rehearsal's artifacts.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Front, JourneyStep } from './journey.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the browser step's screenshots go (gitignored: `test-artifacts/`). */
export const ARTIFACTS_DIR =
  process.env.CORRAL_REHEARSAL_ARTIFACTS ?? fileURLToPath(new URL('../test-artifacts/', import.meta.url));

const QUESTION = 'Hello from the rehearsal browser.';
const GENERATED_PASSWORD_NOTE = 'You signed in with a generated password.';
/** Each wait for the page (a reply from the real Ollama on a CPU runner may take a while). */
const WAIT_MS = 120_000;

export interface BrowserResult {
  screenshots: string[];
  /** The saved reply's length, as shown after a reload. */
  replyChars: number;
}

/** Debian's Chromium; a missing browser fails the rehearsal, it is never skipped. */
export async function launchChromium(mapHost?: string): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the rehearsal's browser step needs it (Debian: apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      // The front's host name is the Ingress's; it answers on this machine.
      ...(mapHost ? [`--host-resolver-rules=MAP ${mapHost} 127.0.0.1`] : []),
    ],
  });
}

export async function runBrowserJourney(options: {
  front: Front;
  admin: { email: string; password: string };
  log: (step: JourneyStep) => void;
  artifactsDir?: string;
}): Promise<BrowserResult> {
  const { front, admin, log } = options;
  const artifactsDir = options.artifactsDir ?? ARTIFACTS_DIR;
  mkdirSync(artifactsDir, { recursive: true });
  const base = `https://${front.host}:${front.port}`;
  const browser = await launchChromium(front.host);
  try {
    // The certificate is the run's own (self-signed): Chromium is told to accept it, as the
    // SDK steps are told to trust its CA file.
    const context = await browser.newContext({
      baseURL: base,
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 800 },
    });
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('dialog', (dialog) => {
      errors.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const screenshots: string[] = [];
    const screenshot = async (name: string) => {
      const file = join(artifactsDir, `rehearsal-${name}.png`);
      await page.screenshot({ path: file, animations: 'disabled' });
      screenshots.push(file);
    };
    const noErrors = (when: string) => {
      if (errors.length > 0) throw new Error(`browser: ${when}: the page reported ${errors.join('; ')}`);
    };

    // Sign in.
    await expectHtml(page, '/login');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    // The bootstrap admin's password comes from a Secret: the web app asks (it does not force) for
    // a new one. It is left as it is: helm test's doctor signs in with the Secret's password.
    const asked = await page.getByRole('note').filter({ hasText: GENERATED_PASSWORD_NOTE }).count();
    log({
      step: 'browser sign-in',
      detail: `${admin.email} in Chromium at ${base}${asked > 0 ? ' (app asks to change the generated password: left, helm test signs in with it)' : ''}`,
    });

    // A message in a new chat; the reply streams and completes.
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill(QUESTION);
    await composer.press('Enter');
    const reply = page.locator('article.message--assistant').last();
    await page
      .locator('article.message--assistant.message--complete, article.message--assistant.message--error')
      .last()
      .waitFor();
    if ((await reply.getAttribute('class'))?.includes('message--error'))
      throw new Error(
        `browser: the reply failed: ${(await reply.textContent())?.trim().slice(0, 300) ?? ''}`,
      );
    const streamed = ((await reply.locator('.message__body').textContent()) ?? '').trim();
    if (!streamed) throw new Error('browser: the reply completed with no text');
    await page.waitForURL((url) => url.pathname !== '/');
    const chatPath = new URL(page.url()).pathname;
    noErrors('sending a message');
    log({
      step: 'browser chat',
      detail: `streamed reply complete (${streamed.length} chars) at ${chatPath}`,
    });

    // Reload: both messages come back from the server.
    await page.reload();
    await page.locator('article.message--user').getByText(QUESTION).waitFor();
    await page.locator('article.message--assistant.message--complete').last().waitFor();
    const saved = ((await reply.locator('.message__body').textContent()) ?? '').trim();
    if (saved !== streamed)
      throw new Error(
        `browser: after a reload the reply reads "${saved.slice(0, 80)}", streamed "${streamed.slice(0, 80)}"`,
      );
    await screenshot('chat');
    log({ step: 'browser reload', detail: `question and reply saved (${saved.length} chars)` });

    // Admin → Model pool, by the links, then the same route loaded directly through the front.
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('link', { name: 'Model pool' }).click();
    await page.waitForURL((url) => url.pathname === '/admin/models');
    await expectHtml(page, '/admin/models');
    // The backends' table (the pool's models have a table of their own, with a "Backends" column).
    const backends = page.locator('table.table', {
      has: page.getByRole('columnheader', { name: 'Backend', exact: true }),
    });
    await backends.locator('tbody tr').first().waitFor();
    const rows = await backends.locator('tbody tr').count();
    noErrors('the model pool');
    await screenshot('admin-models');
    log({
      step: 'browser admin',
      detail: `Admin → Model pool: /admin/models served by web through the front, ${rows} backend row(s)`,
    });
    return { screenshots, replyChars: saved.length };
  } finally {
    await browser.close();
  }
}

/** Loads a path as a person typing it would: the front must answer it with the web app's page. */
async function expectHtml(page: Page, path: string): Promise<void> {
  const res = await page.goto(path);
  const type = res?.headers()['content-type'] ?? '';
  if (res?.status() !== 200 || !type.includes('text/html'))
    throw new Error(`browser: GET ${path} through the front -> ${res?.status() ?? 'no response'} ${type}`);
}
