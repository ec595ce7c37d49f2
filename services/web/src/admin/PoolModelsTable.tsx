import type { PoolModelView } from '@corral/contracts';
import { useState } from 'react';
import { api } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';

/**
 * The pool's models, each with its "available to users" switch (a model pulled here starts off)
 * and a Remove button (Ollama's delete on every backend). `models` is the panel's last read;
 * `onChanged` reads it again, and the outcome is announced only once that read is in, so the
 * switch and the status line never disagree.
 */
export function PoolModelsTable({
  models,
  onChanged,
}: {
  models: PoolModelView[];
  onChanged: () => Promise<void>;
}) {
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState<string | null>(null);

  const run = async (model: string, work: () => Promise<string>) => {
    setBusy(model);
    setError(undefined);
    try {
      const outcome = await work();
      await onChanged();
      setStatus(outcome);
    } catch (caught) {
      setStatus('');
      setError(caught);
    } finally {
      setBusy(null);
    }
  };

  const toggle = (model: PoolModelView, on: boolean) =>
    run(model.name, async () => {
      await api.chat.admin.setAvailability(model.name, on);
      return on ? `${model.name} is available to users.` : `${model.name} is hidden from users.`;
    });

  const remove = (model: PoolModelView) => {
    if (!window.confirm(`Remove ${model.name} from every backend? Users lose it at once.`)) return;
    void run(model.name, async () => {
      const removal = await api.chat.admin.removeModel(model.name);
      const failed = removal.backends.filter((b) => b.status === 'failed');
      return removal.status === 'removed'
        ? `${model.name} was removed from ${removal.backends.length} backend${removal.backends.length === 1 ? '' : 's'}.`
        : `${model.name}: removed on some backends only${failed.length > 0 ? `; failed on ${failed.map((b) => `${b.backend} (${b.error ?? b.status})`).join(', ')}` : ''}${removal.skipped.length > 0 ? `; not reached: ${removal.skipped.join(', ')}` : ''}.`;
    });
  };

  return (
    <>
      <table className="table" aria-label="Models in the pool">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Backends</th>
            <th scope="col">Available to users</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {models.map((model) => (
            <tr key={model.name}>
              <th scope="row">{model.name}</th>
              <td>{model.backends.join(', ')}</td>
              <td>
                <label>
                  <input
                    type="checkbox"
                    role="switch"
                    checked={model.availableToUsers}
                    disabled={busy === model.name}
                    aria-label={`${model.name} available to users`}
                    onChange={(e) => void toggle(model, e.target.checked)}
                  />{' '}
                  {model.availableToUsers ? 'On' : 'Off'}
                </label>
              </td>
              <td>
                <button
                  type="button"
                  className="btn btn--danger"
                  disabled={busy === model.name}
                  aria-label={`Remove ${model.name}`}
                  onClick={() => remove(model)}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {status && <p role="status">{status}</p>}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </>
  );
}
