#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startOllamaSim } from './index.js';

const USAGE = `ollama-sim: an Ollama-compatible SIMULATOR (test double, not a real model)

  --port <n>               port to listen on (default 11434; 0 picks a free one)
  --host <addr>            interface to bind (default 127.0.0.1)
  --models <a,b>           models it holds (default llama3.2,nomic-embed-text)
  --tokens-per-second <n>  token pace (default 100; 0 = no pacing)
  --ttft-ms <n>            time to first token in ms (default 20)
  --response-tokens <n>    reply length in tokens (default 24)
  --max-parallel <n>       generations at once, like OLLAMA_NUM_PARALLEL (default 0 = unlimited)
  --max-queue <n>          waiting generations before 503, like OLLAMA_MAX_QUEUE (default 512)
  --seed <n>               seed when a request gives none (default 0)
  -h, --help               show this help`;

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new Error(`--${name} must be a number >= 0, got "${value}"`);
  }
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sim = await startOllamaSim({
    port: numberFlag('port', values.port) ?? 11434,
    host: values.host ?? '127.0.0.1',
    models: values.models
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    tokensPerSecond: numberFlag('tokens-per-second', values['tokens-per-second']),
    ttftMs: numberFlag('ttft-ms', values['ttft-ms']),
    responseTokens: numberFlag('response-tokens', values['response-tokens']),
    maxParallel: numberFlag('max-parallel', values['max-parallel']),
    maxQueue: numberFlag('max-queue', values['max-queue']),
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
