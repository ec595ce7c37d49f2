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

/** Actions other services record in auth's audit log (`POST /api/auth/audit-events`, service token). */
export const serviceAuditAction = z.enum(['model.pulled', 'model.removed', 'model.availability_changed']);
export type ServiceAuditAction = z.infer<typeof serviceAuditAction>;

/** `POST /api/auth/audit-events`: one admin action another service carried out (chat-api's pool changes). */
export const serviceAuditEntry = z.object({
  action: serviceAuditAction,
  outcome: z.enum(['success', 'failure']).default('success'),
  actorId: z.uuid(),
  targetType: z.literal('model'),
  targetId: z.string().min(1).max(520),
  ip: z.string().max(100).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ServiceAuditEntry = z.input<typeof serviceAuditEntry>;
