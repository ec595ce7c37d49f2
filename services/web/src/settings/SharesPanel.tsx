import { Link } from 'react-router';
import { api, type Share } from '../api/index.js';
import { shareUrl } from '../chat/ShareButton.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { ListTable, useListPanel } from '../ui/ListTable.js';

/** The links the user shared conversations under; revoking one stops it opening at once. */
export function SharesPanel() {
  const { items: shares, error, setError, change } = useListPanel(() => api.library.shares());
  const revoke = (share: Share) =>
    change(
      () => api.library.revokeShare(share.id),
      `Revoke the link to “${share.title || 'Untitled'}”? It stops opening at once.`,
    );

  return (
    <div className="panel">
      <p className="muted">
        A shared link shows a read-only snapshot of a conversation to anyone signed in to this Corral.
      </p>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <ListTable
        caption="Your shared links"
        items={shares}
        rowKey={(share) => share.id}
        columns={[
          {
            header: 'Conversation',
            cell: (share) => <Link to={`/c/${share.conversationId}`}>{share.title || 'Untitled'}</Link>,
          },
          { header: 'Link', cell: (share) => <code>{shareUrl(share)}</code> },
          { header: 'Messages', cell: (share) => share.messageCount },
          { header: 'Shared', cell: (share) => new Date(share.createdAt).toLocaleDateString() },
        ]}
        actions={(share) => (
          <button
            type="button"
            className="btn btn--small btn--danger"
            aria-label={`Revoke link to ${share.title || 'Untitled'}`}
            onClick={() => void revoke(share)}
          >
            Revoke
          </button>
        )}
        empty="No shared links."
      />
    </div>
  );
}
