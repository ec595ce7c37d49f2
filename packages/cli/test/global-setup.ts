import { ensurePrismaClient, SERVICES } from '../src/services.js';

/** Test files boot Corral in parallel: generate the Prisma clients once, before any of them. */
export default function setup(): void {
  for (const spec of Object.values(SERVICES)) ensurePrismaClient(spec, () => undefined);
}
