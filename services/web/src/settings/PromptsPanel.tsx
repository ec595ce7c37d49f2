import { type FormEvent, useState } from 'react';
import { api, type Prompt } from '../api/index.js';
import { useAuth } from '../auth/AuthContext.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { EditDeleteButtons, ListTable, useListPanel } from '../ui/ListTable.js';

/**
 * The prompt library: the user's saved prompts (typing `/` in the composer inserts one) and the
 * shared ones; an admin also saves, changes and deletes prompts shared with everyone.
 */
export function PromptsPanel() {
  const { isAdmin } = useAuth();
  const { items: prompts, error, setError, change } = useListPanel(() => api.library.prompts());
  const [editing, setEditing] = useState<Prompt | null>(null);
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [shared, setShared] = useState(false);

  const reset = () => {
    setEditing(null);
    setTitle('');
    setText('');
    setShared(false);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await change(() =>
      editing
        ? api.library.updatePrompt(editing.id, { title: title.trim(), text })
        : api.library.createPrompt({ title: title.trim(), text, shared }),
    );
    if (saved) reset();
  };

  const remove = async (prompt: Prompt) => {
    const removed = await change(
      () => api.library.deletePrompt(prompt.id),
      `Delete the prompt “${prompt.title}”?`,
    );
    if (removed && editing?.id === prompt.id) reset();
  };

  return (
    <div className="panel">
      <p className="muted">
        Type <kbd>/</kbd> at the start of a message to insert a saved prompt.
      </p>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <form
        className="library-form"
        onSubmit={(e) => void save(e)}
        aria-label={editing ? 'Edit prompt' : 'New prompt'}
      >
        <label>
          Title
          <input required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          Text
          <textarea required value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        {isAdmin && !editing && (
          <label className="row">
            <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} />
            Share with everyone (admin)
          </label>
        )}
        <div className="row">
          <button type="submit" className="btn btn--primary">
            {editing ? 'Save changes' : 'Save prompt'}
          </button>
          {editing && (
            <button type="button" className="btn btn--ghost" onClick={reset}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <ListTable
        caption="Saved prompts"
        items={prompts}
        rowKey={(prompt) => prompt.id}
        columns={[
          { header: 'Title', cell: (prompt) => prompt.title },
          {
            header: 'Text',
            className: 'muted',
            cell: (prompt) => (prompt.text.length > 80 ? `${prompt.text.slice(0, 80)}…` : prompt.text),
          },
          { header: 'Who sees it', cell: (prompt) => (prompt.shared ? 'everyone' : 'you') },
        ]}
        actions={(prompt) =>
          prompt.editable && (
            <EditDeleteButtons
              name={prompt.title}
              onEdit={() => {
                setEditing(prompt);
                setTitle(prompt.title);
                setText(prompt.text);
              }}
              onDelete={() => void remove(prompt)}
            />
          )
        }
        empty="No saved prompts yet."
      />
    </div>
  );
}
