import { inject } from 'vitest';

/** What test/global-setup.ts hands the test files about the one running `corral start`. */
export interface CorralStack {
  /** The URL `corral start` printed (web: the SPA, /api, /v1 through its local-mode proxy). */
  baseUrl: string;
  admin: { email: string; password: string };
  /** inference-gateway's own URL (not exposed through web), for the Ollama client. */
  gatewayUrl: string;
  /** Bearer token for the gateway when it requires one (GATEWAY_SERVICE_TOKEN), else null. */
  gatewayToken: string | null;
  inference: { kind: string; label: string; urls: string[] };
  /** CORRAL_HOME of this run. */
  home: string;
  /** Where screenshots and the stack's log go (gitignored). */
  artifactsDir: string;
  /** The test identity provider auth signs people in with (oidc-provider), and the one person on it. */
  sso: { issuer: string; buttonLabel: string; login: string; email: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    corral: CorralStack;
  }
}

export const corral = (): CorralStack => inject('corral');
