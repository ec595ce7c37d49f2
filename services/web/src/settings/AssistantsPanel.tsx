import { type FormEvent, useEffect, useState } from 'react';
import { api, type Assistant, type ModelInfo } from '../api/index.js';
import { useAuth } from '../auth/AuthContext.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { EditDeleteButtons, ListTable, useListPanel } from '../ui/ListTable.js';

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
  const { items: assistants, error, setError, change } = useListPanel(() => api.library.assistants());
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [groups, setGroups] = useState<Array<{ id: string; name: string }>>([]);
  const [editing, setEditing] = useState<Assistant | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));

  useEffect(() => {
    api.chat.models().then(setModels, setError);
    if (isAdmin) api.auth.admin.groups().then(setGroups, () => undefined);
  }, [isAdmin, setError]);

  const reset = () => {
    setEditing(null);
    setDraft(EMPTY);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
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
    const saved = await change(() =>
      editing
        ? api.library.updateAssistant(editing.id, fields)
        : api.library.createAssistant({ ...fields, shared: draft.shared }),
    );
    if (saved) reset();
  };

  const remove = async (assistant: Assistant) => {
    const removed = await change(
      () => api.library.deleteAssistant(assistant.id),
      `Delete the assistant “${assistant.name}”? Chats started with it keep working.`,
    );
    if (removed && editing?.id === assistant.id) reset();
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
      <ListTable
        caption="Assistants"
        items={assistants}
        rowKey={(assistant) => assistant.id}
        columns={[
          { header: 'Name', cell: (assistant) => assistant.name },
          { header: 'Model', cell: (assistant) => assistant.baseModel },
          {
            header: 'Who may use it',
            cell: (assistant) =>
              !assistant.shared
                ? 'you'
                : assistant.groupIds.length === 0
                  ? 'everyone'
                  : assistant.groupIds.map(groupName).join(', '),
          },
        ]}
        actions={(assistant) =>
          assistant.editable && (
            <EditDeleteButtons
              name={assistant.name}
              onEdit={() => edit(assistant)}
              onDelete={() => void remove(assistant)}
            />
          )
        }
        empty="No assistants yet."
      />
    </div>
  );
}
