import { useEffect, useState } from 'react';
import { api, type UsageRow } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
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
