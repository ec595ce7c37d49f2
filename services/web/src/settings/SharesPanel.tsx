import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, type Share } from '../api/index.js';
import { shareUrl } from '../chat/ShareButton.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

/** The links the user shared conversations under; revoking one stops it opening at once. */
export function SharesPanel() {
  const [shares, setShares] = useState<Share[]>([]);
  const [error, setError] = useState<unknown>();
  const reload = useCallback(() => {
    api.library.shares().then(setShares, setError);
  }, []);
  useEffect(reload, [reload]);

  const revoke = async (share: Share) => {
    if (!window.confirm(`Revoke the link to “${share.title || 'Untitled'}”? It stops opening at once.`))
      return;
    try {
      await api.library.revokeShare(share.id);
      reload();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div className="panel">
      <p className="muted">
        A shared link shows a read-only snapshot of a conversation to anyone signed in to this Corral.
      </p>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <table className="table">
        <caption className="visually-hidden">Your shared links</caption>
        <thead>
          <tr>
            <th scope="col">Conversation</th>
            <th scope="col">Link</th>
            <th scope="col">Messages</th>
            <th scope="col">Shared</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shares.map((share) => (
            <tr key={share.id}>
              <td>
                <Link to={`/c/${share.conversationId}`}>{share.title || 'Untitled'}</Link>
              </td>
              <td>
                <code>{shareUrl(share)}</code>
              </td>
              <td>{share.messageCount}</td>
              <td>{new Date(share.createdAt).toLocaleDateString()}</td>
              <td>
                <button
                  type="button"
                  className="btn btn--small btn--danger"
                  aria-label={`Revoke link to ${share.title || 'Untitled'}`}
                  onClick={() => void revoke(share)}
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
          {shares.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No shared links.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
