import { describe, expect, it } from 'vitest';
import { decodeImages, goBase64ErrorOffset, isImage } from './images.js';

describe("goBase64ErrorOffset (Go's base64.StdEncoding, as Ollama decodes images)", () => {
  it('accepts padded base64, with or without line breaks', () => {
    for (const text of ['', 'aGVsbG8=', 'aGVsbA==', 'aGVs', 'aGVs\nbG8=\r\n'])
      expect(goBase64ErrorOffset(text)).toBe(-1);
  });

  it('points at the byte Go names', () => {
    expect(goBase64ErrorOffset('aGVsbG8')).toBe(4); // missing padding: start of the short quantum
    expect(goBase64ErrorOffset('abc')).toBe(0);
    expect(goBase64ErrorOffset('not base64!')).toBe(3); // the space
    expect(goBase64ErrorOffset('data:image/png;base64,AAAA')).toBe(4); // the colon
    expect(goBase64ErrorOffset('aGVsbG8=x')).toBe(8); // garbage after padding
    expect(goBase64ErrorOffset('aG==')).toBe(-1);
    expect(goBase64ErrorOffset('a===')).toBe(1); // padding too early
    expect(goBase64ErrorOffset('aGV=bG8=')).toBe(4); // data after padding
  });

  it('decodeImages answers with the error text Ollama sends', () => {
    expect(() => decodeImages(['aGVsbG8'])).toThrow('illegal base64 data at input byte 4');
    expect(decodeImages(['aGVsbG8='])[0]?.toString()).toBe('hello');
  });
});

describe('isImage', () => {
  it('knows PNG, JPEG, GIF and WebP by their first bytes', () => {
    expect(isImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe(true);
    expect(isImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe(true);
    expect(isImage(Buffer.from('GIF89a....'))).toBe(true);
    expect(isImage(Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '))).toBe(true);
    expect(isImage(Buffer.from('hello world'))).toBe(false);
    expect(isImage(Buffer.alloc(0))).toBe(false);
  });
});
