import type { AuditEvent, ServiceAuditAction } from '@corral/contracts';
import type { Logger } from '@corral/service-kit';
import { type AuditEventRow, findAuditEvents, insertAuditEvent } from '../data/audit.js';
import type { Database } from '../data/db.js';

export type AuditAction =
  | 'user.registered'
  | 'user.sign_in'
  | 'user.sign_out'
  | 'user.activated'
  | 'user.disabled'
  | 'user.role_changed'
  | 'user.password_reset'
  | 'user.password_changed'
  | 'user.bootstrapped'
  | 'user.oidc_linked'
  | 'user.groups_synced'
  | 'group.created'
  | 'group.renamed'
  | 'group.limits_changed'
  | 'group.deleted'
  | 'group.member_added'
  | 'group.member_removed'
  | 'session.refresh_reuse'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'signing_key.rotated'
  // Recorded for other services (POST /api/auth/audit-events): chat-api's model pool changes.
  | ServiceAuditAction;

export interface AuditEntry {
  action: AuditAction;
  outcome?: 'success' | 'failure';
  actorId?: string | null;
  targetType?: 'user' | 'api_key' | 'signing_key' | 'session' | 'group' | 'model';
  targetId?: string | null;
  ip?: string | undefined;
  details?: AuditEventRow['details'];
}

/** One event as auth answers it: the contract its callers read. */
export type AuditEventView = AuditEvent;

/** Writes the audit trail. A failed write is logged, never fails the request that caused it. */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await insertAuditEvent(this.db, {
        action: entry.action,
        outcome: entry.outcome ?? 'success',
        actorId: entry.actorId ?? null,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        ip: entry.ip ?? null,
        ...(entry.details ? { details: entry.details } : {}),
      });
    } catch (error) {
      this.logger.error('audit write failed', { error, action: entry.action });
    }
  }

  /** Newest first; `before` is the id of the last event of the previous page (keyset paging). */
  async page(options: { limit: number; before?: bigint; action?: string; actorId?: string }) {
    const rows = await findAuditEvents(this.db, options, options.limit + 1);
    const items = rows.slice(0, options.limit).map(toView);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > options.limit && last ? last.id : null };
  }
}

export function toView(row: {
  id: bigint;
  at: Date;
  action: string;
  outcome: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: unknown;
}): AuditEventView {
  // record() writes details only as an object (AuditEntry.details), or not at all.
  const details = (row.details ?? null) as AuditEventView['details'];
  return { ...row, id: row.id.toString(), at: row.at.toISOString(), details };
}
