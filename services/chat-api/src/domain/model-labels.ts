import type { Logger } from '@corral/service-kit';
import { normalizeModelName as normalizeModel } from '@corral/contracts';

/** The label of every model the pool does not have: user input never becomes a label value. */
export const OTHER_MODEL = 'other';

/**
 * Metric labels for models from a bounded set: a model the gateway's pool has (as the request named
 * it, `llama3.2` or `llama3.2:latest`), else `other`. The pool's list is read at start and then every
 * `refreshMs`; a model added meanwhile is `other` until the next read.
 */
export class ModelLabels {
  private known = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  /** `model` if the pool has it, else `other`. */
  readonly label = (model: string): string => (this.known.has(normalizeModel(model)) ? model : OTHER_MODEL);

  /** Starts following the pool's models; the first read is awaited (a failure is logged, not thrown). */
  async follow(list: () => Promise<Array<{ name: string }>>, logger: Logger, refreshMs = 30_000) {
    const refresh = async () => {
      try {
        this.known = new Set((await list()).map((model) => normalizeModel(model.name)));
      } catch (error) {
        logger.warn('could not read the pool models for metric labels', { error });
      }
    };
    await refresh();
    this.timer = setInterval(() => void refresh(), refreshMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
