import type { RequestListener } from 'node:http';
import type { z } from 'zod';
import { ConfigError, baseEnvShape, loadConfig, type BaseConfig } from './config.js';
import { type ServiceKit, createServiceKit } from './kit.js';
import { createLogger } from './logger.js';
import { type RunningServer, startServer } from './server.js';

type ServiceShape = z.ZodRawShape & { PORT: z.ZodType<number> };
type ServiceConfig<Shape extends ServiceShape> = BaseConfig & { PORT: number } & z.infer<z.ZodObject<Shape>>;

export interface RunServiceOptions<Shape extends ServiceShape> {
  name: string;
  version?: string;
  /** The service's own variables (PORT included); the base variables are added. */
  envShape: Shape;
  createApp: (kit: ServiceKit<ServiceConfig<Shape>>) => RequestListener | Promise<RequestListener>;
  env?: Record<string, string | undefined>;
  /** How a failed start-up ends the process (after logging why): `process.exit` by default. */
  exit?: (code: number) => never;
}

/**
 * What a service's `index.ts` calls: parse config (a bad variable stops start-up with its name),
 * build the app, listen, and drain on SIGTERM.
 */
export async function runService<Shape extends ServiceShape>(
  options: RunServiceOptions<Shape>,
): Promise<RunningServer> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let config: ServiceConfig<Shape>;
  try {
    config = loadConfig(
      options.name,
      { ...baseEnvShape, ...options.envShape },
      options.env,
    ) as ServiceConfig<Shape>;
  } catch (error) {
    const logger = createLogger({ service: options.name, level: 'error' });
    if (error instanceof ConfigError) {
      logger.error(error.message, { problems: error.problems });
    } else {
      logger.error('start-up failed', { error });
    }
    return exit(1);
  }
  const kit = createServiceKit({
    name: options.name,
    config,
    ...(options.version ? { version: options.version } : {}),
  });
  try {
    const app = await options.createApp(kit);
    return await startServer(kit, app, { port: config.PORT });
  } catch (error) {
    kit.logger.error('start-up failed', { error });
    await kit.lifecycle.runShutdownHooks(kit.logger);
    return exit(1);
  }
}
