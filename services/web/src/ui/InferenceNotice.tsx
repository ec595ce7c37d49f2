import { useEffect, useState } from 'react';
import { type ClientConfig, loadClientConfig } from '../api/client-config.js';

export const SIMULATOR_TEXT = 'Simulator — replies are generated text, not a model';

/** Says plainly what answers chat: a banner for the simulator, a quiet line for real Ollama. */
export function InferenceNotice({ compact = false }: { compact?: boolean }) {
  const [inference, setInference] = useState<ClientConfig['inference']>(null);
  useEffect(() => {
    let live = true;
    void loadClientConfig().then((config) => live && setInference(config.inference));
    return () => {
      live = false;
    };
  }, []);
  if (!inference) return null;
  if (inference.kind === 'simulator') {
    return (
      <p
        className={`inference-notice inference-notice--simulator ${compact ? 'inference-notice--compact' : ''}`}
        role="note"
        data-testid="inference-notice"
        title={inference.label ?? undefined}
      >
        {SIMULATOR_TEXT}
      </p>
    );
  }
  if (!inference.label) return null;
  return (
    <p
      className={`inference-notice ${compact ? 'inference-notice--compact' : ''}`}
      role="note"
      data-testid="inference-notice"
    >
      Inference: {inference.label}
    </p>
  );
}
