import { runService } from '@corral/service-kit';
import { createApp } from './app.js';
import { authEnvShape } from './config.js';

await runService({ name: 'auth', envShape: authEnvShape, createApp: (kit) => createApp(kit) });
