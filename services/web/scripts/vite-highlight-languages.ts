import path from 'node:path';
import type { Plugin } from 'vite';

/** The languages code blocks are highlighted in; anything else renders as plain monospace text. */
export const HIGHLIGHT_LANGUAGES = [
  'bash',
  'c',
  'cpp',
  'css',
  'diff',
  'go',
  'java',
  'javascript',
  'json',
  'markdown',
  'python',
  'rust',
  'sql',
  'typescript',
  'xml',
  'yaml',
] as const;

const VIRTUAL_ID = '\0corral-lowlight';

/**
 * rehype-highlight imports lowlight's `common` set (37 grammars) as its default. This swaps
 * lowlight, for rehype-highlight only, with a module whose `common` holds just our languages,
 * so the markdown chunk carries ~16 grammars instead of every common one.
 */
export function highlightLanguages(languages: readonly string[] = HIGHLIGHT_LANGUAGES): Plugin {
  let rehypeImporter: string | undefined;
  return {
    name: 'corral-highlight-languages',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'lowlight' && importer && /[/\\]rehype-highlight[/\\]/.test(importer)) {
        rehypeImporter = importer;
        return VIRTUAL_ID;
      }
      return null;
    },
    async load(id) {
      if (id !== VIRTUAL_ID || !rehypeImporter) return null;
      const lowlight = await this.resolve('lowlight', rehypeImporter, { skipSelf: true });
      if (!lowlight) throw new Error('corral-highlight-languages: cannot resolve lowlight');
      const lowlightLib = path.join(path.dirname(lowlight.id), 'lib', 'index.js');
      const grammars = await Promise.all(
        languages.map(async (name) => {
          const resolved = await this.resolve(`highlight.js/lib/languages/${name}`, lowlight.id, {
            skipSelf: true,
          });
          if (!resolved) throw new Error(`corral-highlight-languages: no highlight.js grammar "${name}"`);
          return { name, id: resolved.id };
        }),
      );
      return [
        `export { createLowlight } from ${JSON.stringify(lowlightLib)};`,
        ...grammars.map((g, i) => `import g${i} from ${JSON.stringify(g.id)};`),
        `export const common = { ${grammars.map((g, i) => `${JSON.stringify(g.name)}: g${i}`).join(', ')} };`,
        'export const all = common;',
      ].join('\n');
    },
  };
}
