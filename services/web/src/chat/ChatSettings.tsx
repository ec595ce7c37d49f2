import { useEffect, useState } from 'react';
import { api, type Assistant, type ModelInfo } from '../api/index.js';
import { assistantValue, isAssistantValue } from './assistant-choice.js';

interface Props {
  model: string;
  systemPrompt: string;
  disabled: boolean;
  onChange: (change: { model?: string; systemPrompt?: string | null }) => void;
  onModelsLoaded: (models: ModelInfo[]) => void;
  /** Offered beside the models for a new chat (a chat keeps the assistant it was started with). */
  assistants?: Assistant[] | undefined;
  /** The assistant this chat was started with: its prompt and parameters apply to every reply. */
  assistantName?: string | null | undefined;
}

let modelsCache: Promise<ModelInfo[]> | undefined;

/** What the picker says a model can do besides text: images, reasoning, tools. */
const CAPABILITY_LABELS: Record<string, string> = { vision: 'images', thinking: 'thinking', tools: 'tools' };

export function modelLabel(model: ModelInfo): string {
  const extras = model.capabilities.flatMap((c) => CAPABILITY_LABELS[c] ?? []);
  return extras.length > 0 ? `${model.id} (${extras.join(', ')})` : model.id;
}

/** Model picker and the per-conversation system prompt. */
export function ChatSettings({
  model,
  systemPrompt,
  disabled,
  onChange,
  onModelsLoaded,
  assistants = [],
  assistantName,
}: Props) {
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [modelsFailed, setModelsFailed] = useState(false);
  const [prompt, setPrompt] = useState(systemPrompt);
  useEffect(() => setPrompt(systemPrompt), [systemPrompt]);

  useEffect(() => {
    let live = true;
    modelsCache ??= api.chat.models();
    modelsCache.then(
      (loaded) => {
        if (!live) return;
        setModels(loaded);
        onModelsLoaded(loaded);
      },
      () => {
        modelsCache = undefined;
        if (live) setModelsFailed(true);
      },
    );
    return () => {
      live = false;
    };
    // Load once per mount; the callback identity changes every render.
  }, []);

  const options =
    models.some((m) => m.id === model) || !model || isAssistantValue(model)
      ? models
      : [{ id: model, capabilities: [] }, ...models];

  return (
    <div className="chat-settings">
      <label className="chat-settings__model">
        <span>Model</span>
        <select value={model} disabled={disabled} onChange={(e) => onChange({ model: e.target.value })}>
          {options.length === 0 && (
            <option value="">{modelsFailed ? 'Models unavailable' : 'Loading…'}</option>
          )}
          <optgroup label="Models">
            {options.map((m) => (
              <option key={m.id} value={m.id}>
                {modelLabel(m)}
              </option>
            ))}
          </optgroup>
          {assistants.length > 0 && (
            <optgroup label="Assistants">
              {assistants.map((a) => (
                <option key={a.id} value={assistantValue(a)}>
                  {`${a.name} (assistant, ${a.baseModel})`}
                </option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      {assistantName && (
        <span
          className="chat-settings__assistant"
          title="Its system prompt and parameters apply to every reply"
        >
          Assistant: {assistantName}
        </span>
      )}
      <details className="chat-settings__prompt">
        <summary>System prompt{systemPrompt ? ' (set)' : ''}</summary>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onChange({ systemPrompt: prompt.trim() ? prompt : null });
          }}
        >
          <label htmlFor="system-prompt" className="visually-hidden">
            System prompt
          </label>
          <textarea
            id="system-prompt"
            rows={3}
            value={prompt}
            placeholder="How the model should behave in this conversation"
            onChange={(e) => setPrompt(e.target.value)}
          />
          <button type="submit" className="btn btn--small" disabled={disabled || prompt === systemPrompt}>
            Save prompt
          </button>
        </form>
      </details>
    </div>
  );
}
