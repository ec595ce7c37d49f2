#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startOllamaSim } from './index.js';
import { parseKeepAlive } from './models.js';
import { PROFILES, type SimProfileName } from './options.js';

const USAGE = `ollama-sim: an Ollama-compatible SIMULATOR (test double, not a real model)

  --port <n>               port to listen on (default 11434; 0 picks a free one)
  --host <addr>            interface to bind (default 127.0.0.1)
  --models <a,b>           models it holds (default llama3.2,llava,qwen3,nomic-embed-text)
  --profile <name>         fast (default: no GPU costs) or gpu-8b (an 8B model on one GPU); flags override it
  --tokens-per-second <n>  token pace (default 100; 0 = no pacing)
  --ttft-ms <n>            time to first token in ms (default 20)
  --response-tokens <n>    reply length in tokens (default 24)
  --max-parallel <n>       requests at once per model, like OLLAMA_NUM_PARALLEL (default 0 = unlimited)
  --max-queue <n>          waiting requests before 503, like OLLAMA_MAX_QUEUE (default 512)
  --load-ms <n>            time to load a model into GPU memory (default 0)
  --max-loaded-models <n>  models in memory at once, like OLLAMA_MAX_LOADED_MODELS (default 0 = unlimited)
  --keep-alive <d>         idle time before a model unloads, like OLLAMA_KEEP_ALIVE: "5m", "30s", seconds, -1 (default 5m)
  --prompt-tokens-per-second <n>  prompt processing speed (default 0 = free)
  --busy-slot-slowdown <x> decode slowdown per other busy slot of the model (default 0)
  --prompt-cache           reuse a slot's cached prompt prefix (default off)
  --seed <n>               seed when a request gives none (default 0)
  -h, --help               show this help

OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE, OLLAMA_MAX_LOADED_MODELS and OLLAMA_KEEP_ALIVE are read when the
matching flag is not given.`;

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new Error(`--${name} must be a number >= 0, got "${value}"`);
  }
  return parsed;
}

function keepAliveFlag(value: string): number {
  const none = Number.NaN;
  const parsed = parseKeepAlive(/^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value, none);
  if (Number.isNaN(parsed))
    throw new Error(`--keep-alive must be a duration like "5m" or seconds, got "${value}"`);
  return parsed;
}

async function main(): Promise<void> {
  // `pnpm start -- --port 1` passes the "--" through; drop it so the flags are read.
  const argv = process.argv.slice(2);
  if (argv[0] === '--') argv.shift();
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      models: { type: 'string' },
      'tokens-per-second': { type: 'string' },
      'ttft-ms': { type: 'string' },
      'response-tokens': { type: 'string' },
      'max-parallel': { type: 'string' },
      'max-queue': { type: 'string' },
      seed: { type: 'string' },
      profile: { type: 'string' },
      'load-ms': { type: 'string' },
      'max-loaded-models': { type: 'string' },
      'keep-alive': { type: 'string' },
      'prompt-tokens-per-second': { type: 'string' },
      'busy-slot-slowdown': { type: 'string' },
      'prompt-cache': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const profile = values.profile;
  if (profile !== undefined && !Object.hasOwn(PROFILES, profile)) {
    throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}, got "${profile}"`);
  }
  const env = process.env;
  const keepAlive = values['keep-alive'] ?? env.OLLAMA_KEEP_ALIVE;
  const sim = await startOllamaSim({
    profile: profile as SimProfileName | undefined,
    port: numberFlag('port', values.port) ?? 11434,
    host: values.host ?? '127.0.0.1',
    models: values.models
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    tokensPerSecond: numberFlag('tokens-per-second', values['tokens-per-second']),
    ttftMs: numberFlag('ttft-ms', values['ttft-ms']),
    responseTokens: numberFlag('response-tokens', values['response-tokens']),
    maxParallel: numberFlag('max-parallel', values['max-parallel'] ?? env.OLLAMA_NUM_PARALLEL),
    maxQueue: numberFlag('max-queue', values['max-queue'] ?? env.OLLAMA_MAX_QUEUE),
    loadMs: numberFlag('load-ms', values['load-ms']),
    maxLoadedModels: numberFlag(
      'max-loaded-models',
      values['max-loaded-models'] ?? env.OLLAMA_MAX_LOADED_MODELS,
    ),
    keepAliveMs: keepAlive === undefined ? undefined : keepAliveFlag(keepAlive),
    promptTokensPerSecond: numberFlag('prompt-tokens-per-second', values['prompt-tokens-per-second']),
    busySlotSlowdown: numberFlag('busy-slot-slowdown', values['busy-slot-slowdown']),
    promptCache: values['prompt-cache'],
    seed: numberFlag('seed', values.seed),
    logger: (line) => console.log(line),
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`ollama-sim: ${signal} received, closing`);
    // A stuck close must not keep the process alive forever.
    setTimeout(() => process.exit(1), 5000).unref();
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('ollama-sim: close failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`ollama-sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
