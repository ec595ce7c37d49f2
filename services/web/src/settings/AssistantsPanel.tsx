import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, type Assistant, type ModelInfo } from '../api/index.js';
import { useAuth } from '../auth/AuthContext.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

interface Draft {
  name: string;
  baseModel: string;
  systemPrompt: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  seed: string;
  shared: boolean;
  groupIds: string[];
}

const EMPTY: Draft = {
  name: '',
  baseModel: '',
  systemPrompt: '',
  temperature: '',
  topP: '',
  maxTokens: '',
  seed: '',
  shared: false,
  groupIds: [],
};

const numberOrNull = (value: string) => (value.trim() === '' ? null : Number(value));
const text = (value: number | null) => (value === null ? '' : String(value));

/**
 * Assistants: a base model with a system prompt and parameters, picked in the chat like a model.
 * The user's own; an admin also shares them with everyone or with chosen groups.
 */
export function AssistantsPanel() {
  const { isAdmin } = useAuth();
  const [assistants, setAssistants] = useState<Assistant[]>([]);
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [groups, setGroups] = useState<Array<{ id: string; name: string }>>([]);
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState<Assistant | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));

  const reload = useCallback(() => {
    api.library.assistants().then(setAssistants, setError);
  }, []);
  useEffect(reload, [reload]);
  useEffect(() => {
    api.chat.models().then(setModels, setError);
    if (isAdmin) api.auth.admin.groups().then(setGroups, () => undefined);
  }, [isAdmin]);

  const reset = () => {
    setEditing(null);
    setDraft(EMPTY);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const fields = {
      name: draft.name.trim(),
      baseModel: draft.baseModel || models[0]?.id || '',
      systemPrompt: draft.systemPrompt,
      temperature: numberOrNull(draft.temperature),
      topP: numberOrNull(draft.topP),
      maxTokens: numberOrNull(draft.maxTokens),
      seed: numberOrNull(draft.seed),
      groupIds: draft.shared ? draft.groupIds : [],
    };
    try {
      if (editing) await api.library.updateAssistant(editing.id, fields);
      else await api.library.createAssistant({ ...fields, shared: draft.shared });
      reset();
      reload();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async (assistant: Assistant) => {
    if (!window.confirm(`Delete the assistant “${assistant.name}”? Chats started with it keep working.`))
      return;
    try {
      await api.library.deleteAssistant(assistant.id);
      if (editing?.id === assistant.id) reset();
      reload();
    } catch (caught) {
      setError(caught);
    }
  };

  const edit = (assistant: Assistant) => {
    setEditing(assistant);
    setDraft({
      name: assistant.name,
      baseModel: assistant.baseModel,
      systemPrompt: assistant.systemPrompt,
      temperature: text(assistant.temperature),
      topP: text(assistant.topP),
      maxTokens: text(assistant.maxTokens),
      seed: text(assistant.seed),
      shared: assistant.shared,
      groupIds: assistant.groupIds,
    });
  };

  const groupName = (id: string) => groups.find((g) => g.id === id)?.name ?? id;

  return (
    <div className="panel">
      <p className="muted">
        An assistant is picked in the chat like a model; its chats use its system prompt and settings.
      </p>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <form
        className="library-form"
        onSubmit={(e) => void save(e)}
        aria-label={editing ? 'Edit assistant' : 'New assistant'}
      >
        <label>
          Name
          <input
            required
            maxLength={100}
            value={draft.name}
            onChange={(e) => set({ name: e.target.value })}
          />
        </label>
        <label>
          Base model
          <select
            value={draft.baseModel || models[0]?.id || ''}
            onChange={(e) => set({ baseModel: e.target.value })}
          >
            {draft.baseModel && !models.some((m) => m.id === draft.baseModel) && (
              <option value={draft.baseModel}>{draft.baseModel}</option>
            )}
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          System prompt
          <textarea value={draft.systemPrompt} onChange={(e) => set({ systemPrompt: e.target.value })} />
        </label>
        <div className="row row--wrap">
          <label>
            Temperature
            <input
              type="number"
              min={0}
              max={2}
              step={0.1}
              value={draft.temperature}
              placeholder="model default"
              onChange={(e) => set({ temperature: e.target.value })}
            />
          </label>
          <label>
            Top P
            <input
              type="number"
              min={0}
              max={1}
              step={0.05}
              value={draft.topP}
              placeholder="model default"
              onChange={(e) => set({ topP: e.target.value })}
            />
          </label>
          <label>
            Max reply tokens
            <input
              type="number"
              min={1}
              step={1}
              value={draft.maxTokens}
              placeholder="no limit"
              onChange={(e) => set({ maxTokens: e.target.value })}
            />
          </label>
          <label>
            Seed
            <input
              type="number"
              step={1}
              value={draft.seed}
              placeholder="random"
              onChange={(e) => set({ seed: e.target.value })}
            />
          </label>
        </div>
        {isAdmin && !editing && (
          <label className="row">
            <input
              type="checkbox"
              checked={draft.shared}
              onChange={(e) => set({ shared: e.target.checked })}
            />
            Share (admin): with everyone, or only with the groups chosen below
          </label>
        )}
        {isAdmin && draft.shared && groups.length > 0 && (
          <fieldset>
            <legend>Only for these groups (none chosen: everyone)</legend>
            {groups.map((group) => (
              <label key={group.id} className="row">
                <input
                  type="checkbox"
                  checked={draft.groupIds.includes(group.id)}
                  onChange={(e) =>
                    set({
                      groupIds: e.target.checked
                        ? [...draft.groupIds, group.id]
                        : draft.groupIds.filter((id) => id !== group.id),
                    })
                  }
                />
                {group.name}
              </label>
            ))}
          </fieldset>
        )}
        <div className="row">
          <button type="submit" className="btn btn--primary">
            {editing ? 'Save changes' : 'Create assistant'}
          </button>
          {editing && (
            <button type="button" className="btn btn--ghost" onClick={reset}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <table className="table">
        <caption className="visually-hidden">Assistants</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Model</th>
            <th scope="col">Who may use it</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {assistants.map((assistant) => (
            <tr key={assistant.id}>
              <td>{assistant.name}</td>
              <td>{assistant.baseModel}</td>
              <td>
                {!assistant.shared
                  ? 'you'
                  : assistant.groupIds.length === 0
                    ? 'everyone'
                    : assistant.groupIds.map(groupName).join(', ')}
              </td>
              <td>
                {assistant.editable && (
                  <div className="row">
                    <button
                      type="button"
                      className="btn btn--small"
                      aria-label={`Edit ${assistant.name}`}
                      onClick={() => edit(assistant)}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="btn btn--small btn--danger"
                      aria-label={`Delete ${assistant.name}`}
                      onClick={() => void remove(assistant)}
                    >
                      Delete
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
          {assistants.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">
                No assistants yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
