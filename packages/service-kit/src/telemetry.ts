export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP endpoint (e.g. http://otel-collector:4318). Without it nothing is loaded. */
  endpoint?: string;
}

export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

const disabled: Telemetry = { enabled: false, shutdown: async () => {} };
let active: Telemetry = disabled;

/** Flushes buffered spans; the server calls it last during shutdown. */
export const shutdownTelemetry = (): Promise<void> => active.shutdown();

/**
 * Starts OpenTelemetry tracing with HTTP and express instrumentation and W3C `traceparent`
 * propagation. When no endpoint is configured it returns at once without importing the SDK, so
 * tracing costs nothing when off. Must run before express and http are loaded: services start it
 * with `node --import @corral/service-kit/otel-register`.
 */
export async function startTelemetry({ serviceName, endpoint }: TelemetryOptions): Promise<Telemetry> {
  if (!endpoint) return disabled;
  // ESM modules can only be patched through the import-in-the-middle loader hook.
  const { createRequire, register, syncBuiltinESMExports } = await import('node:module');
  register('import-in-the-middle/hook.mjs', import.meta.url);
  const [{ NodeSDK }, { OTLPTraceExporter }, { HttpInstrumentation }, { ExpressInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-express'),
    ]);
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(healthz|health|readyz|ready|metrics)\b/.test(req.url ?? ''),
      }),
      new ExpressInstrumentation(),
    ],
  });
  sdk.start();
  // `import { get } from 'node:http'` binds the builtin's exports: load the CommonJS modules so the
  // instrumentation patches them, then copy the patched functions onto the ESM bindings.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  syncBuiltinESMExports();
  active = { enabled: true, shutdown: () => sdk.shutdown() };
  return active;
}
