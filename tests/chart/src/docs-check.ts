/**
 * Checks that what an operator reads exists: every `corral …` / `pnpm corral …`, `pnpm …` and
 * `node dist/cli.js …` command, every environment variable and every values key named in a
 * document. Commands come from the CLIs' own command tables, variables from the code (the zod
 * schemas, the chart templates, the Dockerfile, the CLIs), value keys from values.yaml.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { valueAt } from './chart-readme.js';

export interface Known {
  corralCommands: Set<string>;
  /** Each corral command's flags, from its `--help`. */
  corralFlags: Map<string, Set<string>>;
  /** `node dist/cli.js <command>` in the auth and chat-api images. */
  imageCommands: { auth: Set<string>; 'chat-api': Set<string> };
  /** Flags anywhere in each image CLI's usage text. */
  imageFlags: { auth: Set<string>; 'chat-api': Set<string> };
  rootScripts: Set<string>;
  /** Workspace package name → its scripts. */
  packageScripts: Map<string, Set<string>>;
  /** Every file of the code (not docs, not tests) concatenated: a variable must appear in it. */
  code: string;
  values: Record<string, unknown>;
}

/** pnpm's own commands a document may use. */
const PNPM_BUILTINS = new Set([
  'install',
  'i',
  'add',
  'exec',
  'dlx',
  'run',
  'test',
  'why',
  'store',
  'list',
  'up',
  'remove',
]);
/** Variables of other programs (and of the shell) a document may name. */
const FOREIGN_VARIABLES = new Set(['PATH', 'HOME', 'LD_LIBRARY_PATH', 'NODE_OPTIONS', 'NO_COLOR']);

const read = (root: string, file: string) => readFileSync(path.join(root, file), 'utf8');

const usageOf = (source: string) => /const USAGE = `([\s\S]*?)`;/.exec(source)?.[1] ?? '';
/** Command names in a CLI's usage text: two-space-indented words at the start of a line. */
const usageCommands = (usage: string) =>
  new Set([...usage.matchAll(/^ {2}([a-z][a-z-]+)/gm)].map((m) => m[1]!));
const flagsIn = (text: string) =>
  new Set(['--help', ...[...text.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0])]);

export async function knownNames(root: string): Promise<Known> {
  const corral = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ['--conditions=corral-source', '--import', 'tsx', 'packages/cli/src/cli.ts', ...args],
      {
        cwd: root,
        encoding: 'utf8',
      },
    ).then((result) => result.stdout);
  const help = await corral(['--help']);
  const corralCommands = new Set([...help.matchAll(/^ {2}([a-z][a-z-]+)\s/gm)].map((m) => m[1]!));
  const corralFlags = new Map(
    await Promise.all(
      [...corralCommands].map(async (name) => [name, flagsIn(await corral([name, '--help']))] as const),
    ),
  );
  const authUsage = usageOf(read(root, 'services/auth/src/cli.ts'));
  const chatUsage = usageOf(read(root, 'services/chat-api/src/cli.ts'));
  const files = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n');
  const codeFiles = files.filter(
    (file) =>
      /\.(ts|tsx|tpl|yaml|yml|txt|sh|json)$|(^|\/)Dockerfile$/.test(file) &&
      !/\.test\.tsx?$|(^|\/)docs\//.test(file) &&
      !file.endsWith('pnpm-lock.yaml') &&
      !file.endsWith('NOTES.txt'),
  );
  const packageScripts = new Map<string, Set<string>>();
  for (const file of files.filter((f) => f.endsWith('package.json'))) {
    const pkg = JSON.parse(read(root, file)) as { name?: string; scripts?: Record<string, string> };
    if (pkg.name) packageScripts.set(pkg.name, new Set(Object.keys(pkg.scripts ?? {})));
  }
  return {
    corralCommands,
    corralFlags,
    imageCommands: { auth: usageCommands(authUsage), 'chat-api': usageCommands(chatUsage) },
    imageFlags: { auth: flagsIn(authUsage), 'chat-api': flagsIn(chatUsage) },
    rootScripts: packageScripts.get('corral') ?? new Set(),
    packageScripts,
    code: codeFiles.map((file) => read(root, file)).join('\n'),
    values: parse(read(root, 'charts/corral/values.yaml')) as Record<string, unknown>,
  };
}

/** Text an operator would type or look up: code spans and fenced blocks (all of NOTES.txt). */
function literalText(document: string, plain: boolean): string[] {
  if (plain) return document.split('\n');
  const pieces: string[] = [];
  const fenced = /```[^\n]*\n([\s\S]*?)```/g;
  for (const match of document.matchAll(fenced)) pieces.push(...match[1]!.split('\n'));
  const rest = document.replace(fenced, '');
  for (const match of rest.matchAll(/`([^`\n]+)`/g)) pieces.push(match[1]!);
  return pieces;
}

function checkCommand(line: string, known: Known, problems: string[]): void {
  // Command position: the start of the line or after a shell separator.
  for (const segment of line.split(/&&|\|\||[;|]|\$\(/)) {
    const words = segment
      .trim()
      .replace(/^\$\s+/, '')
      .split(/\s+/);
    const [first, second, third] = words;
    const corralCommand = first === 'corral' ? 1 : first === 'pnpm' && second === 'corral' ? 2 : -1;
    const name = words[corralCommand];
    if (corralCommand > 0 && name && /^[a-z]/.test(name)) {
      const flags = known.corralFlags.get(name);
      if (!flags)
        problems.push(`${words.slice(0, corralCommand + 1).join(' ')}: no such command (corral --help)`);
      for (const flag of words.slice(corralCommand + 1).map((w) => w.split('=')[0]!)) {
        if (flags && /^--[a-z]/.test(flag) && !flags.has(flag))
          problems.push(`corral ${name} ${flag}: no such option (corral ${name} --help)`);
      }
    }
    if (first === 'pnpm' && second) {
      if (second === 'corral') {
        // Checked above, with its options.
      } else if (second === '--filter' || second === '-F') {
        const scripts = third ? known.packageScripts.get(third) : undefined;
        const script = words[3];
        if (third && !third.startsWith('<') && !scripts)
          problems.push(`pnpm --filter ${third}: no such package`);
        else if (
          scripts &&
          script &&
          /^[a-z]/.test(script) &&
          !scripts.has(script) &&
          !PNPM_BUILTINS.has(script)
        )
          problems.push(`pnpm --filter ${third} ${script}: the package has no such script`);
      } else if (/^[a-z]/.test(second) && !known.rootScripts.has(second) && !PNPM_BUILTINS.has(second)) {
        problems.push(`pnpm ${second}: no such script in package.json`);
      }
    }
    const node = words.indexOf('dist/cli.js');
    if (words[node - 1] === 'node' && node > 0) {
      const command = words[node + 1];
      const image = /corral-chat-api/.test(line) ? 'chat-api' : /corral-auth/.test(line) ? 'auth' : undefined;
      const commands = image
        ? known.imageCommands[image]
        : new Set([...known.imageCommands.auth, ...known.imageCommands['chat-api']]);
      if (command && /^[a-z]/.test(command) && !commands.has(command))
        problems.push(
          `node dist/cli.js ${command}: not a command of the ${image ?? 'auth or chat-api'} image's CLI`,
        );
      const flags = image ? known.imageFlags[image] : undefined;
      for (const flag of words.slice(node + 2).map((w) => w.split('=')[0]!)) {
        if (flags && /^--[a-z]/.test(flag) && !flags.has(flag))
          problems.push(`node dist/cli.js ${command} ${flag}: no such option in the ${image} image's CLI`);
      }
    }
  }
}

const VARIABLE = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?(?![A-Za-z0-9])/g;

function checkVariables(
  piece: string,
  document: string,
  known: Known,
  ignored: Set<string>,
  problems: string[],
): void {
  for (const match of piece.matchAll(VARIABLE)) {
    const name = match[0];
    if (FOREIGN_VARIABLES.has(name) || ignored.has(name)) continue;
    // A shell variable the document itself sets (`NAME=…`).
    if (new RegExp(`\\b${name}=`).test(document)) continue;
    // Every secret can also be given as NAME_FILE (service-kit).
    const base = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name;
    // `PREFIX_<SERVICE>`: the code builds the name from its prefix.
    const prefix = name.endsWith('_') ? name.slice(0, -1) : name;
    const inCode = [name, base, prefix].some((candidate) =>
      new RegExp(`(^|[^A-Za-z0-9_])${candidate}(?![A-Za-z0-9])`).test(known.code),
    );
    if (!inCode) problems.push(`${name}: no such environment variable in the code`);
  }
}

const VALUE_KEY = /(?:^|[\s`(=])(?:\.Values\.)?([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)(?==|\b)/g;

function checkValueKeys(piece: string, known: Known, ignored: Set<string>, problems: string[]): void {
  for (const match of piece.matchAll(VALUE_KEY)) {
    const key = match[1]!;
    const top = key.split('.')[0]!;
    if (!(top in known.values) || ignored.has(key)) continue;
    if (/\.(yaml|md|json|txt|ts|js|sh)$/.test(key)) continue;
    if (valueAt(known.values, key) === undefined) problems.push(`${key}: no such value in values.yaml`);
  }
}

/** Problems found in one document; `plain` for text files (NOTES.txt) checked whole. */
export function checkDocument(document: string, known: Known, options: { plain?: boolean } = {}): string[] {
  const problems: string[] = [];
  // Names a document may mention on purpose though they no longer exist (upgrade notes):
  // `<!-- docs-check: not-current auth.enableRegistration … -->`.
  const ignored = new Set(
    [...document.matchAll(/<!--\s*docs-check: not-current ([^>]*?)\s*-->/g)].flatMap((m) =>
      m[1]!.split(/\s+/),
    ),
  );
  for (const piece of literalText(document, options.plain ?? false)) {
    checkCommand(piece, known, problems);
    checkVariables(piece, document, known, ignored, problems);
    checkValueKeys(piece, known, ignored, problems);
  }
  return [...new Set(problems)];
}
