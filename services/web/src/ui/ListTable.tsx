import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';

/**
 * A settings list's state: its items (read at mount and after every change), the error to show,
 * and `change`, which runs one change (after a confirm, when given), reads the list again, and
 * shows a failure instead of throwing. `load` may be a new function at every render.
 */
export function useListPanel<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<unknown>();
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(() => {
    loader.current().then(setItems, setError);
  }, []);
  useEffect(reload, [reload]);
  const change = useCallback(
    async (work: () => Promise<unknown>, confirmText?: string): Promise<boolean> => {
      if (confirmText !== undefined && !window.confirm(confirmText)) return false;
      setError(undefined);
      try {
        await work();
      } catch (caught) {
        setError(caught);
        return false;
      }
      reload();
      return true;
    },
    [reload],
  );
  return { items, error, setError, change };
}

export interface Column<T> {
  header: string;
  cell: (item: T) => ReactNode;
  className?: string;
}

/**
 * A settings table: a caption for screen readers, a header row, one row per item with its
 * actions in a last column, and `empty` as the only row when there is none.
 */
export function ListTable<T>({
  caption,
  columns,
  items,
  rowKey,
  rowClassName,
  actions,
  empty,
}: {
  caption: string;
  columns: Array<Column<T>>;
  items: T[];
  rowKey: (item: T) => string;
  rowClassName?: (item: T) => string | undefined;
  actions: (item: T) => ReactNode;
  empty: string;
}) {
  return (
    <table className="table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column.header} scope="col">
              {column.header}
            </th>
          ))}
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((item) => (
          <tr key={rowKey(item)} className={rowClassName?.(item)}>
            {columns.map((column) => (
              <td key={column.header} className={column.className}>
                {column.cell(item)}
              </td>
            ))}
            <td>{actions(item)}</td>
          </tr>
        ))}
        {items.length === 0 && (
          <tr>
            <td colSpan={columns.length + 1} className="muted">
              {empty}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** A row's Edit and Delete buttons, each labelled with what it acts on. */
export function EditDeleteButtons({
  name,
  onEdit,
  onDelete,
}: {
  name: string;
  onEdit: () => void;
  onDelete: () => void;
}) {
  return (
    <div className="row">
      <button type="button" className="btn btn--small" aria-label={`Edit ${name}`} onClick={onEdit}>
        Edit
      </button>
      <button
        type="button"
        className="btn btn--small btn--danger"
        aria-label={`Delete ${name}`}
        onClick={onDelete}
      >
        Delete
      </button>
    </div>
  );
}
