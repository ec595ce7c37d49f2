import { describe, expect, it } from 'vitest';
import { UsageTap } from './usage-tap.js';

const token = (text: string) =>
  `{"model":"m","message":{"role":"assistant","content":${JSON.stringify(text)}},"done":false}\n`;
const final = '{"model":"m","done":true,"prompt_eval_count":7,"eval_count":3,"eval_duration":100}\n';

describe('UsageTap', () => {
  it('reads eval_count from the final NDJSON line, however the bytes are split', () => {
    const whole = Buffer.from(token('a') + token('b') + token('c') + final);
    for (const size of [1, 2, 7, 50, whole.length]) {
      let live = 0;
      const tap = new UsageTap((n) => (live += n));
      for (let i = 0; i < whole.length; i += size) tap.push(whole.subarray(i, i + size));
      expect(tap.end()).toEqual({ generated: 3, prompt: 7 });
      expect(live).toBe(3);
    }
  });

  it('reads a non-streamed reply (one object, no trailing newline)', () => {
    const tap = new UsageTap();
    tap.push(Buffer.from('{"model":"m","message":{"content":"hi there"},"done":true,"eval_count":2'));
    tap.push(Buffer.from(',"prompt_eval_count":4}'));
    expect(tap.end()).toEqual({ generated: 2, prompt: 4 });
  });

  it('reads OpenAI usage from an SSE stream', () => {
    const tap = new UsageTap();
    tap.push(Buffer.from('data: {"choices":[{"delta":{"content":"x"}}]}\n\n'));
    tap.push(
      Buffer.from(
        'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9}}\n\ndata: [DONE]\n\n',
      ),
    );
    expect(tap.end()).toEqual({ generated: 9, prompt: 5 });
    expect(tap.liveTokens).toBe(1);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const tap = new UsageTap();
    const bytes = Buffer.from(`${token('héllo 🦙')}${final}`);
    const cut = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
    tap.push(bytes.subarray(0, cut));
    tap.push(bytes.subarray(cut));
    expect(tap.end()).toEqual({ generated: 3, prompt: 7 });
  });
});
