import { describe, expect, it } from 'vitest';
import { UsageEventFilter, requestUsageOnBehalf } from './usage-event-filter.js';

const head = '{"id":"c1","object":"chat.completion.chunk","model":"m","choices":';
const content = (text: string) =>
  `data: ${head}[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;
const usage = `data: ${head}[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n`;
const stream = `${content('hé')}${content('llo')}${usage}data: [DONE]\n\n`;
const withoutUsage = `${content('hé')}${content('llo')}data: [DONE]\n\n`;

describe('requestUsageOnBehalf', () => {
  it('asks for usage on streams that did not, keeping other stream options', () => {
    expect(requestUsageOnBehalf({ model: 'm', stream: true })).toEqual({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(requestUsageOnBehalf({ stream: true, stream_options: { x: 1, include_usage: false } })).toEqual({
      stream: true,
      stream_options: { x: 1, include_usage: true },
    });
  });

  it('leaves alone clients that asked, and replies that are not streamed', () => {
    expect(requestUsageOnBehalf({ stream: true, stream_options: { include_usage: true } })).toBeUndefined();
    expect(requestUsageOnBehalf({ stream: false })).toBeUndefined();
    expect(requestUsageOnBehalf({})).toBeUndefined();
  });
});

describe('UsageEventFilter', () => {
  it('drops only the usage event, however the bytes are split', () => {
    const bytes = Buffer.from(stream);
    for (const size of [1, 3, 17, 64, bytes.length]) {
      const filter = new UsageEventFilter();
      const out: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) out.push(filter.push(bytes.subarray(i, i + size)));
      out.push(filter.end());
      expect(Buffer.concat(out).toString('utf8')).toBe(withoutUsage);
    }
  });

  it('hands whole events on at once, as the same buffer', () => {
    const filter = new UsageEventFilter();
    const chunk = Buffer.from(content('a'));
    expect(filter.push(chunk)).toBe(chunk);
  });
});
