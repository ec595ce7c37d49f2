import { defineCounter, defineGauge, defineHistogram, type HttpMetrics } from '@corral/service-kit';
import { ModelLabels } from './domain/model-labels.js';

export interface ChatMetrics {
  /** The `model` label of every series: a model the pool has, else `other` (bounded). */
  models: ModelLabels;
  tokens: ReturnType<typeof defineCounter<'direction' | 'model'>>;
  messages: ReturnType<typeof defineCounter<'status'>>;
  activeGenerations: ReturnType<typeof defineGauge<never>>;
  openStreams: ReturnType<typeof defineGauge<'api'>>;
  timeToFirstToken: ReturnType<typeof defineHistogram<'model' | 'api'>>;
  stopRequests: ReturnType<typeof defineCounter<'reached'>>;
  redisErrors: ReturnType<typeof defineCounter<'operation'>>;
  sweptMessages: ReturnType<typeof defineCounter<never>>;
  titles: ReturnType<typeof defineCounter<'outcome'>>;
  retentionDeleted: ReturnType<typeof defineCounter<never>>;
  pendingFinalSaves: ReturnType<typeof defineGauge<never>>;
  finalSaveRetries: ReturnType<typeof defineCounter<never>>;
}

export function createChatMetrics(registry: HttpMetrics['registry']): ChatMetrics {
  return {
    models: new ModelLabels(),
    tokens: defineCounter(registry, 'corral_chat_tokens_total', 'Tokens in (prompt) and out (completion).', [
      'direction',
      'model',
    ]),
    messages: defineCounter(
      registry,
      'corral_chat_messages_total',
      'Assistant replies by final status (complete, stopped, error, interrupted).',
      ['status'],
    ),
    activeGenerations: defineGauge(
      registry,
      'corral_chat_active_generations',
      'Replies being generated here.',
      [],
    ),
    openStreams: defineGauge(
      registry,
      'corral_chat_open_streams',
      'Server-Sent Event responses open here (api="ui": conversation replies, "v1": OpenAI streams).',
      ['api'],
    ),
    timeToFirstToken: defineHistogram(
      registry,
      'corral_chat_time_to_first_token_seconds',
      'From asking the gateway to the first token of the reply.',
      ['model', 'api'],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    ),
    stopRequests: defineCounter(
      registry,
      'corral_chat_stop_requests_total',
      'Replies asked to stop: reached="local" ran here, "remote" were published to the other replicas.',
      ['reached'],
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
    titles: defineCounter(
      registry,
      'corral_chat_titles_total',
      'Background title generation by outcome (generated, skipped, empty, failed).',
      ['outcome'],
    ),
    retentionDeleted: defineCounter(
      registry,
      'corral_chat_retention_deleted_conversations_total',
      'Conversations deleted by the CHAT_RETENTION_DAYS job.',
      [],
    ),
    pendingFinalSaves: defineGauge(
      registry,
      'corral_chat_pending_final_saves',
      'Finished replies whose final save failed (PostgreSQL away) and is being retried here.',
      [],
    ),
    finalSaveRetries: defineCounter(
      registry,
      'corral_chat_final_save_retries_total',
      'Retries of pending final reply saves.',
      [],
    ),
  };
}
