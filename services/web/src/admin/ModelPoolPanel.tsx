import { ollamaNameProblem, type PoolModelView } from '@corral/contracts';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, type BackendPool } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { PoolModelsTable } from './PoolModelsTable.js';

const REFRESH_MS = 5000;

export function ModelPoolPanel() {
  const [pool, setPool] = useState<BackendPool | null>(null);
  const [error, setError] = useState<unknown>();
  const [model, setModel] = useState('');
  const [pullState, setPullState] = useState<unknown>();
  const [pullStatus, setPullStatus] = useState('');
  const [models, setModels] = useState<PoolModelView[]>([]);
  const [nameProblem, setNameProblem] = useState<string | null>(null);

  const loadModels = useCallback(
    () => api.chat.admin.poolModels().then(setModels, (e: unknown) => setError(e)),
    [],
  );

  useEffect(() => {
    let live = true;
    const load = () =>
      api.chat.admin.backends().then(
        (p) => {
          if (!live) return;
          setPool(p);
          setError(undefined);
        },
        (e: unknown) => live && setError(e),
      );
    void load();
    void loadModels();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [loadModels]);

  const pull = async (event: FormEvent) => {
    event.preventDefault();
    const name = model.trim();
    // Checked as Ollama checks it, before anything is pulled (chat-api checks again).
    const problem = ollamaNameProblem(name);
    setNameProblem(problem);
    if (problem) return;
    setPullState(undefined);
    setPullStatus(`Pulling ${name}…`);
    try {
      const summary = await api.chat.admin.pullModel(name, (line) => {
        const percent =
          typeof line.completed === 'number' && typeof line.total === 'number' && line.total > 0
            ? ` ${Math.floor((line.completed / line.total) * 100)}%`
            : '';
        if (typeof line.status === 'string') {
          setPullStatus(`Pulling ${name}: ${String(line.backend ?? '')} ${line.status}${percent}`);
        }
      });
      const failed = summary.backends.filter((b) => b.status !== 'success');
      setPullStatus(
        summary.status === 'success'
          ? `${name} is on ${summary.backends.length} backend${summary.backends.length === 1 ? '' : 's'}.`
          : `${name}: ${summary.status}; failed on ${failed.map((b) => `${b.backend} (${b.error ?? b.status})`).join(', ')}.`,
      );
      setModel('');
      void loadModels();
    } catch (caught) {
      setPullStatus('');
      setPullState(caught);
    }
  };

  return (
    <div className="panel">
      {error !== undefined && <ErrorNotice error={error} />}
      {pool && (
        <p className="muted">
          {pool.backends.length} backend{pool.backends.length === 1 ? '' : 's'}
          {pool.strategy ? ` · routing: ${pool.strategy}` : ''}
          {pool.queue ? ` · queue ${pool.queue.depth}/${pool.queue.max}` : ''}
        </p>
      )}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Backend</th>
            <th scope="col">State</th>
            <th scope="col">Models</th>
            <th scope="col">In flight</th>
            <th scope="col">Tokens/s</th>
            <th scope="col">Errors</th>
          </tr>
        </thead>
        <tbody>
          {pool?.backends.map((b) => (
            <tr key={b.id}>
              <td>
                {b.id}
                <div className="muted">
                  {b.url}
                  {b.version ? ` · v${b.version}` : ''}
                </div>
              </td>
              <td>
                <span className={`badge badge--${b.state}`}>{b.state}</span>
                {b.busy ? ' busy' : ''}
              </td>
              <td>{b.models.join(', ') || '—'}</td>
              <td>
                {b.inFlight}
                {b.maxParallel ? `/${b.maxParallel}` : ''}
                {b.queued ? ` (+${b.queued} queued)` : ''}
              </td>
              <td>{b.tokensPerSecond.toFixed(1)}</td>
              <td title={b.lastError ?? undefined}>{b.errors}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <PoolModelsTable models={models} onChanged={loadModels} />
      <form className="row row--wrap" onSubmit={(e) => void pull(e)} aria-label="Pull a model" noValidate>
        <label>
          Pull a model onto the pool
          <input
            required
            placeholder="e.g. llama3.2:3b"
            value={model}
            aria-invalid={nameProblem ? true : undefined}
            aria-describedby={nameProblem ? 'pull-model-problem' : 'pull-model-hint'}
            onChange={(e) => {
              setModel(e.target.value);
              setNameProblem(null);
            }}
          />
        </label>
        <button type="submit" className="btn">
          Pull
        </button>
      </form>
      {nameProblem ? (
        <p id="pull-model-problem" className="field-error" role="alert">
          Model name: {nameProblem}. Ollama names look like model[:tag], namespace/model[:tag] or
          host/namespace/model[:tag].
        </p>
      ) : (
        <p id="pull-model-hint" className="muted">
          A pulled model is hidden from users until you switch it on above.
        </p>
      )}
      {pullStatus && <p role="status">{pullStatus}</p>}
      {pullState !== undefined && <ErrorNotice error={pullState} onDismiss={() => setPullState(undefined)} />}
    </div>
  );
}
