import { useEffect, useState } from 'react';
import { api, type User } from '../api/index.js';

/** What admin views know about the user ids they show: chat-api's and auth's records carry only ids. */
export interface UserDirectory {
  users: ReadonlyMap<string, User>;
  /** Some ids are still being looked up (their labels show the short id until then). */
  pending: boolean;
  error: unknown;
}

/**
 * Looks up the users behind `ids` with auth's admin list: one pass for every id not asked about
 * before, so paging in more rows only reads the list again when new ids appear.
 */
export function useUserDirectory(ids: Iterable<string>): UserDirectory {
  const [users, setUsers] = useState<ReadonlyMap<string, User>>(new Map());
  const [asked, setAsked] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<unknown>();
  const missing = [...new Set(ids)].filter((id) => !asked.has(id)).sort();
  // A string, so a new array of the same ids on every render does not start another lookup.
  const key = missing.join('\n');

  useEffect(() => {
    if (key === '') return;
    const wanted = key.split('\n');
    let live = true;
    const settle = () => setAsked((previous) => new Set([...previous, ...wanted]));
    api.auth.admin.findUsers(wanted).then(
      (found) => {
        if (!live) return;
        setUsers((previous) => new Map([...previous, ...found]));
        settle();
      },
      (caught: unknown) => {
        if (!live) return;
        setError(caught);
        settle();
      },
    );
    return () => {
      live = false;
    };
  }, [key]);

  return { users, pending: key !== '', error };
}

/** The first block of a UUID: enough to tell ids apart in a table. */
const shortId = (id: string) => (id.length > 9 ? `${id.slice(0, 8)}…` : id);

/** A user's email, or the short id of one auth does not know (any more); the full id is in the tooltip. */
export function UserName({ id, directory }: { id: string; directory: UserDirectory }) {
  const user = directory.users.get(id);
  if (user) {
    return <span title={`User id ${id}`}>{user.email}</span>;
  }
  const unknown = !directory.pending && directory.error === undefined;
  return (
    <span className="muted" title={unknown ? `User id ${id} (no longer exists)` : `User id ${id}`}>
      {shortId(id)}
      {unknown && <span className="visually-hidden"> (no longer exists)</span>}
    </span>
  );
}
