import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CHART_README_PATH,
  VALUES_PATH,
  paramDocs,
  renderChartReadme,
  undocumentedValues,
} from '../src/chart-readme.js';

describe('charts/corral/README.md', () => {
  it('matches the @param comments in values.yaml (run `pnpm docs:chart` after changing one)', async () => {
    expect(readFileSync(CHART_README_PATH, 'utf8')).toBe(await renderChartReadme());
  });

  it('every value in values.yaml has a @param, and every @param names a value', () => {
    const values = readFileSync(VALUES_PATH, 'utf8');
    expect(undocumentedValues(values)).toEqual([]);
    expect(paramDocs(values).filter((doc) => doc.default === undefined)).toEqual([]);
  });

  it('catches a value without a @param and a @param for a value that is not there', () => {
    const values = [
      '## @section S',
      'a:',
      '  ## @param a.b documented',
      '  b: 1',
      '  c: two',
      '## @param gone.key stale',
      '',
    ].join('\n');
    expect(undocumentedValues(values)).toEqual(['a.c']);
    expect(
      paramDocs(values)
        .filter((doc) => doc.default === undefined)
        .map((doc) => doc.path),
    ).toEqual(['gone.key']);
  });

  it('has the install steps, the prerequisites table and the upgrade notes', () => {
    const readme = readFileSync(CHART_README_PATH, 'utf8');
    for (const heading of ['## Install', '## Prerequisites', '## Upgrading', '## Parameters']) {
      expect(readme).toContain(heading);
    }
    for (const prerequisite of [
      'ingress controller',
      'cert-manager',
      'prometheus-adapter',
      'KEDA',
      'GPU operator',
    ]) {
      expect(readme).toContain(prerequisite);
    }
  });
});
