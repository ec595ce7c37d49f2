import { describe, expect, it } from 'vitest';
import { formatField, formatServiceLine, formatTime, LineSplitter, prettifyLogLine } from './log-format.js';

const at = '2025-11-23T10:11:12.345Z';
const plain = { width: 8, colour: false, json: false };

describe('prettifyLogLine', () => {
  it('turns a JSON log line into time level message key=value', () => {
    const line = JSON.stringify({
      level: 'info',
      message: 'listening',
      service: 'auth',
      timestamp: at,
      port: 5001,
      host: '127.0.0.1',
    });
    expect(prettifyLogLine(line)).toBe(`${formatTime(at)} info  listening port=5001 host=127.0.0.1`);
  });

  it('quotes values with spaces and shows objects as JSON', () => {
    const line = JSON.stringify({
      level: 'warn',
      message: 'slow',
      timestamp: at,
      reason: 'two words',
      models: ['a', 'b'],
    });
    expect(prettifyLogLine(line)).toBe(`${formatTime(at)} warn  slow reason="two words" models=["a","b"]`);
  });

  it('prints an error stack on indented lines after the message', () => {
    const line = JSON.stringify({
      level: 'error',
      message: 'start-up failed',
      timestamp: at,
      error: { name: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.ts:1:1)' },
    });
    const out = prettifyLogLine(line).split('\n');
    expect(out[0]).toBe(`${formatTime(at)} error start-up failed error={"name":"Error","message":"boom"}`);
    expect(out.slice(1)).toEqual(['    Error: boom', '        at x (y.ts:1:1)']);
  });

  it('leaves lines that are not JSON objects alone', () => {
    expect(prettifyLogLine('plain text from a tool')).toBe('plain text from a tool');
    expect(prettifyLogLine('{not json')).toBe('{not json');
    expect(prettifyLogLine('[1,2]')).toBe('[1,2]');
  });

  it('colours the level only when asked', () => {
    const line = JSON.stringify({ level: 'error', message: 'bad', timestamp: at });
    expect(prettifyLogLine(line, false)).not.toContain('\u001b[');
    expect(prettifyLogLine(line, true)).toContain('\u001b[31merror');
  });
});

describe('formatServiceLine', () => {
  it('prefixes with the padded service name', () => {
    const line = JSON.stringify({ level: 'info', message: 'hi', timestamp: at });
    expect(formatServiceLine('web', line, plain)).toBe(`web      | ${formatTime(at)} info  hi`);
  });

  it('keeps the raw JSON with json: true', () => {
    const line = JSON.stringify({ level: 'info', message: 'hi' });
    expect(formatServiceLine('auth', line, { ...plain, json: true })).toBe(`auth     | ${line}`);
  });

  it('repeats the prefix on every line of a multi-line entry', () => {
    const line = JSON.stringify({ level: 'error', message: 'x', timestamp: at, error: { stack: 'a\nb' } });
    const lines = formatServiceLine('chat-api', line, plain).split('\n');
    expect(lines).toHaveLength(3);
    for (const text of lines) expect(text.startsWith('chat-api | ')).toBe(true);
  });
});

describe('formatField and formatTime', () => {
  it('keeps simple words bare and quotes the rest', () => {
    expect(formatField('url', 'http://127.0.0.1:5001/x')).toBe('url=http://127.0.0.1:5001/x');
    expect(formatField('n', 3)).toBe('n=3');
    expect(formatField('empty', '')).toBe('empty=""');
    expect(formatField('q', 'a"b')).toBe('q="a\\"b"');
  });

  it('formats times as HH:MM:SS.mmm and passes non-dates through', () => {
    expect(formatTime(at)).toMatch(/^\d\d:\d\d:\d\d\.345$/);
    expect(formatTime('yesterday')).toBe('yesterday');
  });
});

describe('LineSplitter', () => {
  it('joins partial chunks into whole lines', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('{"a":');
    splitter.push('1}\nsecond\r\nthi');
    expect(lines).toEqual(['{"a":1}', 'second']);
    splitter.flush();
    expect(lines).toEqual(['{"a":1}', 'second', 'thi']);
  });
});
