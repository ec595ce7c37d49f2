import { defineCounter, defineGauge, type HttpMetrics } from '@corral/service-kit';

export interface ChatMetrics {
  tokens: ReturnType<typeof defineCounter<'direction' | 'model'>>;
  messages: ReturnType<typeof defineCounter<'status'>>;
  activeGenerations: ReturnType<typeof defineGauge<never>>;
  redisErrors: ReturnType<typeof defineCounter<'operation'>>;
  sweptMessages: ReturnType<typeof defineCounter<never>>;
}

export function createChatMetrics(registry: HttpMetrics['registry']): ChatMetrics {
  return {
    tokens: defineCounter(registry, 'corral_chat_tokens_total', 'Tokens in (prompt) and out (completion).', [
      'direction',
      'model',
    ]),
    messages: defineCounter(registry, 'corral_chat_messages_total', 'Assistant replies by final status.', [
      'status',
    ]),
    activeGenerations: defineGauge(
      registry,
      'corral_chat_active_generations',
      'Replies being generated here.',
      [],
    ),
    redisErrors: defineCounter(
      registry,
      'corral_chat_redis_errors_total',
      'Redis calls that failed; limits fell back to this process.',
      ['operation'],
    ),
    sweptMessages: defineCounter(
      registry,
      'corral_chat_interrupted_messages_total',
      'Streaming replies left by a dead process and marked interrupted.',
      [],
    ),
  };
}
