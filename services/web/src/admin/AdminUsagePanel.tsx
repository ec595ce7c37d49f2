import { useEffect, useId, useMemo, useState } from 'react';
import { api, type AdminUsageRow } from '../api/index.js';
import { UsageChart } from '../settings/UsageChart.js';
import { UsageTable } from '../settings/UsagePanel.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { UserName, useUserDirectory } from './UserName.js';

/** Tokens per user id, most first (chat-api's rows are per day, user and model). */
export function tokensByUser(rows: readonly AdminUsageRow[]): Array<{ userId: string; tokens: number }> {
  const byUser = new Map<string, number>();
  for (const row of rows) {
    byUser.set(row.userId, (byUser.get(row.userId) ?? 0) + row.promptTokens + row.completionTokens);
  }
  return [...byUser]
    .map(([userId, tokens]) => ({ userId, tokens }))
    .sort((a, b) => b.tokens - a.tokens || a.userId.localeCompare(b.userId));
}

export function AdminUsagePanel() {
  const [rows, setRows] = useState<AdminUsageRow[] | null>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    api.chat.admin.usage(30).then(setRows, setError);
  }, []);
  const totals = useMemo(() => tokensByUser(rows ?? []), [rows]);
  const directory = useUserDirectory(totals.map((t) => t.userId));
  const byUserHeading = useId();
  return (
    <div className="panel">
      <h2>All users, last 30 days</h2>
      {error !== undefined && <ErrorNotice error={error} />}
      {rows && (
        <>
          <UsageChart rows={rows} days={30} />
          <UsageTable rows={rows} />
          <h3 id={byUserHeading}>By user</h3>
          {directory.error !== undefined && (
            <p className="muted" role="status">
              Could not load the users list, so users are shown by id.
            </p>
          )}
          <table className="table" aria-labelledby={byUserHeading} aria-busy={directory.pending}>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Tokens</th>
              </tr>
            </thead>
            <tbody>
              {totals.map(({ userId, tokens }) => (
                <tr key={userId} data-user-id={userId}>
                  <td>
                    <UserName id={userId} directory={directory} />
                  </td>
                  <td>{tokens}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
