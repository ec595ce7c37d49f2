import type { Group, User } from '@corral/contracts';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

/** One group's members: listed; added by email and removed when the group is made here (synced ones follow the IdP). */
function Members({ group, onChanged }: { group: Group; onChanged: () => void }) {
  const [members, setMembers] = useState<User[]>([]);
  const [email, setEmail] = useState('');
  const [error, setError] = useState<unknown>();
  const synced = group.source === 'oidc';

  const load = useCallback(async () => {
    try {
      setMembers(await api.auth.admin.groupMembers(group.id));
    } catch (caught) {
      setError(caught);
    }
  }, [group.id]);
  useEffect(() => void load(), [load]);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const wanted = email.trim().toLowerCase();
      const found = (await api.auth.admin.users({ q: wanted })).items.find((user) => user.email === wanted);
      if (!found) throw new Error(`No account has the email ${wanted}.`);
      await api.auth.admin.addGroupMember(group.id, found.id);
      setEmail('');
      await load();
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };
  const remove = async (user: User) => {
    setError(undefined);
    try {
      await api.auth.admin.removeGroupMember(group.id, user.id);
      await load();
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div className="panel" aria-label={`Members of ${group.name}`}>
      {error !== undefined && <ErrorNotice error={error} />}
      {synced && (
        <p className="muted" role="note">
          Synced from the identity provider: members follow its groups claim at each sign-in.
        </p>
      )}
      <ul>
        {members.map((user) => (
          <li key={user.id}>
            {user.email}{' '}
            {!synced && (
              <button type="button" className="btn btn--ghost" onClick={() => void remove(user)}>
                Remove {user.email}
              </button>
            )}
          </li>
        ))}
        {members.length === 0 && <li className="muted">No members.</li>}
      </ul>
      {!synced && (
        <form onSubmit={(e) => void add(e)}>
          <label>
            Add member (email)
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <button type="submit" className="btn">
            Add
          </button>
        </form>
      )}
    </div>
  );
}

type GroupLimit = 'requestsPerMinute' | 'dailyTokenBudget' | 'maxConcurrentStreams';
const LIMIT_LABELS: Array<[GroupLimit, string]> = [
  ['requestsPerMinute', 'Requests per minute'],
  ['dailyTokenBudget', 'Daily token budget'],
  ['maxConcurrentStreams', 'Replies at once'],
];

const describeLimit = (value: number | null) =>
  value === null ? '—' : value === 0 ? 'unlimited' : String(value);

/**
 * What a group carries: the models it grants (a model named by any group is usable only by members
 * of a group naming it) and limits for its members (empty = the group sets none; 0 = unlimited).
 * Members get the most generous value among their groups unless an admin set their own.
 */
function GroupLimitsEditor({ group, onSaved }: { group: Group; onSaved: () => void }) {
  const [models, setModels] = useState(group.allowedModels.join(', '));
  const [limits, setLimits] = useState<Record<GroupLimit, number | null>>({
    requestsPerMinute: group.requestsPerMinute,
    dailyTokenBudget: group.dailyTokenBudget,
    maxConcurrentStreams: group.maxConcurrentStreams,
  });
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      const allowedModels = models
        .split(',')
        .map((model) => model.trim())
        .filter((model) => model !== '');
      await api.auth.admin.setGroupLimits(group.id, { allowedModels, ...limits });
      setSaved(true);
      onSaved();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <form className="panel" aria-label={`Models and limits of ${group.name}`} onSubmit={(e) => void save(e)}>
      {error !== undefined && <ErrorNotice error={error} />}
      <p className="muted">
        A model named here is only for members of a group that names it. Limits: empty = this group sets none;
        0 = unlimited; a member gets the most generous of their groups, unless their own limit is set.
      </p>
      <label>
        Models (comma-separated)
        <input value={models} onChange={(e) => setModels(e.target.value)} />
      </label>
      {LIMIT_LABELS.map(([key, label]) => (
        <label key={key}>
          {label}
          <input
            type="number"
            min={0}
            value={limits[key] ?? ''}
            onChange={(e) =>
              setLimits((l) => ({ ...l, [key]: e.target.value === '' ? null : Number(e.target.value) }))
            }
          />
        </label>
      ))}
      <button type="submit" className="btn btn--primary">
        Save {group.name}
      </button>
      {saved && <span role="status">Saved.</span>}
    </form>
  );
}

/** Admin → Groups: made here, or synced from the identity provider's groups claim. */
export function GroupsPanel() {
  const [groups, setGroups] = useState<Group[]>([]);
  const [name, setName] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    try {
      setGroups(await api.auth.admin.groups());
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => void load(), [load]);

  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      await load();
    } catch (caught) {
      setError(caught);
    }
  };
  const create = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      await api.auth.admin.createGroup(name);
      setName('');
    });
  };
  const rename = (group: Group) => {
    const next = window.prompt(`New name for ${group.name}`, group.name);
    if (next && next.trim() !== group.name) void act(() => api.auth.admin.renameGroup(group.id, next));
  };

  return (
    <div className="panel">
      <form onSubmit={create}>
        <label>
          New group
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn--primary">
          Create group
        </button>
      </form>
      {error !== undefined && <ErrorNotice error={error} />}
      <table className="table" aria-label="Groups">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Source</th>
            <th scope="col">Members</th>
            <th scope="col">Models</th>
            <th scope="col">Limits</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.id}>
              <td>{group.name}</td>
              <td>{group.source === 'oidc' ? 'Synced from identity provider' : 'Made here'}</td>
              <td>{group.memberCount}</td>
              <td>{group.allowedModels.length > 0 ? group.allowedModels.join(', ') : '—'}</td>
              <td>
                {describeLimit(group.requestsPerMinute)} req/min, {describeLimit(group.dailyTokenBudget)}{' '}
                tokens/day, {describeLimit(group.maxConcurrentStreams)} at once
              </td>
              <td>
                <button
                  type="button"
                  className="btn btn--ghost"
                  aria-expanded={editing === group.id}
                  onClick={() => setEditing(editing === group.id ? null : group.id)}
                >
                  Models and limits of {group.name}
                </button>
                <button
                  type="button"
                  className="btn btn--ghost"
                  aria-expanded={open === group.id}
                  onClick={() => setOpen(open === group.id ? null : group.id)}
                >
                  Members of {group.name}
                </button>
                {group.source === 'admin' && (
                  <button type="button" className="btn btn--ghost" onClick={() => rename(group)}>
                    Rename {group.name}
                  </button>
                )}
                <button
                  type="button"
                  className="btn btn--ghost"
                  onClick={() => void act(() => api.auth.admin.deleteGroup(group.id))}
                >
                  Delete {group.name}
                </button>
              </td>
            </tr>
          ))}
          {groups.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No groups yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {groups
        .filter((group) => group.id === editing)
        .map((group) => (
          <GroupLimitsEditor key={group.id} group={group} onSaved={() => void load()} />
        ))}
      {groups
        .filter((group) => group.id === open)
        .map((group) => (
          <Members key={group.id} group={group} onChanged={() => void load()} />
        ))}
    </div>
  );
}
