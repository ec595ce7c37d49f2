import { Suspense, lazy, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, type SharedConversation } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

const Markdown = lazy(() => import('../markdown/Markdown.js'));

/**
 * A shared conversation, read-only: the snapshot its owner took when sharing. Only signed-in users
 * reach this page (the app sends anyone else to sign in, then back here).
 */
export default function SharedPage() {
  const { token = '' } = useParams();
  const [shared, setShared] = useState<SharedConversation | null>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    setShared(null);
    setError(undefined);
    api.library.sharedConversation(token).then(
      (loaded) => live && setShared(loaded),
      (caught: unknown) => live && setError(caught),
    );
    return () => {
      live = false;
    };
  }, [token]);

  if (error !== undefined) {
    return (
      <section className="page">
        <h1>Shared conversation</h1>
        <ErrorNotice error={error} />
        <p>
          <Link to="/">Start a new chat</Link>
        </p>
      </section>
    );
  }
  if (!shared) return <p className="muted page-loading">Loading…</p>;
  return (
    <section className="page shared-view" aria-label="Shared conversation">
      <h1>{shared.title || 'Untitled conversation'}</h1>
      <p className="muted">
        Shared {new Date(shared.createdAt).toLocaleString()} · {shared.model} · read-only snapshot
        {shared.own ? ' (you shared this)' : ''}
      </p>
      <div className="shared-view__messages">
        {shared.messages.map((message, index) => (
          <article key={index} className={`message message--${message.role}`}>
            <div className="message__body">
              {message.role === 'assistant' ? (
                <Suspense fallback={<p className="plain-text">{message.content}</p>}>
                  <Markdown text={message.content} />
                </Suspense>
              ) : (
                <p className="plain-text">{message.content}</p>
              )}
            </div>
          </article>
        ))}
      </div>
    </section>
  );
}
