import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { baseEnvShape, envPort, loadConfig } from '../src/config.js';
import { createServiceKit, type ServiceKit } from '../src/kit.js';
import { createLogger } from '../src/logger.js';

export const testShape = { ...baseEnvShape, PORT: envPort(0), GREETING: z.string().default('hello') };

/** A kit whose JSON log lines are captured for assertions. */
export function kitWithCapturedLogs(env: Record<string, string> = {}): {
  kit: ServiceKit<ReturnType<typeof loadConfig<typeof testShape>>>;
  logLines: () => Array<Record<string, unknown>>;
} {
  const config = loadConfig('test-svc', testShape, { LOG_LEVEL: 'debug', ...env });
  const stream = new PassThrough();
  let captured = '';
  stream.on('data', (chunk: Buffer) => {
    captured += chunk.toString('utf8');
  });
  const logger = createLogger({ service: 'test-svc', level: 'debug', stream });
  const kit = createServiceKit({ name: 'test-svc', version: '1.2.3', config, logger });
  const logLines = () =>
    captured
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { kit, logLines };
}
