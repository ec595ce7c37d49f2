/** `GET /config.json` from the web server: what answers chat in this deployment. */
export interface ClientConfig {
  inference: {
    kind: 'configured' | 'local-ollama' | 'simulator' | null;
    label: string | null;
  } | null;
}

const NONE: ClientConfig = { inference: null };
let loaded: Promise<ClientConfig> | undefined;

/** Fetched once per page load; a server without /config.json (or a failure) just shows nothing. */
export function loadClientConfig(): Promise<ClientConfig> {
  loaded ??= fetch('/config.json', { headers: { Accept: 'application/json' } })
    .then((res) => (res.ok ? (res.json() as Promise<ClientConfig>) : NONE))
    .then((config) => (config && typeof config === 'object' && 'inference' in config ? config : NONE))
    .catch(() => NONE);
  return loaded;
}
