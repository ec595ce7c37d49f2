import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, type Prompt } from '../api/index.js';
import { useAuth } from '../auth/AuthContext.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

/**
 * The prompt library: the user's saved prompts (typing `/` in the composer inserts one) and the
 * shared ones; an admin also saves, changes and deletes prompts shared with everyone.
 */
export function PromptsPanel() {
  const { isAdmin } = useAuth();
  const [prompts, setPrompts] = useState<Prompt[]>([]);
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState<Prompt | null>(null);
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [shared, setShared] = useState(false);

  const reload = useCallback(() => {
    api.library.prompts().then(setPrompts, setError);
  }, []);
  useEffect(reload, [reload]);

  const reset = () => {
    setEditing(null);
    setTitle('');
    setText('');
    setShared(false);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      if (editing) await api.library.updatePrompt(editing.id, { title: title.trim(), text });
      else await api.library.createPrompt({ title: title.trim(), text, shared });
      reset();
      reload();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async (prompt: Prompt) => {
    if (!window.confirm(`Delete the prompt “${prompt.title}”?`)) return;
    try {
      await api.library.deletePrompt(prompt.id);
      if (editing?.id === prompt.id) reset();
      reload();
    } catch (caught) {
      setError(caught);
    }
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
      <table className="table">
        <caption className="visually-hidden">Saved prompts</caption>
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">Text</th>
            <th scope="col">Who sees it</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {prompts.map((prompt) => (
            <tr key={prompt.id}>
              <td>{prompt.title}</td>
              <td className="muted">
                {prompt.text.length > 80 ? `${prompt.text.slice(0, 80)}…` : prompt.text}
              </td>
              <td>{prompt.shared ? 'everyone' : 'you'}</td>
              <td>
                {prompt.editable && (
                  <div className="row">
                    <button
                      type="button"
                      className="btn btn--small"
                      aria-label={`Edit ${prompt.title}`}
                      onClick={() => {
                        setEditing(prompt);
                        setTitle(prompt.title);
                        setText(prompt.text);
                      }}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="btn btn--small btn--danger"
                      aria-label={`Delete ${prompt.title}`}
                      onClick={() => void remove(prompt)}
                    >
                      Delete
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
          {prompts.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">
                No saved prompts yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
