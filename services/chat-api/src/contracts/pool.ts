import { z } from 'zod';

/** `POST /api/admin/models/pull`: relayed to the gateway's `POST /admin/models/pull`. */
export const modelPullRequest = z.object({
  model: z.string().trim().min(1, 'name the model to pull').max(200),
  /** Allow a registry without TLS (Ollama's `insecure`). */
  insecure: z.boolean().optional(),
});
export type ModelPullRequest = z.infer<typeof modelPullRequest>;
