import { type FormEvent, useState } from 'react';
import { api, type ApiKey, type CreatedApiKey } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { ListTable, useListPanel } from '../ui/ListTable.js';

const EXPIRY_CHOICES = [
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
  { label: 'Never', days: 0 },
];

const formatDate = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : '—');

export function ApiKeysPanel() {
  const { items: keys, error, setError, change } = useListPanel(() => api.auth.listApiKeys());
  const [name, setName] = useState('');
  const [days, setDays] = useState(90);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [copied, setCopied] = useState(false);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const expiresAt = days > 0 ? new Date(Date.now() + days * 86_400_000).toISOString() : null;
    await change(async () => {
      setCreated(await api.auth.createApiKey({ name: name.trim(), expiresAt }));
      setCopied(false);
      setName('');
    });
  };

  const revoke = (key: ApiKey) =>
    change(
      () => api.auth.revokeApiKey(key.id),
      `Revoke “${key.name}”? Programs using it stop working within seconds.`,
    );

  return (
    <div className="panel">
      <p className="muted">
        Keys let programs call the OpenAI-compatible API at <code>/v1</code> as you.
      </p>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <form className="row row--wrap" onSubmit={(e) => void create(e)} aria-label="Create API key">
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Expires
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.days} value={c.days}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn btn--primary">
          Create key
        </button>
      </form>
      {created && (
        <div className="notice notice--success" role="status">
          <p>
            <strong>Copy your new key now.</strong> It will not be shown again.
          </p>
          <div className="row">
            <code className="secret" data-testid="new-api-key">
              {created.key}
            </code>
            <button
              type="button"
              className="btn btn--small"
              onClick={() => void navigator.clipboard.writeText(created.key).then(() => setCopied(true))}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
            <button type="button" className="btn btn--small btn--ghost" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <ListTable
        caption="Your API keys"
        items={keys}
        rowKey={(key) => key.id}
        rowClassName={(key) => (key.revokedAt ? 'revoked' : undefined)}
        columns={[
          { header: 'Name', cell: (key) => key.name },
          { header: 'Key', cell: (key) => <code>{key.prefix}…</code> },
          { header: 'Created', cell: (key) => formatDate(key.createdAt) },
          { header: 'Expires', cell: (key) => (key.expiresAt ? formatDate(key.expiresAt) : 'never') },
          { header: 'Last used', cell: (key) => formatDate(key.lastUsedAt) },
        ]}
        actions={(key) =>
          key.revokedAt ? (
            'revoked'
          ) : (
            <button
              type="button"
              className="btn btn--small btn--danger"
              onClick={() => void revoke(key)}
              aria-label={`Revoke ${key.name}`}
            >
              Revoke
            </button>
          )
        }
        empty="No keys yet."
      />
    </div>
  );
}
