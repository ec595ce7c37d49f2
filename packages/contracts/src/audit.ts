import { z } from 'zod';
import { page, timestamp } from './common.js';

/** One entry of auth's audit log. */
export const auditEvent = z.object({
  /** A bigint as a string: the cursor of keyset paging (`before`). */
  id: z.string().regex(/^\d+$/),
  at: timestamp,
  action: z.string(),
  outcome: z.string(),
  actorId: z.string().nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  /** What else the event recorded (the email a failed sign-in tried, …). */
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEvent = z.infer<typeof auditEvent>;

/** `GET /api/auth/admin/audit`: newest first; `nextCursor` is the `before` of the next page. */
export const auditPage = page(auditEvent);
