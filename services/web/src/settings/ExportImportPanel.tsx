import { useState } from 'react';
import { api } from '../api/index.js';
import { download } from '../ui/download.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { describeImportFailure } from './import-failure.js';

export function ExportImportPanel() {
  const [error, setError] = useState<unknown>();
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [importError, setImportError] = useState<{ title: string; message: string } | null>(null);

  const exportAll = async () => {
    setBusy(true);
    setError(undefined);
    setImportError(null);
    setMessage('');
    try {
      download(
        await api.chat.exportAll(),
        `corral-conversations-${new Date().toISOString().slice(0, 10)}.json`,
      );
      setMessage('Export downloaded.');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const importFile = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    // A new attempt: nothing from the last one (its success or its failure) stays on screen.
    setError(undefined);
    setImportError(null);
    setMessage('');
    try {
      const result = await api.chat.importFile(file);
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      setMessage(
        [
          `Imported ${plural(result.imported, 'conversation')} (${plural(result.messages, 'message')}).`,
          result.skipped > 0
            ? `${plural(result.skipped, 'conversation')} already here, left as they were.`
            : '',
          result.renamed.length > 0 ? `${result.renamed.length} got new ids.` : '',
          result.prompts + result.assistants > 0
            ? `Added ${plural(result.prompts, 'prompt')} and ${plural(result.assistants, 'assistant')}.`
            : '',
        ]
          .filter(Boolean)
          .join(' '),
      );
    } catch (caught) {
      setImportError(describeImportFailure(caught, file.name));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel">
      <h2>Export</h2>
      <p className="muted">All your conversations, with every branch, as one JSON file.</p>
      <button type="button" className="btn" disabled={busy} onClick={() => void exportAll()}>
        Download export
      </button>
      <h2>Import</h2>
      <label className="btn">
        Choose a Corral export file…
        <input
          type="file"
          accept="application/json,.json"
          className="visually-hidden"
          disabled={busy}
          onChange={(e) => {
            void importFile(e.target.files?.[0]);
            // The same file again (fixed) is a new choice.
            e.target.value = '';
          }}
        />
      </label>
      {message && (
        <p role="status" className="notice notice--success">
          {message}
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      {importError && (
        <div className="notice notice--error" role="alert">
          <div className="notice__text">
            <strong>{importError.title}</strong>
            <span>{importError.message}</span>
          </div>
        </div>
      )}
    </div>
  );
}
