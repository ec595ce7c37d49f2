import { useEffect, useState } from 'react';
import type { StorageUsage } from '@corral/contracts';
import { api, type UsageRow } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { formatBytes } from '../ui/format-bytes.js';
import { UsageChart } from './UsageChart.js';

export function UsageTable({ rows }: { rows: readonly UsageRow[] }) {
  const byModel = new Map<string, { requests: number; prompt: number; completion: number }>();
  for (const row of rows) {
    const entry = byModel.get(row.model) ?? { requests: 0, prompt: 0, completion: 0 };
    entry.requests += row.requests;
    entry.prompt += row.promptTokens;
    entry.completion += row.completionTokens;
    byModel.set(row.model, entry);
  }
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Requests</th>
          <th scope="col">Prompt tokens</th>
          <th scope="col">Reply tokens</th>
        </tr>
      </thead>
      <tbody>
        {[...byModel].map(([model, e]) => (
          <tr key={model}>
            <td>{model}</td>
            <td>{e.requests}</td>
            <td>{e.prompt}</td>
            <td>{e.completion}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Settings' line on image storage: what the user's attachments take and their quota. */
export function StorageLine() {
  const [storage, setStorage] = useState<StorageUsage | null>(null);
  useEffect(() => {
    api.chat.storage().then(setStorage, () => undefined);
  }, []);
  if (!storage) return null;
  return (
    <p className="muted" data-testid="storage-used">
      Images stored: {formatBytes(storage.usedBytes)}
      {storage.quotaBytes === null ? ' (no quota)' : ` of ${formatBytes(storage.quotaBytes)}`}.
    </p>
  );
}

export function UsagePanel() {
  const [rows, setRows] = useState<UsageRow[] | null>(null);
  const [error, setError] = useState<unknown>();
  const load = () => {
    setError(undefined);
    api.chat.usage(30).then(setRows, setError);
  };
  useEffect(load, []);
  return (
    <div className="panel">
      <h2>Tokens by day (last 30 days)</h2>
      <StorageLine />
      {error !== undefined && <ErrorNotice error={error} onRetry={load} />}
      {rows && (
        <>
          <UsageChart rows={rows} days={30} />
          <UsageTable rows={rows} />
        </>
      )}
    </div>
  );
}
