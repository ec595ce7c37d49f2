import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadQueryCompilerWithoutSource } from './prisma-wasm.js';

const dir = mkdtempSync(join(tmpdir(), 'prisma-wasm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The smallest valid WebAssembly module: magic and version, no sections. */
const EMPTY_MODULE = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
/** This package's TypeScript lib has no WebAssembly types. */
const WasmModule = (globalThis as unknown as { WebAssembly: { Module: abstract new () => object } })
  .WebAssembly.Module;
const SPECIFIER = '@prisma/client/runtime/query_compiler_small_bg.postgresql.wasm-base64.mjs';

function base64Module(name: string, bytes: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, `const wasm = "${bytes.toString('base64')}";\nexport { wasm }\n`);
  return file;
}

/**
 * A client shaped like Prisma 7's. Its loader holds the generated code's `import("….wasm-base64.mjs")`
 * (which is what gets recognised) but only answers 'prisma-loaded', to show when it is used.
 */
function fakeClient() {
  const original = new Function(
    `return async () => { if (globalThis.neverSet) await import(${JSON.stringify(SPECIFIER)}); return 'prisma-loaded'; }`,
  )() as () => Promise<unknown>;
  const compilerWasm = { getQueryCompilerWasmModule: original };
  return { client: { _engineConfig: { compilerWasm } }, compilerWasm, original };
}

describe('loadQueryCompilerWithoutSource', () => {
  it('compiles the module from the file the generated code would import, read as text', async () => {
    const file = base64Module('ok.wasm-base64.mjs', EMPTY_MODULE);
    const { client, compilerWasm } = fakeClient();
    const asked: string[] = [];
    loadQueryCompilerWithoutSource(client, (specifier) => {
      asked.push(specifier);
      return file;
    });
    expect(asked).toEqual([SPECIFIER]);
    expect(await compilerWasm.getQueryCompilerWasmModule()).toBeInstanceOf(WasmModule);
  });

  it("falls back to Prisma's own loader when the file does not hold WASM", async () => {
    const file = base64Module('bad.wasm-base64.mjs', Buffer.from('not wasm'));
    const { client, compilerWasm, original } = fakeClient();
    loadQueryCompilerWithoutSource(client, () => file);
    expect(compilerWasm.getQueryCompilerWasmModule).not.toBe(original);
    expect(await compilerWasm.getQueryCompilerWasmModule()).toBe('prisma-loaded');
  });

  it('leaves a client it does not recognise alone', () => {
    const loader = async () => 'unchanged';
    const other = { _engineConfig: { compilerWasm: { getQueryCompilerWasmModule: loader } } };
    loadQueryCompilerWithoutSource(other, () => join(dir, 'never-read'));
    expect(other._engineConfig.compilerWasm.getQueryCompilerWasmModule).toBe(loader);
    expect(() => loadQueryCompilerWithoutSource({}, () => '')).not.toThrow();
  });

  it('leaves the loader alone when the module cannot be resolved', () => {
    const { client, compilerWasm, original } = fakeClient();
    loadQueryCompilerWithoutSource(client, () => {
      throw new Error('not found');
    });
    expect(compilerWasm.getQueryCompilerWasmModule).toBe(original);
  });
});
