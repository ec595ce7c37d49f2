import type { AuditEvent, Prisma } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type { AuditEvent };

export interface AuditEventRow {
  action: string;
  outcome: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details?: Prisma.InputJsonObject;
}

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
