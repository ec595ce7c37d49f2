import { describe, expect, it } from 'vitest';
import { normalizeModelName, sameModel } from './model-names.js';

describe('normalizeModelName', () => {
  it('tags an untagged name :latest', () => {
    expect(normalizeModelName('llama3.2')).toBe('llama3.2:latest');
  });

  it('keeps a name that has a tag', () => {
    expect(normalizeModelName('llama3.2:1b')).toBe('llama3.2:1b');
    expect(normalizeModelName('qwen2.5:latest')).toBe('qwen2.5:latest');
  });

  it('trims the name before deciding', () => {
    expect(normalizeModelName('  llama3.2 \n')).toBe('llama3.2:latest');
    expect(normalizeModelName(' llama3.2:1b ')).toBe('llama3.2:1b');
  });

  it('reads a colon before the last slash as a registry port, not a tag', () => {
    expect(normalizeModelName('host:5000/m')).toBe('host:5000/m:latest');
    expect(normalizeModelName('registry.local:5000/team/llama3.2')).toBe(
      'registry.local:5000/team/llama3.2:latest',
    );
    expect(normalizeModelName('host:5000/m:q4')).toBe('host:5000/m:q4');
  });

  it('tags namespaced names the same way', () => {
    expect(normalizeModelName('library/llama3.2')).toBe('library/llama3.2:latest');
    expect(normalizeModelName('hf.co/org/model:Q4_K_M')).toBe('hf.co/org/model:Q4_K_M');
  });

  it('is idempotent', () => {
    for (const name of ['llama3.2', 'host:5000/m', 'a/b:c', ' x ']) {
      const once = normalizeModelName(name);
      expect(normalizeModelName(once)).toBe(once);
    }
  });
});

describe('sameModel', () => {
  it('matches a name with and without :latest, and no other tag', () => {
    expect(sameModel('llama3.2', 'llama3.2:latest')).toBe(true);
    expect(sameModel('llama3.2', 'llama3.2:1b')).toBe(false);
    expect(sameModel('host:5000/m', 'host:5000/m:latest')).toBe(true);
  });
});
