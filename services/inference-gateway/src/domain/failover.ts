import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '@corral/service-kit';
import type { RequestOutcome } from '../metrics.js';
import type { Backend } from './backend.js';
import type { HealthMonitor } from './health.js';
import type { Lease, Router, RoutingError } from './router.js';
import { describeFailure } from './upstream.js';

/** A backend's own error answer (5xx), read whole (bounded) so it can be passed on. */
export interface ErrorResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A failure before the backend sent anything usable: the request may go to another backend. */
export interface EarlyFailure {
  kind: 'connect' | 'timeout' | 'server_error' | 'busy';
  reason: string;
  /** The backend's own answer (5xx, 503), passed on if no retry is left. */
  response?: ErrorResponse;
}

/** A request the backend never answered: a timeout while waiting for headers, else a connection failure. */
export function classifyError(error: unknown): EarlyFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const kind = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'timeout' : 'connect';
  return { kind, reason: describeFailure(error) };
}

/** What the client is told when no backend answered and none is left to try. */
export function failureToApp(failure: EarlyFailure): AppError {
  if (failure.kind === 'timeout') {
    return new AppError('upstream_timeout', `backend did not answer in time: ${failure.reason}`);
  }
  return new AppError('bad_gateway', `backend failed: ${failure.reason}`);
}

/**
 * Why no backend could be given, as the client is told it: an unknown model (Ollama's wording,
 * with the name as the client gave it and the models there are), or busy/unavailable with Retry-After.
 */
export function routingErrorToApp(
  error: RoutingError,
  retryAfter: number,
  availableModels: () => string[],
  requested: string | undefined,
): AppError {
  switch (error.reason) {
    case 'model_not_found':
      return new AppError('model_not_found', `model "${requested}" not found, try pulling it first`, {
        extensions: { availableModels: availableModels() },
      });
    case 'queue_full':
    case 'queue_timeout':
      return new AppError('overloaded', `${error.message}; retry in ${retryAfter}s`, {
        headers: { 'Retry-After': String(retryAfter) },
        extensions: { retryAfter },
      });
    case 'no_backend':
    default:
      return new AppError('service_unavailable', error.message, {
        headers: { 'Retry-After': String(retryAfter) },
        extensions: { retryAfter },
      });
  }
}

/** The outcome label of a request that ended with an error answer. */
export function outcomeOf(error: AppError): RequestOutcome {
  if (error.code === 'model_not_found') return 'model_not_found';
  if (error.code === 'overloaded') return 'overloaded';
  if (error.code === 'service_unavailable') return 'unavailable';
  if (error.status < 500) return 'client_error';
  return 'upstream_error';
}

export interface FailoverOptions {
  /** Takes one of the backend's parallel slots (generations, embeddings). */
  limited: boolean;
  signal: AbortSignal;
  /** The conversation key (cache-aware routing keeps a conversation on one backend). */
  affinityKey?: string;
  /** Size of the request body (cache-aware estimates the prompt's tokens from it). */
  promptBytes?: number;
  /** A second attempt is being made (counted in corral_gateway_retries_total). */
  onRetry?: () => void;
}

/**
 * The failover policy of one request: a failure before the first byte (no connection, no answer
 * in time, a 5xx) counts against the backend's health and sends the request to one other backend
 * that holds the model; a 503 "busy" only holds the backend back, and a lone busy backend may be
 * waited for again. After the second attempt, the client gets the failure.
 */
export class Failover {
  private readonly tried = new Set<Backend>();

  constructor(
    private readonly router: Pick<Router, 'acquire' | 'candidates' | 'markBusy'>,
    private readonly health: Pick<HealthMonitor, 'reportFailure'>,
    private readonly model: string,
    private readonly options: FailoverOptions,
  ) {}

  /** A slot on a backend for this attempt: any eligible one first, then one not tried yet. */
  async acquire(attempt: number): Promise<Lease> {
    const { limited, signal, affinityKey, promptBytes } = this.options;
    const lease =
      attempt === 0
        ? await this.router.acquire(this.model, { signal, limited, affinityKey, promptBytes })
        : await this.router.acquire(this.model, {
            signal,
            limited,
            affinityKey,
            promptBytes,
            exclude: this.tried,
          });
    this.tried.add(lease.backend);
    return lease;
  }

  /** The backend could not be reached or did not answer in time. */
  connectFailed(backend: Backend, error: unknown): EarlyFailure {
    const failure = classifyError(error);
    this.health.reportFailure(backend, failure.reason);
    return failure;
  }

  /** The backend answered 5xx before anything reached the client. */
  answeredError(backend: Backend, response: ErrorResponse): EarlyFailure {
    if (response.statusCode === 503) {
      // Ollama's own queue is full: the backend is alive, only busy.
      this.router.markBusy(backend);
      return { kind: 'busy', reason: 'backend busy (503)', response };
    }
    const reason = `answered ${response.statusCode}: ${response.body.toString('utf8').slice(0, 200)}`;
    this.health.reportFailure(backend, reason);
    return { kind: 'server_error', reason, response };
  }

  /** Whether to make another attempt after `failure` on attempt number `attempt` (from 0). */
  shouldRetry(attempt: number, failure: EarlyFailure): boolean {
    if (attempt > 0) return false;
    let others: Backend[];
    try {
      others = this.router.candidates(this.model, this.tried);
    } catch {
      others = [];
    }
    if (others.length === 0) {
      if (failure.kind !== 'busy') return false;
      this.tried.clear();
    }
    this.options.onRetry?.();
    return true;
  }
}
