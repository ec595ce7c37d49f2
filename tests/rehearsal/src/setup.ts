// What the rehearsal feeds the chart: its values, the operator's existing Secrets, the stand-ins.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { SecretStore } from './manifests.js';

export const REHEARSAL_VALUES = fileURLToPath(new URL('../values/rehearsal-values.yaml', import.meta.url));
export const DEFECTS_DIR = fileURLToPath(new URL('../defects/', import.meta.url));
export const IMAGE_TAG = 'rehearsal';
export const SERVICES = ['auth', 'chat-api', 'inference-gateway', 'web'] as const;
/** The service images and the CLI image (`corral` + PostgreSQL client: helm test's doctor, backups). */
export const IMAGES = [...SERVICES, 'cli'] as const;
export const imageOf = (service: string) => `localhost/corral/${service}:${IMAGE_TAG}`;
export const TOOLS_IMAGE = `localhost/corral/rehearsal-tools:${IMAGE_TAG}`;
export const isCorralImage = (image: string) => IMAGES.some((s) => image === imageOf(s));

/** The bootstrap admin's Secret as docs/operations.md tells an operator to create it: `password` only. */
export const ADMIN_SECRET = 'corral-rehearsal-admin';

export function existingSecrets(): SecretStore {
  return new Map([[`Secret/${ADMIN_SECRET}`, { password: `rehearsal-${randomBytes(12).toString('hex')}` }]]);
}

/**
 * The run's own values: this run's database name, and a backup encryption key made for this run (so
 * the backup CronJob runs `corral backup` encrypted from the CLI image) with the weekly verify on.
 */
export function runValues(dir: string, database: string): string {
  const file = join(dir, 'run-values.yaml');
  writeFileSync(
    file,
    stringify({
      postgresql: { database },
      backup: { encryption: { key: randomBytes(32).toString('base64') }, verify: { enabled: true } },
    }),
  );
  return file;
}

export function mergeStores(...stores: SecretStore[]): SecretStore {
  const merged: SecretStore = new Map();
  for (const store of stores) for (const [key, value] of store) merged.set(key, value);
  return merged;
}
