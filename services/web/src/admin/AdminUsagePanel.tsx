import { useEffect, useId, useMemo, useState } from 'react';
import { api, type AdminUsageRow } from '../api/index.js';
import { UsageChart } from '../settings/UsageChart.js';
import { UsageTable } from '../settings/UsagePanel.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { FeedbackSummary } from './FeedbackSummary.js';
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

type GroupUsage = Awaited<ReturnType<typeof api.chat.admin.usageByGroup>>[number];

/** Tokens by group (its current members'), most first; a failure here leaves the rest of the panel. */
function ByGroup() {
  const [groups, setGroups] = useState<GroupUsage[] | null>(null);
  const [error, setError] = useState<unknown>();
  const heading = useId();
  useEffect(() => {
    api.chat.admin.usageByGroup(30).then(setGroups, setError);
  }, []);
  const tokens = (g: GroupUsage) => g.promptTokens + g.completionTokens;
  return (
    <>
      <h3 id={heading}>By group</h3>
      {error !== undefined && <ErrorNotice error={error} />}
      {groups && groups.length === 0 && <p className="muted">No groups yet.</p>}
      {groups && groups.length > 0 && (
        <table className="table" aria-labelledby={heading}>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Members</th>
              <th scope="col">Requests</th>
              <th scope="col">Tokens</th>
            </tr>
          </thead>
          <tbody>
            {[...groups]
              .sort((a, b) => tokens(b) - tokens(a) || a.name.localeCompare(b.name))
              .map((group) => (
                <tr key={group.groupId}>
                  <td>{group.name}</td>
                  <td>{group.members}</td>
                  <td>{group.requests}</td>
                  <td>{tokens(group)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      <p className="muted">Counts each group’s current members; someone in two groups counts in both.</p>
    </>
  );
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
          <ByGroup />
          <FeedbackSummary />
        </>
      )}
    </div>
  );
}
