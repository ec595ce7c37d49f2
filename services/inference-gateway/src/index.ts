import { runService } from '@corral/service-kit';
import { createApp } from './app.js';
import { adminJwtVerifier } from './auth.js';
import { gatewayEnvShape } from './config.js';

await runService({
  name: 'inference-gateway',
  envShape: gatewayEnvShape,
  createApp: (kit) =>
    createApp(kit, {
      verifyAdminToken: adminJwtVerifier(kit.config, kit.logger, (close) =>
        kit.lifecycle.onShutdown('revocations', close),
      ),
    }),
});
