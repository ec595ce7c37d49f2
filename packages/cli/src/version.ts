import { readFileSync } from 'node:fs';

/** Corral's version: CORRAL_VERSION (set in the images), else this package's version. */
export function corralVersion(env = process.env): string {
  if (env.CORRAL_VERSION) return env.CORRAL_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
