// The Node/malloc settings a service runs with must be the same in the image, the chart, `corral
// start` and the benches, or a memory figure measured in one says nothing about the others.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as cli from '../../../packages/cli/src/node-runtime.js';
import {
  SERVICE_MALLOC_MMAP_THRESHOLD,
  SERVICE_NODE_OPTIONS,
  serviceRuntimeEnv,
} from '../../../packages/service-kit/src/node-runtime.js';
import { REPO_ROOT, findOne, renderChart } from './helm.js';
import { podSpecOf } from './pods.js';

const SERVICES = ['auth', 'chat-api', 'inference-gateway', 'web'];

describe('Node and malloc settings of the services', () => {
  it('the chart gives every service the same NODE_OPTIONS and MALLOC_MMAP_THRESHOLD_', () => {
    const objects = renderChart();
    for (const service of SERVICES) {
      const container = podSpecOf(findOne(objects, 'Deployment', `corral-${service}`))!.containers[0]!;
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
      expect(env, service).toMatchObject({
        NODE_OPTIONS: SERVICE_NODE_OPTIONS,
        MALLOC_MMAP_THRESHOLD_: SERVICE_MALLOC_MMAP_THRESHOLD,
      });
    }
  });

  it('an empty config.nodeOptions leaves Node to size the heap from the container limit', () => {
    const objects = renderChart({ set: ['config.nodeOptions='] });
    const container = podSpecOf(findOne(objects, 'Deployment', 'corral-chat-api'))!.containers[0]!;
    expect(container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe('');
  });

  it('the image sets the same values (Dockerfile ENV of the runtime stage)', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toContain(`NODE_OPTIONS="${SERVICE_NODE_OPTIONS}"`);
    expect(runtime).toContain(`MALLOC_MMAP_THRESHOLD_=${SERVICE_MALLOC_MMAP_THRESHOLD}`);
  });

  it("`corral start` uses the same values (the CLI's copy)", () => {
    expect(cli.SERVICE_NODE_OPTIONS).toBe(SERVICE_NODE_OPTIONS);
    expect(cli.SERVICE_MALLOC_MMAP_THRESHOLD).toBe(SERVICE_MALLOC_MMAP_THRESHOLD);
    expect(cli.serviceRuntimeEnv({ NODE_OPTIONS: '--inspect' })).toEqual(
      serviceRuntimeEnv({ NODE_OPTIONS: '--inspect' }),
    );
  });

  it("a caller's own NODE_OPTIONS and malloc threshold win", () => {
    expect(serviceRuntimeEnv({})).toEqual({
      NODE_OPTIONS: SERVICE_NODE_OPTIONS,
      MALLOC_MMAP_THRESHOLD_: SERVICE_MALLOC_MMAP_THRESHOLD,
    });
    const env = serviceRuntimeEnv({
      NODE_OPTIONS: '--max-old-space-size=2048',
      MALLOC_MMAP_THRESHOLD_: '65536',
    });
    expect(env.NODE_OPTIONS).toBe(`${SERVICE_NODE_OPTIONS} --max-old-space-size=2048`);
    expect(env.MALLOC_MMAP_THRESHOLD_).toBe('65536');
  });
});
