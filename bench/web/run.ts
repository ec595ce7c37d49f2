/**
 * The web app in Chromium (CDP), against the whole stack (sim → gateway → auth → chat-api → web):
 * 1. JavaScript transferred (encoded bytes on the wire, as the browser asked for it) before sign-in,
 *    and once the first reply has rendered (with the lazy markdown chunk); budgets 150 KB / 250 KB.
 * 2. Enter to first visible token on a warm chat page, p50/p90, against the floor: the same
 *    request (POST …/messages, SSE) made with `fetch` from the same page, timed to its first token
 *    event. The two alternate, one of each per round, on two conversations of equal length.
 * The web app must be built first (`pnpm --filter @corral/web build:client`).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CDPSession, type Page, chromium } from 'playwright-core';
import { signIn, startCorralStack } from '../lib/corral.js';
import { dropDatabase, recreateDatabase } from '../lib/db.js';
import { jsonRequest } from '../lib/http.js';
import { REPO_ROOT } from '../lib/paths.js';
import { stopAll } from '../lib/processes.js';
import { writeResults } from '../lib/results.js';
import { round, summarize } from '../lib/stats.js';
import { printTable } from '../lib/table.js';

const DATABASE = 'corral_bench_web';
const ROUNDS = Number(process.env.BENCH_WEB_ROUNDS ?? 30);
const WARMUP = 3;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BEFORE_SIGN_IN_BUDGET = 150 * 1024;
const WITH_MARKDOWN_BUDGET = 250 * 1024;

interface Transfer {
  url: string;
  type: string;
  encoding: string;
  bytes: number;
}

/** Every response the page loads, with the bytes that crossed the wire (CDP encodedDataLength). */
async function watchTransfers(cdp: CDPSession): Promise<Transfer[]> {
  const pending = new Map<string, Omit<Transfer, 'bytes'>>();
  const done: Transfer[] = [];
  cdp.on('Network.responseReceived', (event) => {
    const headers = Object.fromEntries(
      Object.entries(event.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    pending.set(event.requestId, {
      url: event.response.url,
      type: event.type ?? 'Other',
      encoding: headers['content-encoding'] ?? 'identity',
    });
  });
  cdp.on('Network.loadingFinished', (event) => {
    const response = pending.get(event.requestId);
    if (response) done.push({ ...response, bytes: event.encodedDataLength });
  });
  await cdp.send('Network.enable');
  return done;
}

const scripts = (transfers: Transfer[]) => transfers.filter((t) => t.type === 'Script');
const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

/**
 * Arms a watch in the page: Enter (keydown, capture) to the next reply's first text, painted
 * (the next animation frame). In-page code is a string: this package is type-checked without the DOM.
 */
const ARM_ENTER_TO_TOKEN = `(() => {
  window.benchToken = new Promise((resolve) => {
    let start;
    const before = document.querySelectorAll('article.message--assistant').length;
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && start === undefined) start = performance.now();
    }, { capture: true });
    const observer = new MutationObserver(() => {
      const replies = document.querySelectorAll('article.message--assistant');
      const last = replies[replies.length - 1];
      if (replies.length <= before || start === undefined) return;
      if ((last?.querySelector('.message__body')?.textContent ?? '').trim() === '') return;
      observer.disconnect();
      const from = start;
      requestAnimationFrame(() => resolve(performance.now() - from));
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
})()`;

/** The floor: the same POST from the page with fetch, until its first token event arrives. */
function fetchToFirstToken(
  page: Page,
  conversationId: string,
  token: string,
  content: string,
): Promise<number> {
  const args = JSON.stringify({ conversationId, token, content });
  return page.evaluate(`(async ({ conversationId, token, content }) => {
    const start = performance.now();
    const res = await fetch('/api/conversations/' + conversationId + '/messages', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ content }),
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let firstToken;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (firstToken === undefined && text.includes('event: token')) firstToken = performance.now() - start;
    }
    if (firstToken === undefined) throw new Error('no token event (' + res.status + '): ' + text.slice(0, 300));
    return firstToken;
  })(${args})`);
}

async function waitForReplyDone(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Stop/ }).waitFor({ state: 'detached' });
}

async function main(): Promise<void> {
  if (!existsSync(path.join(REPO_ROOT, 'services/web/dist/client/index.html'))) {
    throw new Error('build the web app first: pnpm --filter @corral/web build:client');
  }
  await recreateDatabase(DATABASE);
  const stack = await startCorralStack({
    database: DATABASE,
    sim: { tokensPerSecond: 200, ttftMs: 20, responseTokens: 24 },
    chatEnv: { RATE_LIMIT_PER_MINUTE: '100000', READ_RATE_LIMIT_PER_MINUTE: '100000' },
    withWeb: true,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const web = stack.web!.url;
    const user = await signIn(stack.auth.url, `bench-web-${Date.now()}@corral.test`);
    const context = await browser.newContext({ baseURL: web, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const transfers = await watchTransfers(cdp);

    // 1. Before sign-in: the sign-in page and everything it loads.
    await page.goto('/login', { waitUntil: 'networkidle' });
    await page.getByLabel('Email').waitFor();
    const beforeSignIn = scripts(transfers).slice();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const composer = page.getByLabel('Message', { exact: true });
    await composer.waitFor();
    // The first reply renders through the lazy markdown chunk.
    await composer.fill('Hello');
    await composer.press('Enter');
    await page.locator('article.message--assistant .message__body').first().waitFor();
    await waitForReplyDone(page);
    await page.waitForLoadState('networkidle');
    const withMarkdown = scripts(transfers).slice();
    const uiConversation = /\/c\/([^/?#]+)/.exec(page.url())?.[1];
    if (!uiConversation) throw new Error(`no conversation in ${page.url()}`);

    // 2. Enter → first visible token (warm page) against fetch from the page.
    const floorConversation = await jsonRequest<{ conversation: { id: string } }>(
      'POST',
      `${web}/api/conversations`,
      {
        token: user.accessToken,
        body: {},
      },
    );
    const floorId = floorConversation.body.conversation.id;
    await fetchToFirstToken(page, floorId, user.accessToken, 'Hello');
    const ui: number[] = [];
    const floor: number[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const content = `Question ${round}`;
      await composer.fill(content);
      await page.evaluate(ARM_ENTER_TO_TOKEN);
      await composer.press('Enter');
      const uiMs = await page.evaluate<number>('window.benchToken');
      await waitForReplyDone(page);
      const floorMs = await fetchToFirstToken(page, floorId, user.accessToken, content);
      if (round >= WARMUP) {
        ui.push(uiMs);
        floor.push(floorMs);
      }
    }

    const sum = (list: Transfer[]) => list.reduce((total, t) => total + t.bytes, 0);
    const encodings = [...new Set(withMarkdown.map((t) => t.encoding))].join(', ');
    printTable(
      'JavaScript transferred (CDP encodedDataLength)',
      ['when', 'files', 'KB', 'budget KB', 'encodings'],
      [
        ['before sign-in', beforeSignIn.length, kb(sum(beforeSignIn)), kb(BEFORE_SIGN_IN_BUDGET), encodings],
        [
          'after the first reply (markdown chunk)',
          withMarkdown.length,
          kb(sum(withMarkdown)),
          kb(WITH_MARKDOWN_BUDGET),
          encodings,
        ],
      ],
    );
    for (const t of withMarkdown)
      console.log(
        `  ${String(kb(t.bytes)).padStart(7)} KB  ${t.encoding.padEnd(8)} ${new URL(t.url).pathname}`,
      );
    const uiStats = summarize(ui);
    const floorStats = summarize(floor);
    printTable(
      `Enter → first visible token, warm page (${ROUNDS} rounds, ms)`,
      ['path', 'p50', 'p90', 'mean'],
      [
        ['web app (keydown → painted text)', uiStats.p50, uiStats.p90, uiStats.mean],
        ['floor: fetch from the page → first token event', floorStats.p50, floorStats.p90, floorStats.mean],
        ['ratio p50', round(uiStats.p50 / floorStats.p50), '', ''],
      ],
    );
    const load = os.loadavg();
    console.log(`load average: ${load.map((l) => l.toFixed(2)).join(' ')}`);
    const okBefore = sum(beforeSignIn) <= BEFORE_SIGN_IN_BUDGET;
    const okWith = sum(withMarkdown) <= WITH_MARKDOWN_BUDGET;
    writeResults('web', {
      transfer: {
        beforeSignInBytes: sum(beforeSignIn),
        withMarkdownBytes: sum(withMarkdown),
        budgets: { beforeSignIn: BEFORE_SIGN_IN_BUDGET, withMarkdown: WITH_MARKDOWN_BUDGET },
        files: withMarkdown.map((t) => ({
          path: new URL(t.url).pathname,
          encoding: t.encoding,
          bytes: t.bytes,
        })),
      },
      enterToFirstToken: {
        rounds: ROUNDS,
        ui: uiStats,
        floor: floorStats,
        ratioP50: uiStats.p50 / floorStats.p50,
      },
    });
    if (!okBefore || !okWith) {
      console.error('JavaScript transferred is over budget');
      process.exitCode = 1;
    }
  } finally {
    await browser.close();
    await stopAll(stack.all);
    await dropDatabase(DATABASE);
  }
}

await main();
