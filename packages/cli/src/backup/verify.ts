// `corral backup verify`: restore into a scratch database, compare with the manifest, drop it.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import pg from 'pg';
import { errorMessage } from '../errors.js';
import { restoreFile, sha256OfFile } from './archive.js';
import { compareFacts, type Manifest, readDatabaseFacts, readManifest } from './manifest.js';

export interface VerifyResult {
  manifest: Manifest;
  scratchDatabase: string;
  /** Empty when the backup restored and matched its manifest. */
  differences: string[];
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `url` (the server to use, any database on it) → the same server, database `name`. */
function databaseOnSameServer(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * Restores `file` into a new scratch database on the server `url` points at (needs CREATEDB),
 * compares row counts and migration heads with the manifest, and drops the scratch database
 * whatever happened.
 */
export async function verifyBackup(
  url: string,
  file: string,
  key: string | undefined,
): Promise<VerifyResult> {
  const manifest = readManifest(file);
  const differences: string[] = [];
  const { size } = await stat(file);
  if (size !== manifest.file.bytes)
    differences.push(`file size: manifest ${manifest.file.bytes} bytes, file ${size}`);
  else if ((await sha256OfFile(file)) !== manifest.file.sha256)
    differences.push('file checksum differs from the manifest');

  const scratchDatabase = `corral_verify_${randomBytes(6).toString('hex')}`;
  const scratchUrl = databaseOnSameServer(url, scratchDatabase);
  await withClient(url, (client) => client.query(`CREATE DATABASE ${scratchDatabase}`));
  try {
    try {
      await restoreFile(scratchUrl, file, key);
    } catch (error) {
      differences.push(`restore failed: ${errorMessage(error)}`);
      return { manifest, scratchDatabase, differences };
    }
    const restored = await withClient(scratchUrl, (client) => readDatabaseFacts(client, manifest.schemas));
    differences.push(...compareFacts(manifest, restored));
    return { manifest, scratchDatabase, differences };
  } finally {
    await withClient(url, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${scratchDatabase} WITH (FORCE)`),
    );
  }
}
