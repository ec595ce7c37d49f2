import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface RsaKeyPair {
  privatePem: string;
  publicPem: string;
}

/**
 * Run in a worker thread: node-rsa computes the key in JavaScript, 1–3 s of CPU for 2048 bits, which
 * on the main thread would stall every login and JWKS request for that long. CommonJS, evaluated
 * from this string, so it runs the same from `dist/` and from source.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const NodeRSA = require(workerData.nodeRsa);
const rsa = new NodeRSA({ b: workerData.bits });
parentPort.postMessage({
  privatePem: rsa.exportKey('pkcs8-private-pem'),
  publicPem: rsa.exportKey('pkcs8-public-pem'),
});
`;

/**
 * An RSA key pair made with node-rsa off the event loop. node-rsa (~10 MB once loaded) lives only in
 * the worker, which ends with the key. The worker gets no `execArgv` (no tsx, no tracing preload).
 */
export function generateRsaKeyPair(bits: number): Promise<RsaKeyPair> {
  const nodeRsa = createRequire(import.meta.url).resolve('node-rsa');
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { nodeRsa, bits }, execArgv: [] });
    let settled = false;
    worker.once('message', (pair: RsaKeyPair) => {
      settled = true;
      resolve(pair);
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`RSA key worker exited with code ${code} before answering`));
    });
  });
}
