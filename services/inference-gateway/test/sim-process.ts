import type { SimStats, SimTunables } from '@corral/ollama-sim';
import { configureSim, type RunningService, startSimProcess } from '@corral/test-support';

/** An ollama-sim running as its own process (a GPU server stand-in that can really die). */
export interface SimProcess extends RunningService {
  stats(): Promise<SimStats>;
  configure(settings: Partial<SimTunables> & { failure?: unknown }): Promise<void>;
  /** SIGTERM, waiting for the exit. */
  close(): Promise<void>;
}

/** Starts `ollama-sim` from source (the way `pnpm start` does) and waits for its listening line. */
export async function spawnSim(flags: string[] = [], port = 0): Promise<SimProcess> {
  const sim = await startSimProcess(flags, { port, timeoutMs: 20_000 });
  return {
    ...sim,
    stats: async () => (await (await fetch(`${sim.url}/_sim/stats`)).json()) as SimStats,
    configure: (settings) => configureSim(sim.url, settings),
    close: async () => void (await sim.stop()),
  };
}
