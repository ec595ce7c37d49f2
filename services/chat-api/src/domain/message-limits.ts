import type { Logger } from '@corral/service-kit';
import { AppError } from '@corral/service-kit';
import type { GatewayClient } from './gateway.js';

/** Characters a token stands for, on average, in the text people paste (English prose and code). */
export const CHARS_PER_TOKEN = 4;
/** How long a model's context length is reused before /api/show is asked again. */
const CACHE_MS = 5 * 60_000;

export interface MessageLimit {
  /** The longest message accepted, in characters. */
  maxChars: number;
  /** The model's context in tokens when it (not MAX_MESSAGE_CHARS) sets the limit. */
  contextTokens: number | null;
}

/**
 * The longest message a person may write to a model: what fits its context (from the model's
 * details, /api/show, at CHARS_PER_TOKEN), never more than the ceiling MAX_MESSAGE_CHARS. A model
 * whose details cannot be read gets the ceiling.
 */
export class MessageLimits {
  private readonly cache = new Map<string, { limit: MessageLimit; at: number }>();

  constructor(
    private readonly gateway: Pick<GatewayClient, 'contextLength'>,
    private readonly ceiling: number,
    private readonly logger: Logger,
  ) {}

  async forModel(model: string): Promise<MessageLimit> {
    const cached = this.cache.get(model);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.limit;
    let contextTokens: number | null = null;
    try {
      contextTokens = await this.gateway.contextLength(model);
    } catch (error) {
      this.logger.debug('model details unavailable; the message limit is MAX_MESSAGE_CHARS', {
        model,
        error,
      });
    }
    const fromContext = contextTokens === null ? Infinity : contextTokens * CHARS_PER_TOKEN;
    const limit =
      fromContext < this.ceiling
        ? { maxChars: fromContext, contextTokens }
        : { maxChars: this.ceiling, contextTokens: null };
    this.cache.set(model, { limit, at: Date.now() });
    return limit;
  }

  /** 400 naming both numbers (and the model's context when that is what limits it). */
  async assertFits(model: string, length: number): Promise<void> {
    const limit = await this.forModel(model);
    if (length <= limit.maxChars) return;
    const why =
      limit.contextTokens === null
        ? 'MAX_MESSAGE_CHARS'
        : `what fits ${model}'s context of ${limit.contextTokens} tokens`;
    const message = `content: ${length} characters; at most ${limit.maxChars} are accepted (${why})`;
    throw new AppError('validation_failed', message, {
      extensions: { errors: [{ path: 'content', message }], maxMessageChars: limit.maxChars, length },
    });
  }
}
