#!/usr/bin/env node
/* eslint-disable no-console -- a command-line entry point, like cli.ts */
// The rehearsal's journey against an installed release (CI's kind job), through its Ingress:
//   CORRAL_HOST=corral.localtest.me CORRAL_PORT=8443 CORRAL_CA=tls.crt \
//   CORRAL_ADMIN_EMAIL=… CORRAL_ADMIN_PASSWORD=… CORRAL_MODEL=qwen2.5:0.5b pnpm --filter @corral/rehearsal journey
import { runBrowserJourney } from './browser.js';
import { runJourney, type JourneyStep } from './journey.js';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const front = { host: need('CORRAL_HOST'), port: Number(need('CORRAL_PORT')), caFile: need('CORRAL_CA') };
const admin = { email: need('CORRAL_ADMIN_EMAIL'), password: need('CORRAL_ADMIN_PASSWORD') };
const log = (s: JourneyStep) => console.log(`journey: ${s.step.padEnd(18)} ${s.detail}`);

runJourney({
  front,
  admin,
  model: need('CORRAL_MODEL'),
  pullPath: process.env.CORRAL_PULL_PATH ?? '/api/admin/models/pull',
  log,
})
  .then(async (defects) => {
    // The browser step (Chromium: CHROMIUM_PATH, default /usr/bin/chromium); screenshots in
    // CORRAL_REHEARSAL_ARTIFACTS (default tests/rehearsal/test-artifacts).
    const browser = await runBrowserJourney({ front, admin, log });
    for (const file of browser.screenshots) console.log(`journey: screenshot ${file}`);
    return defects;
  })
  .then(
    (defects) => {
      for (const d of defects) console.error(`DEFECT [${d.id}] ${d.message}`);
      process.exit(defects.length > 0 ? 1 : 0);
    },
    (error: unknown) => {
      console.error(`JOURNEY FAILED: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
