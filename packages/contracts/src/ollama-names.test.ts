import { describe, expect, it } from 'vitest';
import { ollamaNameProblem } from './model-names.js';
import { modelPullRequest } from './pool.js';

describe('ollamaNameProblem (Ollama types/model/name.go)', () => {
  it.each([
    'llama3.2',
    'llama3.2:latest',
    'qwen3:0.6b',
    'library/llama3.2:3b-instruct-q4_K_M',
    'jmorganca/mistral_7b',
    'registry.example.com:5000/team/model:v1',
    'https://registry.example.com/team/model:v1',
    'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M',
  ])('accepts %s', (name) => {
    expect(ollamaNameProblem(name)).toBeNull();
  });

  it.each([
    ['definitely not a model!!', /model/],
    ['', /name the model/],
    ['llama3.2:', /tag/],
    [':latest', /model/],
    ['-model', /start with/],
    ['team.name/model', /namespace/],
    ['a/b/c/d', /too many/],
    ['model:tag:more/x', /model|namespace/],
    ['m'.repeat(81), /1 to 80/],
    ['llamá', /model/],
  ])('refuses %j', (name, why) => {
    expect(ollamaNameProblem(name)).toMatch(why);
  });

  it('a pull request names the field it refuses', () => {
    const parsed = modelPullRequest.safeParse({ model: 'definitely not a model!!' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['model']);
  });
});
