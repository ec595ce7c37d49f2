import { useEffect, useState } from 'react';
import { api, type UsageRow } from '../api/index.js';
import { UsageChart } from '../settings/UsageChart.js';
import { UsageTable } from '../settings/UsagePanel.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

export function AdminUsagePanel() {
  const [rows, setRows] = useState<UsageRow[] | null>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    api.chat.admin.usage(30).then(setRows, setError);
  }, []);
  const byUser = new Map<string, number>();
  for (const row of rows ?? []) {
    const who = row.email ?? row.userId ?? 'unknown';
    byUser.set(who, (byUser.get(who) ?? 0) + row.promptTokens + row.completionTokens);
  }
  return (
    <div className="panel">
      <h2>All users, last 30 days</h2>
      {error !== undefined && <ErrorNotice error={error} />}
      {rows && (
        <>
          <UsageChart rows={rows} days={30} />
          <UsageTable rows={rows} />
          <h3>By user</h3>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Tokens</th>
              </tr>
            </thead>
            <tbody>
              {[...byUser]
                .sort((a, b) => b[1] - a[1])
                .map(([who, tokens]) => (
                  <tr key={who}>
                    <td>{who}</td>
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
