import { z } from 'zod';

/** A revocation stamp: the user's (or, with `sessionId`, one session's) access tokens issued before `notBefore` are refused. */
export const revocation = z.object({
  id: z.string(),
  userId: z.string(),
  sessionId: z.string().nullable(),
  /** Epoch milliseconds. */
  notBefore: z.number().int(),
});
export type Revocation = z.infer<typeof revocation>;

/** `GET /api/auth/revocations` (internal service token): stamps after `after`, oldest first; `last` is the cursor for the next poll. */
export const revocationFeed = z.object({ items: z.array(revocation), last: z.string().nullable() });
export type RevocationFeed = z.infer<typeof revocationFeed>;
