import { runService } from '@corral/service-kit';
import { createApp } from './app.js';
import { chatEnvShape } from './config.js';

await runService({ name: 'chat-api', envShape: chatEnvShape, createApp: (kit) => createApp(kit) });
