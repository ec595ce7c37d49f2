import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root: src/ and dist/ both sit two levels below packages/cli. */
export const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** Where a local run keeps its data: CORRAL_HOME, else `.corral/` in the repo root. */
export function corralHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CORRAL_HOME ?? path.join(REPO_ROOT, '.corral'));
}

export interface CorralPaths {
  home: string;
  postgresData: string;
  /** Shared-library symlinks for the embedded PostgreSQL binaries (see postgres.ts). */
  postgresLib: string;
  lock: string;
  state: string;
  adminPassword: string;
  secrets: string;
}

export function corralPaths(home = corralHome()): CorralPaths {
  return {
    home,
    postgresData: path.join(home, 'postgres'),
    postgresLib: path.join(home, 'pg-lib'),
    lock: path.join(home, 'lock'),
    state: path.join(home, 'state.json'),
    adminPassword: path.join(home, 'admin-password'),
    secrets: path.join(home, 'secrets.json'),
  };
}
