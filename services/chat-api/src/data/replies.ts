import { branchTo } from './conversations.js';
import type { Database, Message, MessageStatus } from './db.js';
import { type BranchMessage, MESSAGE_COLUMNS, type MessageRow, messageFromRow } from './rows.js';

export interface TurnToSave {
  conversationId: string;
  /** The new user message (send, edit), or null (regenerate); `attachmentIds`: its unsent uploads. */
  question: { id: string; content: string; attachmentIds?: string[] } | null;
  /** The `streaming` assistant message; it becomes the conversation's current leaf. */
  replyId: string;
  model: string;
  /** What the question (or, for regenerate, the reply) hangs under. */
  parentId: string | null;
  /** Title for a conversation still without one (the question's first line); null keeps the title. */
  placeholderTitle: string | null;
  at: Date;
}

export interface SavedTurn {
  question: Message | null;
  reply: Message;
  /** The branch the reply continues, root first: the saved messages up to `parentId`, then the question. */
  branch: BranchMessage[];
  /**
   * The branch's user messages that have images (read in the same statement, so a turn without
   * images costs no query for them); the new question is not among them (its images are the plan's).
   */
  withImages: string[];
  /** The Ollama options of the assistant the conversation was started with ({} for none), read in the same statement. */
  options: Record<string, unknown>;
}

const BRANCH_COLUMNS = MESSAGE_COLUMNS.replace(/(\w+)/g, 'm.$1');

/**
 * A chat turn in one statement (one round trip, atomic): moves the conversation's current branch
 * to the reply (and gives it a first-line title if it has none), inserts the user message and the
 * `streaming` reply, and reads the branch above them by following parent links and the options of
 * the conversation's assistant. Null when the conversation is gone (nothing is written then).
 */
export async function saveTurn(db: Database, turn: TurnToSave): Promise<SavedTurn | null> {
  // One millisecond later, so the reply sorts after its question even within one statement.
  const replyAt = new Date(turn.at.getTime() + 1);
  const replyParentId = turn.question ? turn.question.id : turn.parentId;
  const { rows } = await db.pool.query<
    MessageRow & {
      saved: number;
      claimed: number;
      has_images: boolean;
      options: Record<string, unknown> | null;
    }
  >({
    name: 'chat_save_turn',
    text: `WITH RECURSIVE conv AS (
       UPDATE conversations
          SET current_message_id = $1::uuid, updated_at = $2::timestamptz,
              title = CASE WHEN title_source = 'none' AND $3::text IS NOT NULL THEN $3::text ELSE title END,
              title_source = CASE WHEN title_source = 'none' AND $3::text IS NOT NULL THEN 'auto' ELSE title_source END
        WHERE id = $4::uuid
        RETURNING id
     ), question AS (
       INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, updated_at)
       SELECT $5::uuid, conv.id, $6::uuid, 'user', $7::text, 'complete', $8::timestamptz, $8::timestamptz
         FROM conv WHERE $7::text IS NOT NULL
       RETURNING id
     ), claimed AS (
       UPDATE attachments SET message_id = question.id
         FROM question
        WHERE attachments.id = ANY($11::uuid[]) AND attachments.conversation_id = $4::uuid
          AND attachments.message_id IS NULL
       RETURNING attachments.id
     ), reply AS (
       INSERT INTO messages (id, conversation_id, parent_id, role, content, model, status, created_at, updated_at)
       SELECT $1::uuid, conv.id, $9::uuid, 'assistant', '', $10::text, 'streaming', $2::timestamptz, $2::timestamptz
         FROM conv
       RETURNING id
     ), branch AS (
       SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $6::uuid AND conversation_id = $4::uuid
       UNION
       SELECT ${BRANCH_COLUMNS} FROM messages m JOIN branch b ON m.id = b.parent_id
        WHERE m.conversation_id = $4::uuid
     )
     SELECT r.saved, (SELECT count(*)::int FROM claimed) AS claimed, b.*,
            b.role = 'user' AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = b.id) AS has_images,
            (SELECT ca.options FROM conversation_assistants ca WHERE ca.conversation_id = $4::uuid) AS options
       FROM (SELECT count(*)::int AS saved FROM reply) r LEFT JOIN branch b ON true`,
    values: [
      turn.replyId,
      replyAt,
      turn.placeholderTitle,
      turn.conversationId,
      turn.question?.id ?? null,
      turn.parentId,
      turn.question?.content ?? null,
      turn.at,
      replyParentId,
      turn.model,
      turn.question?.attachmentIds ?? [],
    ],
  });
  if (rows[0]?.saved !== 1) return null;
  const found = rows.filter((row) => row.id !== null);
  const saved = found.map(messageFromRow);
  const withImages = found.filter((row) => row.has_images).map((row) => row.id);
  const message = (fields: Pick<Message, 'id' | 'parentId' | 'role' | 'content' | 'model' | 'status'>) => ({
    ...fields,
    conversationId: turn.conversationId,
    reasoning: null,
    error: null,
    promptTokens: null,
    completionTokens: null,
    durationMs: null,
  });
  const question: Message | null = turn.question && {
    ...message({
      id: turn.question.id,
      parentId: turn.parentId,
      role: 'user',
      content: turn.question.content,
      model: null,
      status: 'complete',
    }),
    createdAt: turn.at,
    updatedAt: turn.at,
  };
  const reply: Message = {
    ...message({
      id: turn.replyId,
      parentId: replyParentId,
      role: 'assistant',
      content: '',
      model: turn.model,
      status: 'streaming',
    }),
    createdAt: replyAt,
    updatedAt: replyAt,
  };
  const branch = branchTo(saved, turn.parentId);
  if (question) branch.push(question);
  return { question, reply, branch, withImages, options: rows[0].options ?? {} };
}

export interface ReplyOutcome {
  status: Exclude<MessageStatus, 'streaming'>;
  content: string;
  /** The model's reasoning, null when it had none (and in spill records from before it was saved). */
  reasoning: string | null;
  error: string | null;
  promptTokens: number | null;
  completionTokens: number;
  durationMs: number;
}

/** The tokens a reply spent, added to the user's (and key's) row for today. */
export interface ReplyUsage {
  userId: string;
  apiKeyId: string | null;
  model: string;
}

/**
 * A reply's final state — the whole text (so a lost batch never loses text), its reasoning, status
 * and counts —
 * and its usage, in one statement: one round trip, and the usage is stored exactly when the reply is.
 * Idempotent: a reply already finalised (its completion count set) is neither rewritten nor counted
 * again, so a retry after a lost acknowledgement is safe; a row the sweep marked `interrupted`
 * meanwhile still gets its real final state.
 */
export async function saveReplyOutcome(
  db: Database,
  messageId: string,
  outcome: ReplyOutcome,
  usage: ReplyUsage,
): Promise<void> {
  await db.pool.query({
    name: 'chat_save_reply_outcome',
    text: `WITH saved AS (
       UPDATE messages
          SET content = $2, status = $3, error = $4, prompt_tokens = $5, completion_tokens = $6,
              duration_ms = $7, reasoning = $11, updated_at = now()
        WHERE id = $1 AND completion_tokens IS NULL
     ), chunks AS (
       DELETE FROM message_chunks WHERE message_id = $1
     )
     INSERT INTO usage_records (day, user_id, api_key_id, model, requests, prompt_tokens, completion_tokens, updated_at)
     SELECT (now() AT TIME ZONE 'UTC')::date, $8, $9, $10, 1, COALESCE($5, 0), $6, now()
      WHERE NOT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND completion_tokens IS NOT NULL)
     ON CONFLICT (day, user_id, api_key_id, model) DO UPDATE SET
       requests = usage_records.requests + 1,
       prompt_tokens = usage_records.prompt_tokens + EXCLUDED.prompt_tokens,
       completion_tokens = usage_records.completion_tokens + EXCLUDED.completion_tokens,
       updated_at = now()`,
    values: [
      messageId,
      outcome.content,
      outcome.status,
      outcome.error,
      outcome.promptTokens,
      outcome.completionTokens,
      outcome.durationMs,
      usage.userId,
      usage.apiKeyId ?? '',
      usage.model,
      outcome.reasoning,
    ],
  });
}

/**
 * Intermediate writes of a reply (chunk appends, heartbeats) commit without waiting for the WAL
 * flush: `set_config('synchronous_commit', 'off', true)` in the statement itself applies to its own
 * (implicit) transaction only, so it costs no extra round trip. This is safe because nothing depends
 * on them surviving a PostgreSQL crash: the final save (synchronous, retried, spilled — nothing
 * changed there) writes the whole text and deletes the chunks, so a chunk lost in a crash is
 * rewritten by it. Only a reply whose chat-api process dies too in the same crash could keep less of
 * its partial text (at most the last ~3 × wal_writer_delay, 600 ms by default); such a reply is
 * `interrupted` either way. See the chat-api README ("Nothing is lost").
 */
const ASYNC_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`;

/**
 * Appends a batch of generated text to a reply still being written, as chunk row `seq`: the write
 * costs the size of the new text, never the whole reply (the final save writes that once). Its
 * commit does not wait for the disk (see ASYNC_COMMIT).
 */
export async function appendReplyText(
  db: Database,
  messageId: string,
  seq: number,
  text: string,
): Promise<void> {
  await db.pool.query({
    name: 'chat_append_reply_text',
    text: `INSERT INTO message_chunks (message_id, seq, content)
     SELECT $1, $2, $3 FROM ${ASYNC_COMMIT}
      WHERE EXISTS (SELECT 1 FROM messages WHERE id = $1 AND status = 'streaming')
     ON CONFLICT DO NOTHING`,
    values: [messageId, seq, text],
  });
}

/**
 * The heartbeat of a reply being written: the sweep leaves rows touched recently alone. Its commit
 * does not wait for the disk (see ASYNC_COMMIT): a heartbeat lost in a crash only makes the row look
 * idle, and after a crash of PostgreSQL the row is re-touched or finally saved within seconds.
 */
export async function touchReply(db: Database, messageId: string): Promise<void> {
  await db.pool.query({
    name: 'chat_touch_reply',
    text: `UPDATE messages SET updated_at = now() FROM ${ASYNC_COMMIT} WHERE id = $1`,
    values: [messageId],
  });
}

/**
 * Replies still `streaming` but untouched for `staleSeconds` and not in `runningHere` become
 * `interrupted` with their partial text (their chunks folded into the message) (and `error` if they have none); returns their ids.
 */
export async function markOrphanedRepliesInterrupted(
  db: Database,
  error: string,
  staleSeconds: number,
  runningHere: string[],
): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `WITH swept AS (
       UPDATE messages m
          SET status = 'interrupted', error = COALESCE(error, $1), updated_at = now(),
              content = m.content || COALESCE(
                (SELECT string_agg(c.content, '' ORDER BY c.seq) FROM message_chunks c WHERE c.message_id = m.id), '')
        WHERE status = 'streaming'
          AND updated_at <= now() - make_interval(secs => $2)
          AND NOT (id = ANY($3::uuid[]))
        RETURNING id
     ), folded AS (
       DELETE FROM message_chunks WHERE message_id IN (SELECT id FROM swept)
     )
     SELECT id FROM swept`,
    [error, staleSeconds, runningHere],
  );
  return rows.map((row) => row.id);
}

/** The ids of a conversation's replies still being written. */
export async function streamingReplyIds(db: Database, conversationId: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>({
    name: 'chat_streaming_reply_ids',
    text: `SELECT id FROM messages WHERE conversation_id = $1 AND status = 'streaming'`,
    values: [conversationId],
  });
  return rows.map((row) => row.id);
}

/** Which of these conversations have a reply still being written (the partial streaming index). */
export async function replyingConversationIds(db: Database, conversationIds: string[]): Promise<string[]> {
  if (conversationIds.length === 0) return [];
  const { rows } = await db.pool.query<{ conversation_id: string }>(
    `SELECT DISTINCT conversation_id FROM messages WHERE status = 'streaming' AND conversation_id = ANY($1::uuid[])`,
    [conversationIds],
  );
  return rows.map((row) => row.conversation_id);
}
