import type { AuditEvent, Prisma } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type { AuditEvent };

/** An event to write: every column but the generated ones, `details` optional. */
export type AuditEventRow = Omit<AuditEvent, 'id' | 'at' | 'details'> & { details?: Prisma.InputJsonObject };

export async function insertAuditEvent(db: Database, row: AuditEventRow): Promise<void> {
  await db.prisma.auditEvent.create({ data: row });
}

export interface AuditFilter {
  /** Events older than this id (the last of the previous page). */
  before?: bigint | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
}

/** Up to `take` events matching the filter, newest first. */
export function findAuditEvents(db: Database, filter: AuditFilter, take: number): Promise<AuditEvent[]> {
  return db.prisma.auditEvent.findMany({
    where: {
      ...(filter.before === undefined ? {} : { id: { lt: filter.before } }),
      ...(filter.action ? { action: filter.action } : {}),
      ...(filter.actorId ? { actorId: filter.actorId } : {}),
    },
    orderBy: { id: 'desc' },
    take,
  });
}
