/**
 * The Node/malloc settings every Corral service runs with; a copy of
 * packages/service-kit/src/node-runtime.ts (this package does not depend on service-kit), kept
 * equal by tests/chart. Why these values: docs/operations.md, "Memory".
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=512';
export const SERVICE_MALLOC_MMAP_THRESHOLD = '131072';

/** The variables to start a service with; a NODE_OPTIONS already in `env` goes last, so it wins. */
export function serviceRuntimeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    NODE_OPTIONS: [SERVICE_NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' '),
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ || SERVICE_MALLOC_MMAP_THRESHOLD,
  };
}
