/**
 * How the Node.js process of every Corral service is sized, wherever it runs: the image (Dockerfile
 * ENV), the chart (`config.nodeOptions`, `config.mallocMmapThreshold`), `corral start` and the
 * benches. tests/chart checks that the Dockerfile and the chart's defaults say the same as this
 * file. Why these values: docs/operations.md, "Memory".
 *
 * - `--max-semi-space-size=4`: V8's young generation grows to 2 × 16 MB on a large machine and
 *   stays there once traffic has passed; 2 × 4 MB showed no CPU cost per request in the benches.
 * - `--max-old-space-size=512`: without it V8 sizes the heap from the machine's (or the
 *   container's) memory, and on a large machine lets hundreds of MB of garbage pile up before it
 *   collects. Raise it together with the memory limit.
 * - `MALLOC_MMAP_THRESHOLD_=131072`: glibc serves large allocations from mmap and gives them back
 *   when freed; left alone it raises that threshold after the first large free (up to 32 MB), after
 *   which freed compiler and buffer memory stays in the process.
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=512';
export const SERVICE_MALLOC_MMAP_THRESHOLD = '131072';

/** The variables to start a service with; a NODE_OPTIONS already in `env` goes last, so it wins. */
export function serviceRuntimeEnv(env: Record<string, string | undefined> = {}): {
  NODE_OPTIONS: string;
  MALLOC_MMAP_THRESHOLD_: string;
} {
  return {
    NODE_OPTIONS: [SERVICE_NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' '),
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ || SERVICE_MALLOC_MMAP_THRESHOLD,
  };
}
