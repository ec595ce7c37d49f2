import { DEFAULT_MODELS, startOllamaSim, type OllamaSim } from '@corral/ollama-sim';
import axios from 'axios';

export const LOCAL_OLLAMA_URL = 'http://127.0.0.1:11434';
/** The simulator's own set: a chat model with tools, a vision, a thinking and an embedding model. */
export const DEMO_MODELS = DEFAULT_MODELS;
export const SIMULATOR_LABEL = 'ollama-sim (SIMULATOR — replies are generated text, not a model)';
/** Slow and long enough for a person to watch a reply stream in (and press Stop). */
export const DEMO_SIM_PACE = { tokensPerSecond: 30, responseTokens: 120 } as const;

export interface Inference {
  kind: 'configured' | 'local-ollama' | 'simulator';
  /** What the console and the web app show, e.g. "Ollama at http://127.0.0.1:11434". */
  label: string;
  urls: string[];
  /** Set when the simulator runs in this process; closed on shutdown. */
  sim?: OllamaSim;
}

/** A real Ollama answers /api/version; ollama-sim also answers /_sim/config with `simulator: true`. */
export async function probeOllama(url: string): Promise<'ollama' | 'simulator' | 'none'> {
  try {
    const version = await axios.get(`${url}/api/version`, { timeout: 1500, validateStatus: () => true });
    if (version.status !== 200) return 'none';
    const sim = await axios.get(`${url}/_sim/config`, { timeout: 1500, validateStatus: () => true });
    const body = sim.data as { simulator?: unknown } | undefined;
    return sim.status === 200 && body?.simulator === true ? 'simulator' : 'ollama';
  } catch {
    return 'none';
  }
}

/** OLLAMA_URLS if set, else a real Ollama on 127.0.0.1:11434, else ollama-sim in this process. */
export async function chooseInference(env: NodeJS.ProcessEnv = process.env): Promise<Inference> {
  const configured = (env.OLLAMA_URLS ?? '')
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (configured.length > 0) {
    return {
      kind: 'configured',
      label: `Ollama at ${configured.join(', ')} (OLLAMA_URLS)`,
      urls: configured,
    };
  }
  if ((await probeOllama(LOCAL_OLLAMA_URL)) === 'ollama') {
    return { kind: 'local-ollama', label: `Ollama at ${LOCAL_OLLAMA_URL}`, urls: [LOCAL_OLLAMA_URL] };
  }
  const sim = await startOllamaSim({ port: 0, models: DEMO_MODELS, logger: null, ...DEMO_SIM_PACE });
  return { kind: 'simulator', label: SIMULATOR_LABEL, urls: [sim.url], sim };
}
