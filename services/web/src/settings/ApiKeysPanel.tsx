import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, type ApiKey, type CreatedApiKey } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

const EXPIRY_CHOICES = [
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
  { label: 'Never', days: 0 },
];

const formatDate = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : '—');

export function ApiKeysPanel() {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState('');
  const [days, setDays] = useState(90);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [copied, setCopied] = useState(false);

  const reload = useCallback(() => {
    api.auth.listApiKeys().then(setKeys, setError);
  }, []);
  useEffect(reload, [reload]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const expiresAt = days > 0 ? new Date(Date.now() + days * 86_400_000).toISOString() : null;
      const result = await api.auth.createApiKey({ name: name.trim(), expiresAt });
      setCreated(result);
      setCopied(false);
      setName('');
      reload();
    } catch (caught) {
      setError(caught);
    }
  };

  const revoke = async (key: ApiKey) => {
    if (!window.confirm(`Revoke “${key.name}”? Programs using it stop working within seconds.`)) return;
    try {
      await api.auth.revokeApiKey(key.id);
      reload();
    } catch (caught) {
      setError(caught);
    }
  };

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
      <table className="table">
        <caption className="visually-hidden">Your API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} className={key.revokedAt ? 'revoked' : undefined}>
              <td>{key.name}</td>
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>{formatDate(key.createdAt)}</td>
              <td>{key.expiresAt ? formatDate(key.expiresAt) : 'never'}</td>
              <td>{formatDate(key.lastUsedAt)}</td>
              <td>
                {key.revokedAt ? (
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
                )}
              </td>
            </tr>
          ))}
          {keys.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No keys yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
