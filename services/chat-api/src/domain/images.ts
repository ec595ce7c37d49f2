import { lookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '@corral/service-kit';
import { Agent, request } from 'undici';

/** What an image given to a vision model may be: Ollama decodes these. */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/webp']);

export interface ImageLimits {
  /** Largest image (decoded bytes): larger is a 413. */
  maxBytes: number;
  /** An http(s) image not fetched in this time is a 400. */
  timeoutMs: number;
  /** Redirects followed before giving up (400). */
  maxRedirects: number;
}

/**
 * Addresses chat-api never fetches from on a caller's behalf: this host, the private networks it
 * may sit in, link-local (cloud metadata at 169.254.169.254), and the odd ranges a URL could use
 * to reach them (unspecified, CGNAT, benchmarking, multicast, IPv4-mapped and NAT64 IPv6).
 */
const refused = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  refused.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  refused.addSubnet(net, prefix, 'ipv6');
}

// IPv4-mapped IPv6 (::ffff:a.b.c.d) is refused whatever it maps to. It has a list of its own: BlockList
// matches IPv4 addresses against IPv6 rules through this very mapping, so in `refused` it would catch all.
const mapped = new BlockList();
mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

/** True for an address an image URL may not lead to. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6 && mapped.check(address, 'ipv6')) return true;
  return refused.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const badImage = (param: string, message: string) =>
  new AppError('bad_request', `${param}: ${message}`, { extensions: { param } });

const tooLarge = (param: string, maxBytes: number) =>
  new AppError('payload_too_large', `${param}: the image is larger than ${maxBytes} bytes.`, {
    extensions: { param },
  });

/** The image's real type from its first bytes, or undefined when it is none Ollama decodes. */
export function sniffImage(bytes: Buffer): string | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a)
    return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (
    bytes.length >= 12 &&
    bytes.toString('latin1', 0, 4) === 'RIFF' &&
    bytes.toString('latin1', 8, 12) === 'WEBP'
  )
    return 'image/webp';
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A `data:` URL's image as base64 (what Ollama's `images` take), checked: type, encoding, size, bytes. */
export function imageFromDataUrl(url: string, param: string, limits: ImageLimits): string {
  const comma = url.indexOf(',');
  const header = comma < 0 ? '' : url.slice(5, comma).toLowerCase();
  const [type = '', ...flags] = header.split(';');
  if (comma < 0 || !flags.includes('base64')) throw badImage(param, 'a data URL must be base64-encoded.');
  if (type !== '' && !IMAGE_TYPES.has(type)) {
    throw badImage(param, `images must be PNG, JPEG or WebP (got ${type.slice(0, 60)}).`);
  }
  const data = url.slice(comma + 1).replace(/\s+/g, '');
  if (data.length % 4 !== 0 || !BASE64.test(data)) throw badImage(param, 'the data URL is not valid base64.');
  if ((data.length / 4) * 3 > limits.maxBytes + 2) throw tooLarge(param, limits.maxBytes);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > limits.maxBytes) throw tooLarge(param, limits.maxBytes);
  if (!sniffImage(bytes)) throw badImage(param, 'the data is not a PNG, JPEG or WebP image.');
  return data;
}

/**
 * An agent whose every connection goes through `guardedLookup`, so the address checked is the one
 * connected to (a hostname cannot resolve to a public address for the check and a private one for
 * the connection). IP literals never reach a lookup; `fetchImage` checks those itself.
 */
function guardedAgent(onRefused: (address: string) => void): Agent {
  const guardedLookup = (
    hostname: string,
    options: { family?: number; all?: boolean },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    lookup(hostname, { family: options.family ?? 0, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const bad = addresses.find((a) => isRefusedAddress(a.address));
      if (bad || addresses.length === 0) {
        onRefused(bad?.address ?? hostname);
        return callback(new Error(`refused address for ${hostname}`), '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
  return new Agent({ connect: { lookup: guardedLookup as never }, connections: 1, pipelining: 0 });
}

export interface FetchImageOptions extends ImageLimits {
  /** Tests only: let private addresses through (a test server listens on loopback). */
  allowPrivateAddresses?: boolean;
}

/**
 * An `http(s)` image fetched for a vision model (Ollama cannot fetch one), as base64. Refused
 * (400): other schemes, private / loopback / link-local addresses (after DNS resolution), non-2xx,
 * too many redirects, no answer in time, a type or bytes that are not an image; larger than
 * `maxBytes`: 413.
 */
export async function fetchImage(
  url: string,
  param: string,
  options: FetchImageOptions,
  signal?: AbortSignal,
): Promise<string> {
  let refusedAddress: string | undefined;
  const agent = options.allowPrivateAddresses
    ? new Agent({ connections: 1 })
    : guardedAgent((address) => (refusedAddress = address));
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const refuse = (address: string) =>
    badImage(param, `images are not fetched from private, loopback or link-local addresses (${address}).`);
  try {
    let target = parseImageUrl(url, param);
    for (let redirects = 0; ; redirects++) {
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (!options.allowPrivateAddresses && isIP(host) !== 0 && isRefusedAddress(host)) throw refuse(host);
      let res;
      try {
        res = await request(target, {
          method: 'GET',
          dispatcher: agent,
          signal: abort,
          headers: { accept: 'image/png, image/jpeg, image/webp' },
        });
      } catch {
        if (refusedAddress) throw refuse(refusedAddress);
        if (signal?.aborted) throw signal.reason;
        if (deadline.aborted)
          throw badImage(param, `the image was not fetched within ${options.timeoutMs} ms.`);
        throw badImage(param, 'the image could not be fetched.');
      }
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
        await res.body.dump();
        if (redirects >= options.maxRedirects) throw badImage(param, 'too many redirects.');
        target = parseImageUrl(new URL(location, target).href, param);
        continue;
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw badImage(param, `fetching the image answered ${res.statusCode}.`);
      }
      const type = String(res.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (!IMAGE_TYPES.has(type)) {
        await res.body.dump();
        throw badImage(param, `images must be PNG, JPEG or WebP (the URL answered ${type || 'no type'}).`);
      }
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > options.maxBytes) {
        await res.body.dump();
        throw tooLarge(param, options.maxBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > options.maxBytes) {
            res.body.destroy();
            throw tooLarge(param, options.maxBytes);
          }
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        if (error instanceof AppError) throw error;
        if (signal?.aborted) throw signal.reason;
        throw badImage(param, 'the image could not be read in time.');
      }
      const bytes = Buffer.concat(chunks);
      if (!sniffImage(bytes)) throw badImage(param, 'the URL did not answer a PNG, JPEG or WebP image.');
      return bytes.toString('base64');
    }
  } finally {
    void agent.close();
  }
}

function parseImageUrl(url: string, param: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badImage(param, 'not a valid URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw badImage(param, 'image URLs must be http(s) or data: URLs.');
  }
  if (parsed.username || parsed.password) throw badImage(param, 'image URLs may not carry credentials.');
  return parsed;
}
