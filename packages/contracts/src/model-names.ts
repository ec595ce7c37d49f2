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

type NamePart = 'host' | 'namespace' | 'model' | 'tag';

/** Ollama's `isValidPart` (types/model/name.go): length, first character, and the characters a part may hold. */
function partProblem(kind: NamePart, value: string): string | null {
  const max = kind === 'host' ? 350 : 80;
  if (value.length < 1 || value.length > max) return `the ${kind} must be 1 to ${max} characters`;
  if (!/^[A-Za-z0-9_]/.test(value)) return `the ${kind} must start with a letter, a digit or _`;
  const allowed =
    kind === 'host' ? /^[A-Za-z0-9_.:-]+$/ : kind === 'namespace' ? /^[A-Za-z0-9_-]+$/ : /^[A-Za-z0-9_.-]+$/;
  if (!allowed.test(value)) {
    const extra = kind === 'host' ? ', ., : or -' : kind === 'namespace' ? ' or -' : ', . or -';
    return `the ${kind} '${value}' may hold only letters, digits, _${extra}`;
  }
  return null;
}

/**
 * Why Ollama would refuse `name` as a model reference (`[host/][namespace/]model[:tag]`), or null
 * when it is valid. Mirrors Ollama's ParseName + IsValid (types/model/name.go): the tag follows the
 * last `:` only when it comes after the last `/`; host, namespace and tag default to
 * `registry.ollama.ai`, `library` and `latest`; a host may carry a `scheme://`. Ollama compares
 * names case-insensitively and accepts capitals, so this does too.
 */
export function ollamaNameProblem(name: string): string | null {
  let rest = name.trim();
  if (rest === '') return 'name the model';
  const parts: Record<NamePart, string> = { host: 'x', namespace: 'x', model: '', tag: DEFAULT_MODEL_TAG };
  if (rest.lastIndexOf(':') > rest.lastIndexOf('/')) {
    const colon = rest.lastIndexOf(':');
    parts.tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const segments = rest.split('/');
  if (segments.length > 3 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) return 'too many / in the name';
  parts.model = segments.pop() ?? '';
  if (segments.length > 0) parts.namespace = segments.pop() ?? '';
  if (segments.length > 0) {
    const host = segments.join('/');
    const scheme = host.indexOf('://');
    parts.host = scheme >= 0 ? host.slice(scheme + 3) : host;
  }
  for (const kind of ['host', 'namespace', 'model', 'tag'] as const) {
    const problem = partProblem(kind, parts[kind]);
    if (problem) return problem;
  }
  return null;
}
