import { describe, expect, it } from 'vitest';
import { frameChunk } from './relay.js';

describe('frameChunk', () => {
  it('frames a body as one HTTP/1.1 chunk: hex size, CRLF, bytes, CRLF', () => {
    for (const size of [1, 9, 15, 16, 255, 256, 4095, 4096, 70_000]) {
      const body = Buffer.alloc(size, 0x61);
      const framed = frameChunk(body);
      expect(framed.toString('latin1')).toBe(`${size.toString(16)}\r\n${body.toString('latin1')}\r\n`);
    }
  });
});
