import { useCallback, useEffect, useState } from 'react';
import { api, type User, type UserLimits, type UserLimitsView, type UserStatus } from '../api/index.js';
import { useAuth } from '../auth/AuthContext.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { formatBytes } from '../ui/format-bytes.js';

export function UsersPanel() {
  const { user: me } = useAuth();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<UserStatus | ''>('');
  const [users, setUsers] = useState<User[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [limitsFor, setLimitsFor] = useState<User | null>(null);

  const load = useCallback(
    async (after: string | null) => {
      setError(undefined);
      try {
        const page = await api.auth.admin.users({
          ...(q.trim() ? { q: q.trim() } : {}),
          ...(status ? { status } : {}),
          ...(after ? { cursor: after } : {}),
        });
        setUsers((previous) => (after ? [...previous, ...page.items] : page.items));
        setCursor(page.nextCursor);
      } catch (caught) {
        setError(caught);
      }
    },
    [q, status],
  );

  useEffect(() => {
    const timer = window.setTimeout(() => void load(null), 250);
    return () => window.clearTimeout(timer);
  }, [load]);

  const act = async (action: () => Promise<User>) => {
    setError(undefined);
    try {
      const updated = await action();
      setUsers((list) => list.map((u) => (u.id === updated.id ? updated : u)));
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div className="panel">
      <div className="row row--wrap">
        <input
          type="search"
          aria-label="Search users"
          placeholder="Search by email or name"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <select
          aria-label="Filter by status"
          value={status}
          onChange={(e) => setStatus(e.target.value as UserStatus | '')}
        >
          <option value="">All statuses</option>
          <option value="pending">Pending</option>
          <option value="active">Active</option>
          <option value="disabled">Disabled</option>
        </select>
      </div>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Status</th>
            <th scope="col">Role</th>
            <th scope="col">Last sign-in</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} data-email={user.email}>
              <td>
                {user.email}
                {user.name ? <div className="muted">{user.name}</div> : null}
              </td>
              <td>
                <span className={`badge badge--${user.status}`}>{user.status}</span>
              </td>
              <td>
                <select
                  aria-label={`Role of ${user.email}`}
                  value={user.role}
                  disabled={user.id === me?.id}
                  onChange={(e) =>
                    void act(() => api.auth.admin.setRole(user.id, e.target.value as User['role']))
                  }
                >
                  <option value="user">user</option>
                  <option value="admin">admin</option>
                </select>
              </td>
              <td>{user.lastLoginAt ? new Date(user.lastLoginAt).toLocaleString() : '—'}</td>
              <td className="row">
                {user.status !== 'active' && (
                  <button
                    type="button"
                    className="btn btn--small btn--primary"
                    aria-label={`Activate ${user.email}`}
                    onClick={() => void act(() => api.auth.admin.activate(user.id))}
                  >
                    Activate
                  </button>
                )}
                {user.status !== 'disabled' && user.id !== me?.id && (
                  <button
                    type="button"
                    className="btn btn--small btn--danger"
                    aria-label={`Disable ${user.email}`}
                    onClick={() => void act(() => api.auth.admin.disable(user.id))}
                  >
                    Disable
                  </button>
                )}
                <button type="button" className="btn btn--small" onClick={() => setLimitsFor(user)}>
                  Limits
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" className="btn" onClick={() => void load(cursor)}>
          Load more
        </button>
      )}
      {limitsFor && <LimitsEditor user={limitsFor} onClose={() => setLimitsFor(null)} />}
    </div>
  );
}

type NumericLimit = 'dailyTokenBudget' | 'requestsPerMinute' | 'maxConcurrentStreams' | 'storageQuotaMb';
const EMPTY: Pick<UserLimits, NumericLimit> = {
  dailyTokenBudget: null,
  requestsPerMinute: null,
  maxConcurrentStreams: null,
  storageQuotaMb: null,
};
const describeDefault = (value: number | null | undefined) =>
  value === null || value === undefined
    ? 'default'
    : value === 0
      ? 'default: unlimited'
      : `default: ${value}`;

function LimitsEditor({ user, onClose }: { user: User; onClose: () => void }) {
  const [limits, setLimits] = useState<Pick<UserLimits, NumericLimit>>(EMPTY);
  const [view, setView] = useState<UserLimitsView | null>(null);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [groups, setGroups] = useState<string[] | null>(null);
  const show = (loaded: UserLimitsView) => {
    setView(loaded);
    setLimits({
      dailyTokenBudget: loaded.dailyTokenBudget,
      requestsPerMinute: loaded.requestsPerMinute,
      maxConcurrentStreams: loaded.maxConcurrentStreams,
      storageQuotaMb: loaded.storageQuotaMb,
    });
  };
  useEffect(() => {
    api.chat.admin.limits(user.id).then(show, setError);
    api.auth.admin
      .groupsOfUser(user.id)
      .then(
        (list) => setGroups(list.map((g) => (g.source === 'oidc' ? `${g.name} (synced)` : g.name))),
        setError,
      );
  }, [user.id]);
  const field = (key: NumericLimit, label: string) => (
    <label>
      {label} (empty = {describeDefault(view?.defaults[key])}; 0 = unlimited)
      <input
        type="number"
        min={0}
        value={limits[key] ?? ''}
        onChange={(e) => {
          setSaved(false);
          setLimits((l) => ({ ...l, [key]: e.target.value === '' ? null : Number(e.target.value) }));
        }}
      />
    </label>
  );
  return (
    <form
      className="card"
      aria-label={`Limits for ${user.email}`}
      onSubmit={(e) => {
        e.preventDefault();
        api.chat.admin.setLimits(user.id, limits).then((updated) => {
          show(updated);
          setSaved(true);
        }, setError);
      }}
    >
      <h2>Limits for {user.email}</h2>
      {error !== undefined && <ErrorNotice error={error} />}
      {groups && <p className="muted">Groups: {groups.length > 0 ? groups.join(', ') : 'none'}</p>}
      {field('dailyTokenBudget', 'Daily token budget')}
      {field('requestsPerMinute', 'Requests per minute')}
      {field('maxConcurrentStreams', 'Replies at once')}
      {field('storageQuotaMb', 'Image storage (MiB)')}
      {view && (
        <p className="muted">
          Images stored: {formatBytes(view.storageUsedBytes)} of{' '}
          {view.effective.storageQuotaMb ? `${view.effective.storageQuotaMb} MiB` : 'unlimited'}.
        </p>
      )}
      {view && (
        <p className="muted">
          In effect: {view.effective.requestsPerMinute || 'unlimited'} requests/min,{' '}
          {view.effective.dailyTokenBudget || 'unlimited'} tokens/day,{' '}
          {view.effective.maxConcurrentStreams || 'unlimited'} at once
          {view.effective.allowedModels.length > 0
            ? `; own models: ${view.effective.allowedModels.join(', ')}`
            : ''}
          {view.effective.groupModels.length > 0
            ? `; from groups: ${view.effective.groupModels.join(', ')}`
            : ''}
          . Own values win; otherwise the most generous of the user’s groups, else the default.
        </p>
      )}
      <div className="row">
        <button type="submit" className="btn btn--primary">
          Save limits
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}
