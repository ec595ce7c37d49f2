import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { type Database, withAdvisoryLock } from '../data/db.js';
import {
  findActiveSigningKey,
  listActiveSigningKeys,
  listSigningKeysRetiredAfter,
  replaceSigningKeys,
} from '../data/signing-keys.js';
import { decryptSecret, encryptSecret } from './crypto.js';
import { generateRsaKeyPair } from './rsa-keygen.js';

export interface PublicJwk extends JWK {
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface Signer {
  kid: string;
  privateKey: KeyObject;
}

export interface SigningKeysOptions {
  kek: Buffer;
  /** Access-token lifetime + leeway: how long a retired key must keep verifying. */
  retainRetiredForSeconds: number;
  /** How long a replica signs with the key it knows before re-reading which key is active. */
  signerCacheMs?: number;
  onKeysLoaded?: (publishedCount: number) => void;
}

const RSA_BITS = 2048;
/** Don't hit the database for every unknown kid someone makes up. */
const MISS_REFRESH_INTERVAL_MS = 1000;

/**
 * Makes an RSA key pair with node-rsa (in a worker thread, so requests keep being answered) and
 * returns what the signing_keys row holds. Keys are made on first start and rotation only.
 */
export async function generateSigningKey(kek: Buffer) {
  const { privatePem, publicPem } = await generateRsaKeyPair(RSA_BITS);
  const publicJwk = await exportJWK(createPublicKey(publicPem));
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const jwk: PublicJwk = {
    kty: publicJwk.kty,
    n: publicJwk.n,
    e: publicJwk.e,
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  return { kid, publicJwk: jwk, encryptedPrivateKey: encryptSecret(privatePem, kek, kid) };
}

/**
 * The RSA keys every replica signs and verifies with. Rows live in the database (private halves
 * encrypted), so replicas share them; creation and rotation hold an advisory lock.
 */
export class SigningKeys {
  private signer: { value: Signer; loadedAt: number } | undefined;
  private verifiers = new Map<string, KeyObject>();
  private verifiersLoadedAt = 0;
  private lastMissRefresh = 0;

  constructor(
    private readonly db: Database,
    private readonly options: SigningKeysOptions,
  ) {}

  /** Creates the first key if there is none; safe to call from every replica at once. */
  async ensureActiveKey(): Promise<string> {
    const existing = await this.activeRow();
    if (existing) return existing.kid;
    return withAdvisoryLock(this.db, 'signing-keys', async () => {
      const again = await this.activeRow();
      return again ? again.kid : this.insertKey();
    });
  }

  /** A new key signs from now on; the old one stays published until its last token has expired. */
  async rotate(): Promise<{ kid: string; retired: string[] }> {
    return (await this.rotateUnder(() => true)) as { kid: string; retired: string[] };
  }

  /** Rotates when the active key is older than `maxAgeMs` (the optional schedule); checked under the lock. */
  async rotateIfOlderThan(maxAgeMs: number): Promise<string | undefined> {
    const result = await this.rotateUnder(
      (createdAt) => !createdAt || Date.now() - createdAt.getTime() >= maxAgeMs,
    );
    return result?.kid;
  }

  private async rotateUnder(
    shouldRotate: (activeCreatedAt: Date | undefined) => boolean,
  ): Promise<{ kid: string; retired: string[] } | undefined> {
    const result = await withAdvisoryLock(this.db, 'signing-keys', async () => {
      const active = await listActiveSigningKeys(this.db);
      if (!shouldRotate(active[0]?.createdAt)) return undefined;
      const kid = await this.insertKey(active.map((row) => row.kid));
      return { kid, retired: active.map((row) => row.kid) };
    });
    if (result) {
      this.signer = undefined;
      await this.publishedKeys();
    }
    return result;
  }

  async currentSigner(): Promise<Signer> {
    const cacheMs = this.options.signerCacheMs ?? 30_000;
    if (this.signer && Date.now() - this.signer.loadedAt < cacheMs) return this.signer.value;
    let row = await this.activeRow();
    if (!row) {
      await this.ensureActiveKey();
      row = await this.activeRow();
    }
    if (!row) throw new Error('no active signing key');
    const pem = decryptSecret(row.encryptedPrivateKey, this.options.kek, row.kid);
    const value = { kid: row.kid, privateKey: createPrivateKey(pem) };
    this.signer = { value, loadedAt: Date.now() };
    return value;
  }

  /** Every key that can still verify a live token: the active one(s) and those retired within the window. */
  async publishedKeys(): Promise<PublicJwk[]> {
    const since = new Date(Date.now() - this.options.retainRetiredForSeconds * 1000);
    const rows = await listSigningKeysRetiredAfter(this.db, since);
    const keys = rows.map((row) => row.publicJwk as unknown as PublicJwk);
    this.verifiers = new Map(
      keys.map((jwk) => [jwk.kid, createPublicKey({ key: { ...jwk }, format: 'jwk' })]),
    );
    this.verifiersLoadedAt = Date.now();
    this.options.onKeysLoaded?.(keys.length);
    return keys;
  }

  /** The public key for a kid if it is still published; re-reads the table on a miss (another replica rotated). */
  async verificationKey(kid: string | undefined): Promise<KeyObject | undefined> {
    if (!kid) return undefined;
    // Re-read now and then so a key that aged out of the JWKS stops verifying here too.
    if (Date.now() - this.verifiersLoadedAt > (this.options.signerCacheMs ?? 30_000))
      await this.publishedKeys();
    const known = this.verifiers.get(kid);
    if (known) return known;
    if (Date.now() - this.lastMissRefresh < MISS_REFRESH_INTERVAL_MS && this.verifiers.size > 0)
      return undefined;
    this.lastMissRefresh = Date.now();
    await this.publishedKeys();
    return this.verifiers.get(kid);
  }

  private activeRow() {
    return findActiveSigningKey(this.db);
  }

  private async insertKey(retire: string[] = []): Promise<string> {
    const key = await generateSigningKey(this.options.kek);
    await replaceSigningKeys(this.db, key, retire);
    return key.kid;
  }
}
