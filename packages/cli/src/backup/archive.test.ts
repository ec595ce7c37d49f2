import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { settingsFilter } from './archive.js';

const PREAMBLE = [
  'SET statement_timeout = 0;',
  'SET lock_timeout = 0;',
  'SET transaction_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  'BEGIN;',
];

/** The script in chunks of `size` bytes, as a pipe delivers it (lines cut anywhere). */
async function filtered(script: string, serverMajor: number, size = 7): Promise<string> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < script.length; at += size) chunks.push(Buffer.from(script.slice(at, at + size)));
  return text(Readable.from(chunks).pipe(settingsFilter(serverMajor)));
}

describe('settingsFilter (pg_restore 17 scripts into older servers)', () => {
  it('drops SET transaction_timeout for a server before 17, keeps every other line', async () => {
    const script = `${PREAMBLE.join('\n')}\nCREATE TABLE t (x text);\nCOMMIT;\n`;
    expect(await filtered(script, 15)).toBe(script.replace('SET transaction_timeout = 0;\n', ''));
    expect(await filtered(script, 16)).not.toContain('transaction_timeout');
  });

  it('passes the script unchanged to a server that knows the setting', async () => {
    const script = `${PREAMBLE.join('\n')}\nCOMMIT;\n`;
    expect(await filtered(script, 17)).toBe(script);
  });

  it('reads only the preamble: table data after it passes as is, a last line without newline too', async () => {
    const data = Array.from({ length: 250 }, (_, i) => `row ${i}`).join('\n');
    const script = `${PREAMBLE.join('\n')}\n${data}\nSET transaction_timeout = 0;\nCOMMIT;`;
    const out = await filtered(script, 15, 13);
    expect(out).toBe(script.replace('SET transaction_timeout = 0;\n', ''));
    expect(out.endsWith('SET transaction_timeout = 0;\nCOMMIT;')).toBe(true);
  });
});
