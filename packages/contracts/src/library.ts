import { z } from 'zod';
import { messageRole, messageStatus } from './conversations.js';
import { recordId, timestamp } from './common.js';

// The prompt library, assistants and shared conversations (chat-api `/api/prompts`,
// `/api/assistants`, `/api/shares`). Lengths and counts are bounded by chat-api's settings
// (MAX_PROMPTS_PER_USER, MAX_PROMPT_CHARS, MAX_ASSISTANTS_PER_USER, MAX_SHARES_PER_USER); the
// bounds here only keep a body from being absurd before those are checked.

/** A saved prompt: `shared` ones were saved by an admin for everyone. */
export const prompt = z.object({
  id: recordId,
  title: z.string(),
  text: z.string(),
  shared: z.boolean(),
  /** Whether the caller may change or delete it (their own; an admin: every shared one). */
  editable: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Prompt = z.infer<typeof prompt>;

/** `GET /api/prompts`: the caller's own prompts and the shared ones, by title. */
export const promptList = z.object({ items: z.array(prompt) });
export type PromptList = z.infer<typeof promptList>;
export const promptResponse = z.object({ prompt });

export const promptTitle = z.string().trim().min(1).max(200);
/** `POST /api/prompts` (`shared`: admins only). */
export const promptBody = z
  .object({ title: promptTitle, text: z.string().min(1).max(1_000_000), shared: z.boolean().default(false) })
  .strict();
export type PromptBody = z.input<typeof promptBody>;
/** `PATCH /api/prompts/:id`. */
export const promptPatch = promptBody.pick({ title: true, text: true }).partial().strict();

/** An assistant's sampling parameters (Ollama options); `null` = the model's default. */
export const assistantParameters = z.object({
  temperature: z.number().min(0).max(2).nullable(),
  topP: z.number().min(0).max(1).nullable(),
  maxTokens: z.number().int().min(1).max(1_000_000).nullable(),
  seed: z.number().int().min(-2_147_483_648).max(2_147_483_647).nullable(),
});
export type AssistantParameters = z.infer<typeof assistantParameters>;

/** An assistant: a base model with a system prompt and parameters, picked like a model. */
export const assistant = z
  .object({
    id: recordId,
    name: z.string(),
    baseModel: z.string(),
    systemPrompt: z.string(),
    /** Shared by an admin: with everyone, or only with the groups in `groupIds` (auth's group ids). */
    shared: z.boolean(),
    groupIds: z.array(z.string()),
    editable: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .extend(assistantParameters.shape);
export type Assistant = z.infer<typeof assistant>;

/** `GET /api/assistants`: the caller's own and the shared ones open to them (their groups, models). */
export const assistantList = z.object({ items: z.array(assistant) });
export type AssistantList = z.infer<typeof assistantList>;
export const assistantResponse = z.object({ assistant });

/** `POST /api/assistants` (`shared`, `groupIds`: admins only). */
export const assistantBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    baseModel: z.string().trim().min(1).max(200),
    systemPrompt: z.string().max(1_000_000).default(''),
    shared: z.boolean().default(false),
    groupIds: z.array(z.string().min(1).max(200)).max(100).default([]),
    temperature: assistantParameters.shape.temperature.default(null),
    topP: assistantParameters.shape.topP.default(null),
    maxTokens: assistantParameters.shape.maxTokens.default(null),
    seed: assistantParameters.shape.seed.default(null),
  })
  .strict();
export type AssistantBody = z.input<typeof assistantBody>;
/** `PATCH /api/assistants/:id`: fields left out are kept. */
export const assistantPatch = assistantBody
  .omit({ shared: true })
  .extend({
    systemPrompt: z.string().max(1_000_000),
    groupIds: z.array(z.string().min(1).max(200)).max(100),
    temperature: assistantParameters.shape.temperature,
    topP: assistantParameters.shape.topP,
    maxTokens: assistantParameters.shape.maxTokens,
    seed: assistantParameters.shape.seed,
  })
  .partial()
  .strict();

/** One message of a shared snapshot. */
export const sharedMessage = z.object({
  role: messageRole,
  content: z.string(),
  model: z.string().nullable(),
  status: messageStatus,
  createdAt: timestamp,
});
export type SharedMessage = z.infer<typeof sharedMessage>;

/** A share as its owner lists it (`GET /api/shares`, `POST /api/shares`). */
export const share = z.object({
  id: recordId,
  /** The link's secret part: the web opens `/share/{token}`. */
  token: z.string(),
  conversationId: recordId,
  title: z.string(),
  messageCount: z.number().int().min(0),
  createdAt: timestamp,
});
export type Share = z.infer<typeof share>;
export const shareList = z.object({ items: z.array(share) });
export const shareResponse = z.object({ share });
/** `POST /api/shares`: a snapshot of the conversation's current branch. */
export const shareBody = z.object({ conversationId: recordId }).strict();

/** `GET /api/shares/view/:token` answers `{ share }`: what any signed-in user of this Corral sees. */
export const sharedConversation = z.object({
  title: z.string(),
  model: z.string(),
  /** The owner shared it (the reader sees it is theirs). */
  own: z.boolean(),
  messages: z.array(sharedMessage),
  createdAt: timestamp,
});
export type SharedConversation = z.infer<typeof sharedConversation>;
export const sharedConversationResponse = z.object({ share: sharedConversation });
