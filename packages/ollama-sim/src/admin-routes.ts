import { SimHttpError, sendJson } from './http-util.js';
import { resolveTunables, validateFailure, validateTunables } from './options.js';
import type { RouteContext, RouteTable } from './routes.js';
import type { SimRuntime } from './runtime.js';

/** Prefix of the control endpoints; never part of Ollama's API, never hit by failure injection. */
export const ADMIN_PREFIX = '/_sim/';

function configOf(rt: SimRuntime): Record<string, unknown> {
  return {
    simulator: true,
    options: { ...rt.tunables },
    failure: rt.currentFailure(),
    models: rt.models.list().map((model) => model.name),
  };
}

// Validate everything before applying anything, so a bad field changes nothing.
function updateConfig({ rt, res, body }: RouteContext): void {
  try {
    // A profile resets every tunable to it; fields given beside it win.
    const tunables =
      body.profile === undefined ? validateTunables(body) : resolveTunables(body.profile, body);
    const failure = body.failure === undefined ? undefined : validateFailure(body.failure);
    rt.setOptions(tunables);
    if (failure) rt.setFailure(failure);
  } catch (error) {
    if (error instanceof RangeError) throw new SimHttpError(400, error.message);
    throw error;
  }
  sendJson(res, 200, configOf(rt));
}

export const adminRoutes: RouteTable = {
  'GET /_sim/stats': { handle: ({ rt, res }) => sendJson(res, 200, rt.snapshotStats()) },
  'POST /_sim/stats/reset': {
    handle: ({ rt, res }) => {
      rt.resetStats();
      sendJson(res, 200, rt.snapshotStats());
    },
  },
  'GET /_sim/config': { handle: ({ rt, res }) => sendJson(res, 200, configOf(rt)) },
  // What the last chat requests carried (messages, options), oldest first.
  'GET /_sim/chats': { handle: ({ rt, res }) => sendJson(res, 200, { items: rt.recentChats }) },
  'POST /_sim/config': { jsonBody: true, handle: updateConfig },
};
