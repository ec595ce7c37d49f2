// One stack (auth, inference-gateway, chat-api, one ollama-sim) for the bad-input files, each
// service a real process on a free port in its own schema. Fault files start their own.
import type { TestProject } from 'vitest/node';
import { TEST_DATABASE_URL } from '@corral/test-support';
import { type Stack, startStack } from './support/stack.js';
import type { FuzzStack } from './support/shared-stack.js';

/** Slow clients are cut after these (slowloris test); real requests here take milliseconds. */
export const HEADERS_TIMEOUT_MS = 2000;
export const REQUEST_TIMEOUT_MS = 3000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack: Stack = await startStack({
    env: {
      all: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        LOG_LEVEL: 'warn',
      },
    },
  });
  const [sim] = stack.sims;
  if (!stack.chat || !stack.gateway || !sim) throw new Error('the shared stack is incomplete');
  const shared: FuzzStack = {
    authUrl: stack.auth.url,
    chatUrl: stack.chat.url,
    gatewayUrl: stack.gateway.url,
    simUrl: sim.url,
    authSchema: stack.authSchema,
    chatSchema: stack.chatSchema,
    databaseUrl: TEST_DATABASE_URL,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    pids: {
      auth: stack.auth.child.pid ?? 0,
      chat: stack.chat.child.pid ?? 0,
      gateway: stack.gateway.child.pid ?? 0,
    },
  };
  project.provide('fuzzStack', shared);
  return async () => {
    const dead = [stack.auth, stack.chat, stack.gateway].filter((p) => p && !p.isAlive());
    await stack.close();
    if (dead.length > 0) {
      throw new Error(
        `services died during the run: ${dead.map((p) => `${p?.name}:\n${p?.output().slice(-3000)}`).join('\n')}`,
      );
    }
  };
}
