import { runService } from '@corral/service-kit';
import { createWebServer, defaultStaticDir } from './app.js';
import { clientConfig } from './client-config.js';
import { webEnvShape } from './config.js';

await runService({
  name: 'web',
  envShape: webEnvShape,
  createApp: (kit) =>
    createWebServer(kit, {
      staticDir: kit.config.STATIC_DIR ?? defaultStaticDir(),
      authUrl: kit.config.AUTH_URL,
      chatApiUrl: kit.config.CHAT_API_URL,
      gatewayUrl: kit.config.GATEWAY_URL,
      proxyTimeoutMs: kit.config.PROXY_TIMEOUT_MS,
      hstsMaxAgeSeconds: kit.config.HSTS_MAX_AGE_SECONDS,
      clientConfig: clientConfig({
        kind: kit.config.CORRAL_INFERENCE_KIND,
        label: kit.config.CORRAL_INFERENCE_LABEL,
      }),
    }),
});
