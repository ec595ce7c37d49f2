import { runService } from '@corral/service-kit';
import { createApp } from './app.js';
import { gatewayEnvShape } from './config.js';

await runService({
  name: 'inference-gateway',
  envShape: gatewayEnvShape,
  createApp: (kit) => createApp(kit),
});
