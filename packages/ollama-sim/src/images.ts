import { SimHttpError } from './http-util.js';
import type { ImageEngine } from './known-models.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Map([...ALPHABET].map((char, index) => [char, index]));

/**
 * Where Go's `base64.StdEncoding` (which decodes Ollama's `images`, a `[]byte` in JSON) first fails on
 * this text, or -1 when it decodes. Go skips CR/LF, wants `=` padding, and rejects anything after it.
 */
export function goBase64ErrorOffset(text: string): number {
  let i = 0;
  const skipNewlines = (): void => {
    while (i < text.length && (text[i] === '\n' || text[i] === '\r')) i++;
  };
  for (;;) {
    // One quantum of four characters (newlines do not count).
    for (let j = 0; j < 4; j++) {
      skipNewlines();
      if (i === text.length) return j === 0 ? -1 : i - j;
      const char = text[i] as string;
      i++;
      if (DECODE.has(char)) continue;
      if (char !== '=' || j < 2) return i - 1;
      if (j === 2) {
        skipNewlines();
        if (i === text.length) return text.length;
        if (text[i] !== '=') return i - 1;
        i++;
      }
      skipNewlines();
      return i < text.length ? i : -1;
    }
  }
}

/** Ollama's 400 for an `images` entry that is not base64 (raised while it reads the JSON body). */
export function decodeImages(images: unknown): Buffer[] {
  if (images === undefined || images === null) return [];
  if (!Array.isArray(images)) throw new SimHttpError(400, 'images must be an array of base64 strings');
  return images.map((image: unknown) => {
    if (typeof image !== 'string') throw new SimHttpError(400, 'images must be an array of base64 strings');
    const offset = goBase64ErrorOffset(image);
    if (offset >= 0) throw new SimHttpError(400, `illegal base64 data at input byte ${offset}`);
    return Buffer.from(image.replace(/[\r\n]/g, ''), 'base64');
  });
}

/** The image formats Ollama's runners decode (PNG, JPEG, GIF, WebP, BMP), told by their magic bytes. */
export function isImage(bytes: Buffer): boolean {
  const starts = (prefix: number[], at = 0): boolean => prefix.every((byte, k) => bytes[at + k] === byte);
  return (
    starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) ||
    starts([0xff, 0xd8, 0xff]) ||
    bytes.subarray(0, 6).toString('latin1') === 'GIF87a' ||
    bytes.subarray(0, 6).toString('latin1') === 'GIF89a' ||
    (bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
      bytes.subarray(8, 12).toString('latin1') === 'WEBP') ||
    starts([0x42, 0x4d])
  );
}

/**
 * The runner's error for bytes that are not an image, as the chat/generate handler passes it on
 * (`http.Error` in the runner adds the trailing newline).
 */
export function imageErrorMessage(engine: ImageEngine): string {
  const cause = engine === 'llama' ? 'unable to tokenize mtmd embedding from image' : 'image: unknown format';
  return `Failed to create new sequence: failed to process inputs: ${cause}\n`;
}
