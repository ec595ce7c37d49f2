import type { ExportedConversation, ExportedFolder } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { Folder } from '../generated/prisma/client.js';

/** The account's folders as the export writes them (only `onlyId`'s, for one conversation's export). */
export const exportedFolders = (folders: Folder[], onlyId?: string | null): ExportedFolder[] =>
  folders
    .filter((f) => onlyId === undefined || f.id === onlyId)
    .map((f) => ({
      id: f.id,
      name: f.name,
      createdAt: f.createdAt.toISOString(),
      updatedAt: f.updatedAt.toISOString(),
    }));

/** Imported comments are held to FEEDBACK_COMMENT_MAX_CHARS, as typed ones are (400 naming the limit). */
export function assertImportedComments(conversations: ExportedConversation[], max: number): void {
  const errors = conversations.flatMap((c, i) =>
    c.messages.flatMap((m, j) =>
      (m.feedback?.comment?.length ?? 0) > max
        ? [
            {
              path: `body.conversations.${i}.messages.${j}.feedback.comment`,
              message: `at most ${max} characters (FEEDBACK_COMMENT_MAX_CHARS)`,
            },
          ]
        : [],
    ),
  );
  if (errors.length > 0) {
    throw new AppError('validation_failed', `${errors[0]!.path}: ${errors[0]!.message}`, {
      extensions: { errors, limit: max },
    });
  }
}
