import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART_DIR, ciValuesFiles, renderChart, runHelm } from './helm.js';
import { validateObject } from './models.js';

describe('helm lint', () => {
  it('passes with the default values', () => {
    const result = runHelm(['lint', CHART_DIR]);
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.status).toBe(0);
  });

  it('passes --strict with every ci/*-values.yaml', () => {
    for (const file of ciValuesFiles()) {
      const result = runHelm(['lint', '--strict', CHART_DIR, '-f', file]);
      expect(result.status, `${basename(file)}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });
});

describe('helm template', () => {
  it('has the four scenario files the conventions ask for', () => {
    const names = ciValuesFiles().map((file) => basename(file));
    for (const scenario of ['minimal', 'production-external-db', 'gpu-pool-hpa', 'tls-ingress']) {
      expect(names).toContain(`${scenario}-values.yaml`);
    }
  });

  const scenarios: [string, string | undefined][] = [
    ['default values', undefined],
    ...ciValuesFiles().map((file): [string, string] => [basename(file), file]),
  ];
  it.each(scenarios)(
    'renders %s into objects that validate against the Kubernetes schemas',
    (_label, file) => {
      const objects = renderChart({ valuesFiles: file ? [file] : [] });
      expect(objects.length).toBeGreaterThan(10);
      for (const obj of objects) validateObject(obj);
      const names = objects.map((obj) => `${obj.kind}/${obj.metadata.name}`);
      expect(new Set(names).size, 'duplicate kind/name').toBe(names.length);
      for (const obj of objects) expect(obj.metadata.name.length).toBeLessThanOrEqual(63);
    },
  );
});

describe('values schema', () => {
  it('documents every value with a `## @param` comment and points editors at the schema', () => {
    const text = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=values.schema.json')).toBe(true);
    const documented = new Set([...text.matchAll(/## @param (\S+)/g)].map((m) => m[1]));
    const undocumented: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (path && documented.has(path)) return; // a documented map or list covers its contents
      if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
        for (const [key, child] of Object.entries(node)) visit(child, path ? `${path}.${key}` : key);
      } else if (path) {
        undocumented.push(path);
      }
    };
    visit(parse(text), '');
    expect(undocumented).toEqual([]);
  });

  it('rejects a misspelled key so a typo cannot be silently ignored', () => {
    const typo = runHelm(['template', 'corral', CHART_DIR, '--set', 'chatApi.replicaCont=3']);
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toMatch(/replicaCont/);

    const nested = runHelm([
      'template',
      'corral',
      CHART_DIR,
      '--set',
      'ollama.autoscaling.tokensPerSecondPerPood=10',
    ]);
    expect(nested.status).not.toBe(0);
    expect(nested.stderr).toMatch(/tokensPerSecondPerPood/);
  });

  it('rejects a wrong type and an unknown enum value', () => {
    expect(runHelm(['template', 'corral', CHART_DIR, '--set', 'backup.keep=many']).status).not.toBe(0);
    expect(runHelm(['template', 'corral', CHART_DIR, '--set', 'config.logLevel=loud']).status).not.toBe(0);
  });

  it('explains combinations the schema cannot express', () => {
    const noDb = runHelm(['template', 'corral', CHART_DIR, '--set', 'postgresql.enabled=false']);
    expect(noDb.status).not.toBe(0);
    expect(noDb.stderr).toContain('externalDatabase.url or externalDatabase.existingSecret');
  });
});
