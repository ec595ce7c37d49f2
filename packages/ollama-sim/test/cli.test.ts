import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('cli', () => {
  it('starts, says it is a simulator, answers, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        // Workspace packages from source, as `pnpm start` runs them (a fresh clone has no dist/).
        '--conditions=corral-source',
        '--import',
        'tsx',
        'src/cli.ts',
        '--',
        '--port',
        '0',
        '--models',
        'llama3.2,nomic-embed-text',
        '--ttft-ms',
        '0',
      ],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`cli exited early (${code}): ${output}`)));
    });
    try {
      expect(output).toContain('ollama-sim (simulator, not a real model)');
      expect(await (await fetch(`${url}/api/version`)).json()).toEqual({ version: '0.13.0-sim' });
      const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string }> };
      expect(tags.models.map((m) => m.name)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    }
  });

  it('rejects a bad flag value with its name', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=corral-source', '--import', 'tsx', 'src/cli.ts', '--max-queue', 'lots'],
      {
        cwd: packageDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('--max-queue');
  });
});
