// Rollback safety: every service migration keeps the previous release working (expand/contract,
// docs/operations.md "Rollback"), or says why not with a `corral:contract` marker.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@corral/test-support';
import { describe, expect, it } from 'vitest';
import { destructiveStatements } from '../src/rollback/destructive.js';

const migrationFiles = readdirSync(path.join(REPO_ROOT, 'services')).flatMap((service) => {
  const dir = path.join(REPO_ROOT, 'services', service, 'prisma', 'migrations');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(path.join(dir, name, 'migration.sql')))
    .map((name) => path.join('services', service, 'prisma', 'migrations', name, 'migration.sql'));
});

describe('migrations follow expand/contract', () => {
  it('finds the migrations of auth and chat-api', () => {
    expect(migrationFiles.some((file) => file.startsWith('services/auth/'))).toBe(true);
    expect(migrationFiles.some((file) => file.startsWith('services/chat-api/'))).toBe(true);
  });

  it.each(migrationFiles)('%s has no unmarked destructive statement', (file) => {
    const findings = destructiveStatements(readFileSync(path.join(REPO_ROOT, file), 'utf8'));
    expect(
      findings.map((finding) => `${file}:${finding.line} ${finding.why}: ${finding.statement}`),
      'split it into expand now / contract in a later release, or mark it with a `-- corral:contract <why>` comment',
    ).toEqual([]);
  });
});
