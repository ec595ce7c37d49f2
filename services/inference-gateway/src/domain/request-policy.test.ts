import { describe, expect, it } from 'vitest';
import { affinityKeyOf, applyKeepAlive } from './request-policy.js';

const chat = (...contents: string[]) => ({
  messages: contents.map((content, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content })),
});

describe('affinityKeyOf', () => {
  it('keys a conversation by its header, the same for every turn', () => {
    const first = affinityKeyOf('conv-1', 'llama3.2', chat('hi'));
    expect(first).toBe(affinityKeyOf('conv-1', 'llama3.2', chat('hi', 'hello', 'more')));
    expect(first).not.toBe(affinityKeyOf('conv-2', 'llama3.2', chat('hi')));
    expect(first).not.toBe(affinityKeyOf('conv-1', 'qwen2.5', chat('hi')));
  });

  it('without a header, keys by the leading messages every later turn repeats', () => {
    const turn2 = affinityKeyOf(undefined, 'm', chat('hi', 'hello'));
    const turn3 = affinityKeyOf(undefined, 'm', chat('hi', 'hello', 'again', 'sure'));
    expect(turn2).toBeDefined();
    expect(turn3).toBe(turn2);
    expect(affinityKeyOf(undefined, 'm', chat('other', 'hello'))).not.toBe(turn2);
  });

  it('has no key for a single message or a body without messages', () => {
    expect(affinityKeyOf(undefined, 'm', chat('hi'))).toBeUndefined();
    expect(affinityKeyOf(undefined, 'm', { prompt: 'x' })).toBeUndefined();
    expect(affinityKeyOf('  ', 'm', { prompt: 'x' })).toBeUndefined();
  });
});

describe('applyKeepAlive', () => {
  const deny = { value: undefined, clientMayUnloadOrPin: false };

  it('drops a client value that unloads or pins, keeps an ordinary one', () => {
    for (const value of [0, '0', '0s', -1, '-1', '-5m']) {
      expect(applyKeepAlive({ model: 'm', keep_alive: value }, deny)).toEqual({ model: 'm' });
    }
    expect(applyKeepAlive({ model: 'm', keep_alive: '10m' }, deny)).toBeUndefined();
    expect(applyKeepAlive({ model: 'm' }, deny)).toBeUndefined();
  });

  it('sets the pool value on every request', () => {
    const pool = { value: '30m', clientMayUnloadOrPin: false };
    expect(applyKeepAlive({ model: 'm' }, pool)).toEqual({ model: 'm', keep_alive: '30m' });
    expect(applyKeepAlive({ model: 'm', keep_alive: 0 }, pool)).toEqual({ model: 'm', keep_alive: '30m' });
    expect(applyKeepAlive({ model: 'm', keep_alive: '30m' }, pool)).toBeUndefined();
  });

  it('passes any client value when clients are allowed', () => {
    const allow = { value: '30m', clientMayUnloadOrPin: true };
    expect(applyKeepAlive({ model: 'm', keep_alive: 0 }, allow)).toBeUndefined();
    expect(applyKeepAlive({ model: 'm' }, allow)).toEqual({ model: 'm', keep_alive: '30m' });
  });
});
