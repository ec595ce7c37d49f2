import type { ApiClient } from '../api/http.js';

/** The channel every tab of this origin listens on. */
const CHANNEL = 'corral-session';

type SessionMessage = { type: 'signed-out' } | { type: 'signed-in' };

/**
 * Signing out or in in one tab does the same in every other tab at once (BroadcastChannel): a
 * tab told "signed out" drops its access token; one told "signed in" exchanges the shared refresh
 * cookie for its own session. Messages received are not sent on again.
 */
export function syncSessionAcrossTabs(client: ApiClient): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined;
  const channel = new BroadcastChannel(CHANNEL);
  let applyingRemote = false;
  const off = client.onSessionChange(({ reason }) => {
    if (applyingRemote) return;
    if (reason === 'signed-out') channel.postMessage({ type: 'signed-out' } satisfies SessionMessage);
    else if (reason === 'signed-in') channel.postMessage({ type: 'signed-in' } satisfies SessionMessage);
  });
  channel.onmessage = (event: MessageEvent<SessionMessage>) => {
    applyingRemote = true;
    try {
      if (event.data?.type === 'signed-out') client.endSession('signed-out');
      // A refresh announces itself as `refreshed`, which is not sent on.
      else if (event.data?.type === 'signed-in') void client.refresh().catch(() => undefined);
    } finally {
      applyingRemote = false;
    }
  };
  return () => {
    off();
    channel.close();
  };
}
