/**
 * Renders the parameter tables of charts/corral/README.md from the `## @section` and
 * `## @param path description` comments in values.yaml (defaults read from the values
 * themselves), between the README's `<!-- @params:start -->` and `<!-- @params:end -->` markers.
 * The prose around them is written by hand. `pnpm docs:chart` rewrites it; a test fails when stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

export const CHART_README_PATH = fileURLToPath(new URL('../../../charts/corral/README.md', import.meta.url));
export const VALUES_PATH = fileURLToPath(new URL('../../../charts/corral/values.yaml', import.meta.url));

const START = '<!-- @params:start -->';
const END = '<!-- @params:end -->';

export interface ParamDoc {
  section: string;
  path: string;
  description: string;
  default: unknown;
}

/** Every `@param`, in file order, with the section it is under and its default from the YAML. */
export function paramDocs(valuesYaml: string): ParamDoc[] {
  const values = parse(valuesYaml) as Record<string, unknown>;
  const docs: ParamDoc[] = [];
  let section = '';
  for (const line of valuesYaml.split('\n')) {
    const sectionMatch = /^\s*## @section (.+)$/.exec(line);
    if (sectionMatch) section = sectionMatch[1]!.trim();
    const paramMatch = /^\s*## @param (\S+) (.+)$/.exec(line);
    if (paramMatch) {
      const path = paramMatch[1]!;
      docs.push({ section, path, description: paramMatch[2]!.trim(), default: valueAt(values, path) });
    }
  }
  return docs;
}

export function valueAt(values: unknown, path: string): unknown {
  let node = values;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Leaf keys of values.yaml that no `@param` covers (a param on an object covers what is inside). */
export function undocumentedValues(valuesYaml: string): string[] {
  const documented = new Set(paramDocs(valuesYaml).map((doc) => doc.path));
  const missing: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (path && documented.has(path)) return;
    if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
      for (const [key, child] of Object.entries(node)) walk(child, path ? `${path}.${key}` : key);
      return;
    }
    missing.push(path);
  };
  walk(parse(valuesYaml), '');
  return missing;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const shown = (value: unknown) =>
  value === undefined
    ? ''
    : `\`${cell(typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value))}\``;

export function paramTables(docs: ParamDoc[]): string {
  const out: string[] = [];
  let section: string | undefined;
  for (const doc of docs) {
    if (doc.section !== section) {
      section = doc.section;
      out.push(
        '',
        `### ${section || 'Other'}`,
        '',
        '| name | description | default |',
        '| --- | --- | --- |',
      );
    }
    out.push(`| \`${doc.path}\` | ${cell(doc.description)} | ${shown(doc.default)} |`);
  }
  return out.join('\n');
}

/** The README with its generated part replaced, formatted as the repository keeps it. */
export async function renderChartReadme(
  readme = readFileSync(CHART_README_PATH, 'utf8'),
  valuesYaml = readFileSync(VALUES_PATH, 'utf8'),
): Promise<string> {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${CHART_README_PATH} has no ${START} … ${END} markers`);
  const generated = [
    START,
    '',
    '<!-- Generated from the @param comments in values.yaml by `pnpm docs:chart`; do not edit by hand. -->',
    paramTables(paramDocs(valuesYaml)),
    '',
  ].join('\n');
  const text = `${readme.slice(0, start)}${generated}${readme.slice(end)}`;
  const options = (await resolveConfig(CHART_README_PATH)) ?? {};
  return format(text, { ...options, parser: 'markdown' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CHART_README_PATH, await renderChartReadme());
  process.stdout.write(`wrote ${CHART_README_PATH}\n`);
}
