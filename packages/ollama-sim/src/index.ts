import type { AddressInfo } from 'node:net';
import { ModelRegistry, type SimModelSpec } from './models.js';
import {
  DEFAULT_MODELS,
  DEFAULT_VERSION,
  type FailureSetting,
  type OllamaSimOptions,
  type SimTunables,
} from './options.js';
import { SimRuntime, type SimChatRequest, type SimStats } from './runtime.js';
import { closeSimServer, createSimServer } from './server.js';

export {
  expectedChatReply,
  expectedGenerateReply,
  expectedOpenAIChatReply,
  type ExpectedReplyOptions,
} from './expected.js';
export {
  contentText,
  countPromptTokens,
  createRandom,
  lastUserMessage,
  simulatedEmbedding,
  simulatedReply,
  type SimReply,
  type SimReplyInput,
} from './generator.js';
export { sampleFromSchema } from './schema-sample.js';
export {
  simulatedChatReply,
  type ChatReplyInput,
  type SimChatReply,
  type SimToolCall,
  type ToolDeclaration,
} from './reply.js';
export { type Capability } from './known-models.js';
export { fullModelName, type SimModelKind, type SimModelSpec } from './models.js';
// Ollama's naming rule, which Corral's services share (@corral/contracts).
export { normalizeModelName } from '@corral/contracts';
export {
  DEFAULT_MODELS,
  DEFAULT_TUNABLES,
  DEFAULT_VERSION,
  GPU_8B_PROFILE,
  PROFILES,
  type SimProfileName,
  type FailureMode,
  type FailureScope,
  type FailureSetting,
  type OllamaSimOptions,
  type SimTunables,
} from './options.js';
export { BUSY_MESSAGE } from './routes.js';
export type { SimChatRequest, SimStats } from './runtime.js';
export type { ModelStats } from './scheduler.js';

/** A running simulator. */
export interface OllamaSim {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Ends open streams and hung requests, then stops listening. */
  close(): Promise<void>;
  /** Changes what goes wrong on purpose; `{ mode: 'none' }` heals it. */
  setFailure(failure: FailureSetting): void;
  /** Changes pace, limits, reply length or seed while running; returns the full set now in force. */
  setOptions(options: Partial<SimTunables>): SimTunables;
  /** The tunables now in force. */
  options(): SimTunables;
  /** Adds a model, as if pulled. */
  addModel(model: string | SimModelSpec): void;
  /** What the last `/api/chat` requests that asked for a reply carried (roles, text, options), oldest first. */
  chats(): SimChatRequest[];
  /** A copy of the counters. */
  stats(): SimStats;
  resetStats(): void;
}

export const START_BANNER = 'ollama-sim (simulator, not a real model)';

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts an Ollama-compatible simulator. Port 0 (the default) picks a free port. */
export async function startOllamaSim(options: OllamaSimOptions = {}): Promise<OllamaSim> {
  const {
    port = 0,
    host = '127.0.0.1',
    models = DEFAULT_MODELS,
    failure,
    version = DEFAULT_VERSION,
  } = options;
  const rt = new SimRuntime(new ModelRegistry(models), options, version);
  if (failure) rt.setFailure(failure);
  const server = createSimServer(rt);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(host)}:${address.port}`;
  const log =
    options.logger === undefined ? (line: string) => process.stderr.write(`${line}\n`) : options.logger;
  const modelNames = rt.models.list().map((model) => model.name);
  log?.(`${START_BANNER} listening on ${url} models=${modelNames.join(',')}`);

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host,
    close: () => (closed ??= closeSimServer(rt, server)),
    setFailure: (setting) => void rt.setFailure(setting),
    setOptions: (partial) => rt.setOptions(partial),
    options: () => ({ ...rt.tunables }),
    addModel: (model) => void rt.models.add(model),
    chats: () => structuredClone(rt.recentChats),
    stats: () => rt.snapshotStats(),
    resetStats: () => rt.resetStats(),
  };
}
