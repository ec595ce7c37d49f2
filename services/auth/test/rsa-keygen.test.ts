import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateRsaKeyPair } from '../src/domain/rsa-keygen.js';

describe('RSA key generation (node-rsa in a worker thread)', () => {
  it('makes a 2048-bit pair that signs and verifies, while the event loop keeps turning', async () => {
    // A chain of setImmediate callbacks only advances while the main thread is free: node-rsa on
    // the main thread would leave it at 0 until the key is done.
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns += 1;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const pair = await generateRsaKeyPair(2048).finally(() => {
      spinning = false;
    });

    expect(turns).toBeGreaterThan(10);
    const privateKey = createPrivateKey(pair.privatePem);
    const publicKey = createPublicKey(pair.publicPem);
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const signature = sign('sha256', Buffer.from('corral'), privateKey);
    expect(verify('sha256', Buffer.from('corral'), publicKey, signature)).toBe(true);
    expect(verify('sha256', Buffer.from('corrak'), publicKey, signature)).toBe(false);
  });

  it('rejects when node-rsa refuses the size, instead of hanging', async () => {
    await expect(generateRsaKeyPair(-1)).rejects.toThrow();
  });
});
