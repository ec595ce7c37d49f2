import { normalizeModelName } from '@corral/contracts';
import type { Database, PrismaClient } from './db.js';

export interface AvailabilityRow {
  model: string;
  availableToUsers: boolean;
}

/**
 * The pool's "available to users" switches (`model_availability`). Requests read a snapshot kept
 * in memory and refreshed at most every USER_LIMITS_CACHE_MS (`refresh` is awaited once per
 * request, so the check itself is synchronous); a change made here is seen at once on this replica
 * and within the cache time on the others. No row = available (see the migration).
 */
export class ModelAvailability {
  private readonly prisma: PrismaClient;
  private hidden = new Set<string>();
  private rows: AvailabilityRow[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(
    db: Pick<Database, 'prisma'>,
    private readonly cacheMs: number,
    /** DEFAULT_MODEL: available whatever its row says, so a new chat always has its model. */
    private readonly defaultModel: string,
  ) {
    this.prisma = db.prisma;
  }

  /** Reads the switches again when the snapshot is older than the cache time. */
  refresh(): Promise<void> {
    if (Date.now() - this.loadedAt < this.cacheMs) return Promise.resolve();
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.prisma.modelAvailability.findMany({
      select: { model: true, availableToUsers: true },
    });
    this.rows = rows;
    this.hidden = new Set(rows.filter((row) => !row.availableToUsers).map((row) => row.model));
    this.loadedAt = Date.now();
  }

  /** Whether an admin has kept `model` from users (as of the last refresh). */
  isHidden(model: string): boolean {
    const name = normalizeModelName(model);
    return this.hidden.has(name) && name !== normalizeModelName(this.defaultModel);
  }

  /** Every stored switch, read fresh (the admin's view). */
  async decided(): Promise<AvailabilityRow[]> {
    this.loadedAt = Number.NEGATIVE_INFINITY;
    await this.refresh();
    return this.rows;
  }

  /** An admin's decision. */
  async set(model: string, availableToUsers: boolean, by: string): Promise<void> {
    const name = normalizeModelName(model);
    await this.prisma.modelAvailability.upsert({
      where: { model: name },
      create: { model: name, availableToUsers, updatedBy: by },
      update: { availableToUsers, updatedBy: by, updatedAt: new Date() },
    });
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** A model new to the pool, pulled through Corral: kept from users until an admin enables it. */
  async hideNew(model: string, by: string): Promise<void> {
    const name = normalizeModelName(model);
    if (name === normalizeModelName(this.defaultModel)) return;
    await this.prisma.modelAvailability.createMany({
      data: [{ model: name, availableToUsers: false, updatedBy: by }],
      skipDuplicates: true,
    });
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** The model left the pool: a later pull starts hidden again. */
  async forget(model: string): Promise<void> {
    await this.prisma.modelAvailability.deleteMany({ where: { model: normalizeModelName(model) } });
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }
}
