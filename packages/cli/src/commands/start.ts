import { startCorral } from '../start.js';
import type { Command } from './types.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'run all of Corral on this machine (embedded PostgreSQL, every service)',
  usage: `corral start [--json]

Starts an embedded PostgreSQL (data in .corral/postgres, kept between runs), inference (OLLAMA_URLS,
else a local Ollama on 127.0.0.1:11434, else the ollama-sim simulator), then inference-gateway, auth,
chat-api and web, and prints the URL and the admin's password (once). Ctrl-C stops everything.

  --json   raw JSON log lines instead of the readable form

Environment:
  PORT                    web's port (default 3000)
  OLLAMA_URLS             Ollama servers to use (comma-separated)
  REDIS_URL               use Redis (default: none, in-process stand-ins)
  CORRAL_HOME             data directory (default: .corral in the repo root)
  CORRAL_POSTGRES_PORT    PostgreSQL port (default 5433, or a free one if taken)
  CORRAL_SKIP             chat-api,web: services not to start
  CORRAL_START_TIMEOUT_MS time each service has to become ready (default 120000)
  CORRAL_STOP_TIMEOUT_MS  time each service has to stop before SIGKILL (default 10000)
  LOG_LEVEL, NO_COLOR`,
  options: { json: { type: 'boolean' } },
  run: (values) => startCorral({ json: values.json === true }),
};
