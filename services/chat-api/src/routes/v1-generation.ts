import { byteSize } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import type { Admission, Caller } from '../domain/admission.js';
import { fetchImage, imageFromDataUrl, type ImageLimits } from '../domain/images.js';
import type { ImageLoader } from './openai-chat-request.js';
import { apiKeyIdOf } from './principal.js';

/** How the /v1 routes read an image part: a data: URL decoded, an http(s) URL fetched, both under IMAGE_*. */
export function imageLoader(ctx: ChatContext, signal: AbortSignal): ImageLoader {
  const limits: ImageLimits = {
    maxBytes: byteSize(ctx.config.IMAGE_MAX_BYTES),
    timeoutMs: ctx.config.IMAGE_FETCH_TIMEOUT_MS,
    maxRedirects: ctx.config.IMAGE_FETCH_MAX_REDIRECTS,
  };
  return (url, param) =>
    url.startsWith('data:')
      ? Promise.resolve(imageFromDataUrl(url, param, limits))
      : fetchImage(url, param, limits, signal);
}

/**
 * The end of every /v1 generation, however it ended: the stream slot back, the tokens counted (under
 * a bounded model label), the usage recorded, and the budget reservation settled to it.
 */
export function finishGeneration(
  ctx: ChatContext,
  caller: Caller,
  admission: Admission,
  model: string,
  tokens: { promptTokens: number; completionTokens: number },
): void {
  admission.slot.release();
  const label = ctx.metrics.models.label(model);
  ctx.metrics.tokens.inc({ direction: 'in', model: label }, tokens.promptTokens);
  ctx.metrics.tokens.inc({ direction: 'out', model: label }, tokens.completionTokens);
  ctx.usage.record({ userId: caller.userId, apiKeyId: apiKeyIdOf(caller), model, ...tokens });
  admission.settle();
}
