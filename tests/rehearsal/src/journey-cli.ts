#!/usr/bin/env node
/* eslint-disable no-console -- a command-line entry point, like cli.ts */
// The rehearsal's journey against an installed release (CI's kind job), through its Ingress:
//   CORRAL_HOST=corral.localtest.me CORRAL_PORT=8443 CORRAL_CA=tls.crt \
//   CORRAL_ADMIN_EMAIL=… CORRAL_ADMIN_PASSWORD=… CORRAL_MODEL=qwen2.5:0.5b pnpm --filter @corral/rehearsal journey
import { runJourney } from './journey.js';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

runJourney({
  front: { host: need('CORRAL_HOST'), port: Number(need('CORRAL_PORT')), caFile: need('CORRAL_CA') },
  admin: { email: need('CORRAL_ADMIN_EMAIL'), password: need('CORRAL_ADMIN_PASSWORD') },
  model: need('CORRAL_MODEL'),
  pullPath: process.env.CORRAL_PULL_PATH ?? '/api/admin/models/pull',
  log: (s) => console.log(`journey: ${s.step.padEnd(18)} ${s.detail}`),
}).then(
  (defects) => {
    for (const d of defects) console.error(`DEFECT [${d.id}] ${d.message}`);
    process.exit(defects.length > 0 ? 1 : 0);
  },
  (error: unknown) => {
    console.error(`JOURNEY FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
