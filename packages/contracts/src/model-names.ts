/** The tag Ollama gives a model named without one. */
export const DEFAULT_MODEL_TAG = 'latest';

/**
 * A model name as Ollama stores it: trimmed, and tagged `:latest` when it has no tag, so
 * `llama3.2` and `llama3.2:latest` are one model. As in Ollama, the tag is what follows the last
 * `:` only when that `:` comes after the last `/`: `host:5000/llama3.2` names a registry port,
 * not a tag, and becomes `host:5000/llama3.2:latest`.
 */
export function normalizeModelName(name: string): string {
  const trimmed = name.trim();
  const hasTag = trimmed.lastIndexOf(':') > trimmed.lastIndexOf('/');
  return hasTag ? trimmed : `${trimmed}:${DEFAULT_MODEL_TAG}`;
}

/** Whether two names mean the same model once normalized. */
export const sameModel = (a: string, b: string): boolean => normalizeModelName(a) === normalizeModelName(b);
