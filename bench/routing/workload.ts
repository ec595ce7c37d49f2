/**
 * The multi-turn workload of bench/routing, built once from a seed so that every strategy replays
 * the very same conversations: when each user starts, its model, the prompts of its turns (growing:
 * each turn sends the whole conversation so far) and the think time before each next turn.
 */
import { createRandom } from '@corral/ollama-sim';

export interface Conversation {
  user: string;
  model: string;
  /** When the first turn is sent, in ms from the start of the run. */
  startMs: number;
  /** The system prompt (the long shared context of a chat: instructions, a document). */
  system: string;
  /** The user's message of each turn. */
  turns: string[];
  /** Pause after each turn's answer before the next (reading, typing). */
  thinkMs: number[];
}

export interface WorkloadSettings {
  users: number;
  models: string[];
  /** Users start spread evenly over this long (arrival rate). */
  rampMs: number;
  minTurns: number;
  maxTurns: number;
  /** System prompt size range, in tokens (about four characters a token, as the sim counts). */
  systemTokens: [number, number];
  /** Size of each user message, in tokens. */
  turnTokens: [number, number];
  thinkMs: [number, number];
  seed: number;
}

const WORDS = ['alpha', 'bravo', 'cargo', 'delta', 'ember', 'fjord', 'gamma', 'harbor', 'ivory', 'jolly'];

function text(random: () => number, tokens: number): string {
  const parts: string[] = [];
  let chars = 0;
  while (chars < tokens * 4) {
    const word = WORDS[Math.floor(random() * WORDS.length)] as string;
    parts.push(word);
    chars += word.length + 1;
  }
  return parts.join(' ');
}

const between = (random: () => number, [low, high]: [number, number]) =>
  Math.round(low + random() * (high - low));

export function buildWorkload(settings: WorkloadSettings): Conversation[] {
  const random = createRandom(settings.seed);
  return Array.from({ length: settings.users }, (_, i) => {
    const turnCount = between(random, [settings.minTurns, settings.maxTurns]);
    // The first model takes two thirds of the users: a popular model and a less used one.
    const model = (random() < 2 / 3 ? settings.models[0] : settings.models[1]) as string;
    return {
      user: `user-${i}`,
      model,
      startMs: Math.round((i * settings.rampMs) / settings.users),
      system: `You are assistant ${i}. ${text(random, between(random, settings.systemTokens))}`,
      turns: Array.from({ length: turnCount }, () => text(random, between(random, settings.turnTokens))),
      thinkMs: Array.from({ length: turnCount }, () => between(random, settings.thinkMs)),
    };
  });
}
