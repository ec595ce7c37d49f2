import { inject } from 'vitest';

/** What test/global-setup.ts hands the bad-input files about the shared stack. */
export interface FuzzStack {
  authUrl: string;
  chatUrl: string;
  gatewayUrl: string;
  simUrl: string;
  authSchema: string;
  chatSchema: string;
  databaseUrl: string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  pids: { auth: number; chat: number; gateway: number };
}

declare module 'vitest' {
  export interface ProvidedContext {
    fuzzStack: FuzzStack;
  }
}

export const fuzzStack = (): FuzzStack => inject('fuzzStack');

export const serviceUrls = (): string[] => {
  const s = fuzzStack();
  return [s.authUrl, s.chatUrl, s.gatewayUrl];
};

/** The snapshot's database coordinates for a user of the shared stack. */
export const snapshotDb = () => {
  const s = fuzzStack();
  return {
    authUrl: s.databaseUrl,
    authSchema: s.authSchema,
    chatUrl: s.databaseUrl,
    chatSchema: s.chatSchema,
  };
};
