import { useCallback, useEffect, useState } from 'react';
import { api, type AuditEvent } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { UserName, useUserDirectory, type UserDirectory } from './UserName.js';

/** The user ids an event names: its actor, and its target when that is a user. */
function userIdsOf(events: readonly AuditEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.actorId) ids.add(e.actorId);
    if (e.targetType === 'user' && e.targetId) ids.add(e.targetId);
  }
  return [...ids];
}

const shortId = (id: string) => (id.length > 9 ? `${id.slice(0, 8)}…` : id);

/** API key names by id, from the events that carry one (its creation names it; newer revocations too). */
function keyNamesOf(events: readonly AuditEvent[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of events) {
    if (e.targetType === 'api_key' && e.targetId && typeof e.details?.name === 'string') {
      names.set(e.targetId, e.details.name);
    }
  }
  return names;
}

interface TargetProps {
  event: AuditEvent;
  directory: UserDirectory;
  keyNames: ReadonlyMap<string, string>;
}

function Target({ event, directory, keyNames }: TargetProps) {
  if (!event.targetType) return <>—</>;
  if (event.targetType === 'api_key' && event.targetId) {
    const name = keyNames.get(event.targetId);
    return (
      <span title={`API key id ${event.targetId}`}>
        API key {name ? `“${name}”` : <span className="muted">{shortId(event.targetId)}</span>}
      </span>
    );
  }
  if (event.targetType === 'user' && event.targetId) {
    return <UserName id={event.targetId} directory={directory} />;
  }
  // A failed sign-in for an email no account has: the email tried is all there is.
  const tried = typeof event.details?.email === 'string' ? event.details.email : null;
  if (event.targetType === 'user' && tried) return <>{tried}</>;
  return <>{`${event.targetType} ${event.targetId ?? ''}`}</>;
}

export function AuditPanel() {
  const [action, setAction] = useState('');
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const directory = useUserDirectory(userIdsOf(events));
  const keyNames = keyNamesOf(events);

  const load = useCallback(
    async (before: string | null) => {
      setError(undefined);
      try {
        const page = await api.auth.admin.audit({
          ...(action.trim() ? { action: action.trim() } : {}),
          ...(before ? { before } : {}),
        });
        setEvents((previous) => (before ? [...previous, ...page.items] : page.items));
        setCursor(page.nextCursor);
      } catch (caught) {
        setError(caught);
      }
    },
    [action],
  );
  useEffect(() => {
    const timer = window.setTimeout(() => void load(null), 250);
    return () => window.clearTimeout(timer);
  }, [load]);

  return (
    <div className="panel">
      <input
        type="search"
        aria-label="Filter by action"
        placeholder="Action, e.g. user.sign_in"
        value={action}
        onChange={(e) => setAction(e.target.value)}
      />
      {error !== undefined && <ErrorNotice error={error} />}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Outcome</th>
            <th scope="col">Actor</th>
            <th scope="col">Target</th>
            <th scope="col">IP</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{new Date(e.at).toLocaleString()}</td>
              <td>{e.action}</td>
              <td>{e.outcome ?? 'success'}</td>
              <td>{e.actorId ? <UserName id={e.actorId} directory={directory} /> : '—'}</td>
              <td>
                <Target event={e} directory={directory} keyNames={keyNames} />
              </td>
              <td>{e.ip ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" className="btn" onClick={() => void load(cursor)}>
          Older events
        </button>
      )}
    </div>
  );
}
