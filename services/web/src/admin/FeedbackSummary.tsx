import { useEffect, useId, useState } from 'react';
import type { AdminFeedbackSummary } from '@corral/contracts';
import { api } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { UserName, useUserDirectory } from './UserName.js';

/** The admin usage view's feedback: thumbs up/down per model and the newest comments (last 30 days). */
export function FeedbackSummary({ days = 30 }: { days?: number }) {
  const [summary, setSummary] = useState<AdminFeedbackSummary | null>(null);
  const [error, setError] = useState<unknown>();
  const byModel = useId();
  const comments = useId();
  const directory = useUserDirectory(summary?.recentComments.map((c) => c.userId) ?? []);
  useEffect(() => {
    api.organize.feedbackSummary(days).then(setSummary, setError);
  }, [days]);
  return (
    <>
      <h3 id={byModel}>Feedback by model</h3>
      {error !== undefined && <ErrorNotice error={error} />}
      {summary && summary.byModel.length === 0 && <p className="muted">No feedback on replies yet.</p>}
      {summary && summary.byModel.length > 0 && (
        <table className="table" aria-labelledby={byModel}>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Good</th>
              <th scope="col">Bad</th>
            </tr>
          </thead>
          <tbody>
            {summary.byModel.map((row) => (
              <tr key={row.model} data-model={row.model}>
                <td>{row.model || 'unknown'}</td>
                <td>{row.up}</td>
                <td>{row.down}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {summary && summary.recentComments.length > 0 && (
        <>
          <h3 id={comments}>Recent comments</h3>
          <table className="table" aria-labelledby={comments}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">User</th>
                <th scope="col">Model</th>
                <th scope="col">Rating</th>
                <th scope="col">Comment</th>
              </tr>
            </thead>
            <tbody>
              {summary.recentComments.map((c) => (
                <tr key={c.messageId}>
                  <td>{new Date(c.updatedAt).toLocaleString()}</td>
                  <td>
                    <UserName id={c.userId} directory={directory} />
                  </td>
                  <td>{c.model}</td>
                  <td>{c.rating === 'up' ? 'Good' : 'Bad'}</td>
                  <td>{c.comment}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
