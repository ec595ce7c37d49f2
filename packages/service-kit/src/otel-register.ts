/**
 * Preload for tracing: `node --import @corral/service-kit/otel-register dist/index.js`.
 * Does nothing unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { startTelemetry } from './telemetry.js';

await startTelemetry({
  serviceName: process.env.OTEL_SERVICE_NAME ?? 'corral',
  endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
});
