import { readFile } from 'node:fs/promises';

/** What this module touches of a PrismaClient (7.x): the engine config its constructor keeps. */
interface CompilerWasmConfig {
  getQueryCompilerWasmModule?: unknown;
}

/** The one WebAssembly call used here (this package's TypeScript lib has no WebAssembly types). */
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<object> };

const BASE64_MODULE = /import\(\s*["']([^"']+\.wasm-base64\.m?js)["']\s*\)/;
const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

/** The base64 text between the first and last double quote of `const wasm = "…"; export { wasm }`. */
async function compileFromBase64Module(file: string): Promise<object> {
  const source = await readFile(file, 'utf8');
  const bytes = Buffer.from(source.slice(source.indexOf('"') + 1, source.lastIndexOf('"')), 'base64');
  if (!bytes.subarray(0, 4).equals(WASM_MAGIC)) throw new Error(`${file} does not hold a WASM module`);
  return WebAssembly.compile(bytes);
}

/**
 * Prisma 7's generated client gets its query compiler from a module that exports the WASM as a
 * ~2.3 MB base64 string. An ES module is never unloaded, so that module's source and the string
 * stay on the heap for the life of the process (~4.5 MB, measured in auth and chat-api). This
 * makes the client read the same file as text instead, compile it and let the text go.
 *
 * It relies on the client's internal engine config; when that is not shaped as expected (another
 * Prisma version) it changes nothing and Prisma loads the compiler its own way.
 * `resolve` resolves a specifier from the service (service-kit cannot see `@prisma/client`).
 */
export function loadQueryCompilerWithoutSource(client: object, resolve: (specifier: string) => string): void {
  const config = (client as { _engineConfig?: { compilerWasm?: CompilerWasmConfig } })._engineConfig
    ?.compilerWasm;
  const original = config?.getQueryCompilerWasmModule;
  if (!config || typeof original !== 'function') return;
  const specifier = BASE64_MODULE.exec(String(original))?.[1];
  if (!specifier) return;
  let file: string;
  try {
    file = resolve(specifier);
  } catch {
    return;
  }
  const fallback = original as () => Promise<object>;
  config.getQueryCompilerWasmModule = () => compileFromBase64Module(file).catch(() => fallback());
}
