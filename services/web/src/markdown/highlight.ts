import type { LanguageFn } from 'highlight.js';
import { createLowlight } from 'lowlight';
import { useEffect, useMemo, useState } from 'react';

type Grammar = () => Promise<{ default: LanguageFn }>;

/**
 * The languages code blocks are highlighted in, each a chunk of its own fetched the first time a
 * reply has a block in it (the markdown chunk carries only highlight.js's core). Anything else,
 * and a block before its grammar arrives, is plain monospace text.
 */
const GRAMMARS: Record<string, Grammar> = {
  bash: () => import('highlight.js/lib/languages/bash'),
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  diff: () => import('highlight.js/lib/languages/diff'),
  dockerfile: () => import('highlight.js/lib/languages/dockerfile'),
  go: () => import('highlight.js/lib/languages/go'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  json: () => import('highlight.js/lib/languages/json'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  php: () => import('highlight.js/lib/languages/php'),
  python: () => import('highlight.js/lib/languages/python'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scss: () => import('highlight.js/lib/languages/scss'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  xml: () => import('highlight.js/lib/languages/xml'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
};

/** The names models write after ``` for those languages. */
const ALIASES: Record<string, string> = {
  sh: 'bash',
  shell: 'bash',
  zsh: 'bash',
  console: 'bash',
  'c++': 'cpp',
  cc: 'cpp',
  h: 'c',
  hpp: 'cpp',
  cs: 'csharp',
  'c#': 'csharp',
  docker: 'dockerfile',
  golang: 'go',
  toml: 'ini',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  jsonc: 'json',
  kt: 'kotlin',
  make: 'makefile',
  md: 'markdown',
  py: 'python',
  rb: 'ruby',
  rs: 'rust',
  ts: 'typescript',
  tsx: 'typescript',
  html: 'xml',
  svg: 'xml',
  yml: 'yaml',
  patch: 'diff',
};

const lowlight = createLowlight();
type Root = ReturnType<typeof lowlight.highlight>;
const loading = new Map<string, Promise<void>>();

/** The grammar's name for a fence's language, or undefined when it is not highlighted. */
export function grammarFor(language: string | undefined): string | undefined {
  if (!language) return undefined;
  const name = language.toLowerCase();
  const canonical = ALIASES[name] ?? name;
  return Object.hasOwn(GRAMMARS, canonical) ? canonical : undefined;
}

/** Fetches and registers a grammar once; every block waiting for it shares the load. */
function load(name: string): Promise<void> {
  let pending = loading.get(name);
  if (!pending) {
    pending = GRAMMARS[name]!().then((grammar) => lowlight.register(name, grammar.default));
    loading.set(name, pending);
  }
  return pending;
}

/** The code highlighted as a hast tree once its grammar is here; null until then (or never). */
export function useHighlighted(language: string | undefined, code: string): Root | null {
  const name = grammarFor(language);
  const [ready, setReady] = useState(() => name !== undefined && lowlight.registered(name));
  useEffect(() => {
    if (!name || ready) return;
    let live = true;
    load(name).then(
      () => live && setReady(true),
      () => undefined, // no grammar (offline, a failed chunk): the block stays plain text
    );
    return () => {
      live = false;
    };
  }, [name, ready]);
  return useMemo(() => (name && ready ? lowlight.highlight(name, code) : null), [name, ready, code]);
}
