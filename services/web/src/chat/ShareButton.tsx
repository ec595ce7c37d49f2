import { useEffect, useState } from 'react';
import { api, type Share } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

/** The address a share opens at (the web app's own page, for signed-in users of this Corral). */
export const shareUrl = (share: Pick<Share, 'token'>) => `${window.location.origin}/share/${share.token}`;

/**
 * Shares the conversation as it is now: a read-only snapshot of the branch shown, under a link
 * only signed-in users of this Corral can open. Revoked from Settings → Shared links.
 */
export function ShareButton({ conversationId, disabled }: { conversationId: string; disabled: boolean }) {
  const [share, setShare] = useState<Share | null>(null);
  const [error, setError] = useState<unknown>();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    setShare(null);
    setError(undefined);
  }, [conversationId]);

  const create = async () => {
    setError(undefined);
    setCopied(false);
    try {
      setShare(await api.library.share(conversationId));
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div className="share-bar">
      <button type="button" className="btn btn--small" disabled={disabled} onClick={() => void create()}>
        {share ? 'Share again (new snapshot)' : 'Share'}
      </button>
      {share && (
        <p role="status" className="share-bar">
          <span>Read-only link for signed-in users:</span>
          <code data-testid="share-link">{shareUrl(share)}</code>
          <button
            type="button"
            className="btn btn--small btn--ghost"
            onClick={() => void navigator.clipboard.writeText(shareUrl(share)).then(() => setCopied(true))}
          >
            {copied ? 'Copied' : 'Copy link'}
          </button>
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </div>
  );
}
