import { normalizeModelName } from '@corral/contracts';
import { DEFAULT_TUNABLES } from './options.js';
import { sampleFromSchema } from './schema-sample.js';

// Lorem-ipsum pseudo-words: nobody mistakes them for a real model's answer.
const WORDS = [
  'lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', 'sed', 'do', 'eiusmod',
  'tempor', 'incididunt', 'ut', 'labore', 'et', 'dolore', 'magna', 'aliqua', 'enim', 'ad', 'minim', 'veniam',
  'quis', 'nostrud', 'exercitation', 'ullamco', 'laboris', 'nisi', 'aliquip', 'ex', 'ea', 'commodo',
  'consequat', 'duis', 'aute', 'irure', 'in', 'reprehenderit', 'voluptate', 'velit', 'esse', 'cillum',
  'fugiat', 'nulla', 'pariatur', 'excepteur', 'sint', 'occaecat', 'cupidatat', 'non', 'proident', 'sunt',
  'culpa', 'qui', 'officia', 'deserunt', 'mollit', 'anim', 'id', 'est', 'laborum', 'simulata', 'machina',
]; // prettier-ignore

/** 32-bit FNV-1a over UTF-16 code units. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for pseudo-words and test vectors. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimReplyInput {
  model: string;
  /** For generate: the prompt; for chat: the last user message (see `lastUserMessage`). */
  prompt: string;
  /** Request seed; falls back to the simulator's seed option (default 0). */
  seed?: number;
  /** Ollama `options.num_predict` / OpenAI `max_tokens`; values <= 0 mean no limit. */
  numPredict?: number;
  /** `"json"` makes the reply a JSON object; a JSON schema, a JSON document valid against it. */
  format?: unknown;
  /** The simulator's `responseTokens` option (default 24). */
  responseTokens?: number;
}

export interface SimReply {
  tokens: string[];
  text: string;
  doneReason: 'stop' | 'length';
  evalCount: number;
}

/** The exact reply the simulator gives for a request, so tests can compare text and token counts. */
export function simulatedReply(input: SimReplyInput): SimReply {
  const length = Math.max(1, input.responseTokens ?? DEFAULT_TUNABLES.responseTokens);
  const seed = input.seed ?? DEFAULT_TUNABLES.seed;
  const random = createRandom(hash32(`${normalizeModelName(input.model)}\u0000${input.prompt}\u0000${seed}`));
  const natural =
    typeof input.format === 'object' && input.format !== null
      ? jsonPieces(JSON.stringify(sampleFromSchema(input.format, random)))
      : input.format === 'json'
        ? jsonTokens(random, length)
        : proseTokens(random, length);
  const limit =
    input.numPredict !== undefined && input.numPredict > 0 ? Math.floor(input.numPredict) : Infinity;
  const tokens = limit < natural.length ? natural.slice(0, limit) : natural;
  return {
    tokens,
    text: tokens.join(''),
    doneReason: tokens.length < natural.length ? 'length' : 'stop',
    evalCount: tokens.length,
  };
}

function pickWord(random: () => number): string {
  return WORDS[Math.floor(random() * WORDS.length)] ?? 'lorem';
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function proseTokens(random: () => number, length: number): string[] {
  const tokens: string[] = [];
  let sentenceStart = true;
  for (let i = 0; i < length - 1; i++) {
    const previous = tokens[tokens.length - 1];
    if (!sentenceStart && previous !== ',' && i < length - 2 && random() < 0.12) {
      const end = random() < 0.5;
      tokens.push(end ? '.' : ',');
      sentenceStart = end;
      continue;
    }
    const word = pickWord(random);
    tokens.push(i === 0 ? capitalize(word) : ` ${sentenceStart ? capitalize(word) : word}`);
    sentenceStart = false;
  }
  if (length === 1) tokens.push(capitalize(pickWord(random)));
  else tokens.push(sentenceStart ? ` ${capitalize(pickWord(random))}` : '.');
  return tokens;
}

/** JSON text in token-sized pieces (words, punctuation and the spaces before them). */
export function jsonPieces(text: string): string[] {
  return text.match(/\s*[\w.+-]+|\s*[^\w\s]/g) ?? [text];
}

// {"simulated": true, "text": "lorem ipsum ..."} split into token-sized pieces.
function jsonTokens(random: () => number, length: number): string[] {
  const head = ['{"', 'simulated', '":', ' true', ',', ' "', 'text', '":', ' "'];
  const words = Math.max(1, length - head.length - 1);
  const body: string[] = [];
  for (let i = 0; i < words; i++) body.push(i === 0 ? pickWord(random) : ` ${pickWord(random)}`);
  return [...head, ...body, '"}'];
}

/** The text a chat reply is derived from: the content of the last user message. */
export function lastUserMessage(messages: ReadonlyArray<{ role?: unknown; content?: unknown }>): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user') return contentText(message.content);
  }
  return '';
}

/** Message content as text: a string, or OpenAI's array of `{type: "text", text}` parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
          ? (part as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}

/** Rough token count of prompt text (about four characters a token, at least one). */
export function countPromptTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Deterministic unit-length vector for a model and text. */
export function simulatedEmbedding(model: string, text: string, dimensions: number): number[] {
  const random = createRandom(hash32(`${normalizeModelName(model)}\u0001${text}`));
  const values = new Array<number>(dimensions);
  let sumSquares = 0;
  for (let i = 0; i < dimensions; i++) {
    const v = random() * 2 - 1;
    values[i] = v;
    sumSquares += v * v;
  }
  const norm = Math.sqrt(sumSquares) || 1;
  for (let i = 0; i < dimensions; i++) values[i] = Math.round(((values[i] ?? 0) / norm) * 1e8) / 1e8;
  return values;
}

/** Deterministic token ids standing in for Ollama's generate `context`. */
export function contextIds(prompt: string, reply: SimReply, promptTokens: number): number[] {
  const ids: number[] = [];
  const random = createRandom(hash32(prompt));
  for (let i = 0; i < promptTokens; i++) ids.push(Math.floor(random() * 128000));
  for (const token of reply.tokens) ids.push(hash32(token) % 128000);
  return ids;
}
