import { z } from 'zod';

export const modelKind = z.enum(['chat', 'embedding']);
export type ModelKind = z.infer<typeof modelKind>;

/** One model of the gateway's pool the caller may use. */
export const modelEntry = z.object({
  /** Ollama's name, tagged (`llama3.2:latest`). */
  name: z.string(),
  kind: modelKind,
  size: z.number().nullable(),
  /** As Ollama wrote it (RFC 3339, any precision). */
  modifiedAt: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  /** As Ollama's /api/show reports them (`completion`, `tools`, `vision`, `thinking`, `embedding`); [] when unknown. */
  capabilities: z.array(z.string()),
  /** The longest message accepted for this model, in characters (MAX_MESSAGE_CHARS, the ceiling). */
  maxMessageChars: z.number().int().positive(),
});
export type ModelEntry = z.infer<typeof modelEntry>;

/** `GET /api/models`: the caller's models and the deployment's default for a new chat. */
export const modelListing = z.object({ defaultModel: z.string(), items: z.array(modelEntry) });
export type ModelListing = z.infer<typeof modelListing>;
