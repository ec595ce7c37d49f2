// Every command, environment variable and values key an operator reads in README.md, docs/,
// the chart's README and NOTES.txt and k8s/ exists (parsed from the documents, looked up in the CLIs'
// command tables, the code and values.yaml).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Known, checkDocument, knownNames } from '../src/docs-check.js';
import { REPO_ROOT } from './helm.js';

const DOCUMENTS = [
  'README.md',
  ...readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'charts/corral/README.md',
  ...readdirSync(path.join(REPO_ROOT, 'k8s'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `k8s/${name}`),
];
const NOTES = 'charts/corral/templates/NOTES.txt';

let known: Known;
beforeAll(async () => {
  known = await knownNames(REPO_ROOT);
}, 120_000);

describe('the documents name only what exists', () => {
  it.each(DOCUMENTS)('%s', (document) => {
    expect(checkDocument(readFileSync(path.join(REPO_ROOT, document), 'utf8'), known)).toEqual([]);
  });

  it(NOTES, () => {
    expect(checkDocument(readFileSync(path.join(REPO_ROOT, NOTES), 'utf8'), known, { plain: true })).toEqual(
      [],
    );
  });

  it('reads the command tables it checks against', () => {
    expect([...known.corralCommands]).toEqual(
      expect.arrayContaining([
        'start',
        'backup',
        'restore',
        'rotate-signing-key',
        'rotate-bootstrap-key',
        'retention',
      ]),
    );
    expect([...known.imageCommands.auth]).toEqual(
      expect.arrayContaining(['rotate-bootstrap-key', 'seed-admin']),
    );
    expect([...known.imageCommands['chat-api']]).toContain('retention');
  });
});

describe('the check fails on a document that names something that does not exist', () => {
  const bad = [
    '# Broken runbook',
    '',
    '```sh',
    'pnpm corral rotate-everything --now',
    'pnpm corral retention --dry-run --days 90 --yes',
    'kubectl -n corral exec deploy/corral-auth -- node dist/cli.js rotate-bootstrap-key --user admin@corral.local',
    'kubectl -n corral exec deploy/corral-auth -- node dist/cli.js reset-admin',
    'kubectl -n corral exec deploy/corral-chat-api -- node dist/cli.js rotate-signing-key',
    'pnpm deploy:prod',
    'corral frobnicate',
    'pnpm --filter @corral/nowhere test',
    '```',
    '',
    'Set `CORRAL_FROBNICATE_MS` and `ingress.frobnicate=true`, or `auth.registration.moed`.',
    '',
  ].join('\n');

  it('names each missing command, variable and value', () => {
    expect(checkDocument(bad, known)).toEqual(
      expect.arrayContaining([
        'pnpm corral rotate-everything: no such command (corral --help)',
        'corral retention --yes: no such option (corral retention --help)',
        "node dist/cli.js rotate-bootstrap-key --user: no such option in the auth image's CLI",
        "node dist/cli.js reset-admin: not a command of the auth image's CLI",
        "node dist/cli.js rotate-signing-key: not a command of the chat-api image's CLI",
        'pnpm deploy:prod: no such script in package.json',
        'corral frobnicate: no such command (corral --help)',
        'pnpm --filter @corral/nowhere: no such package',
        'CORRAL_FROBNICATE_MS: no such environment variable in the code',
        'ingress.frobnicate: no such value in values.yaml',
        'auth.registration.moed: no such value in values.yaml',
      ]),
    );
  });

  it('in NOTES.txt too, template references included', () => {
    const notes =
      'Set {{ .Values.web.proxy.enabeld }}; CORRAL_NOPE_URL is ignored. Then:\n\n   corral rotate-all\n';
    expect(checkDocument(notes, known, { plain: true })).toEqual([
      'CORRAL_NOPE_URL: no such environment variable in the code',
      'web.proxy.enabeld: no such value in values.yaml',
      'corral rotate-all: no such command (corral --help)',
    ]);
  });
});
