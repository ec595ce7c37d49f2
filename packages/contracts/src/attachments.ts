import { z } from 'zod';
import { recordId, timestamp } from './common.js';

/** What an attachment may be: the types its bytes are sniffed as (anything else is refused, 400). */
export const ATTACHMENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export const attachmentType = z.enum(ATTACHMENT_TYPES);
export type AttachmentType = z.infer<typeof attachmentType>;

/** Most images one message may carry. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 8;

/**
 * An image attached to a message (`POST /api/conversations/:id/attachments` answers one). Its bytes
 * are read from `GET /api/conversations/:id/attachments/:attachmentId`, by its owner only.
 */
export const attachment = z.object({
  id: recordId,
  name: z.string(),
  contentType: attachmentType,
  /** Bytes. */
  size: z.number().int().min(0),
  createdAt: timestamp,
});
export type Attachment = z.infer<typeof attachment>;

export const attachmentResponse = z.object({ attachment });
export type AttachmentResponse = z.infer<typeof attachmentResponse>;

/** A user's attachment storage: what is used and the quota (null = none). */
export const storageUsage = z.object({
  usedBytes: z.number().int().min(0),
  quotaBytes: z.number().int().min(0).nullable(),
});
export type StorageUsage = z.infer<typeof storageUsage>;
