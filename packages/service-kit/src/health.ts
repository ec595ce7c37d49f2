/** A dependency the service needs to serve traffic: resolves when healthy, throws when not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

export interface CheckResult {
  status: 'up' | 'down';
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, CheckResult>;
}

interface RegisteredCheck {
  check: ReadinessCheck;
  timeoutMs: number;
}

/** The checks behind `/readyz`: run together, each with a timeout, all must pass. */
export class Readiness {
  private readonly checks = new Map<string, RegisteredCheck>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck, { timeoutMs = 2000 } = {}): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" registered twice`);
    this.checks.set(name, { check, timeoutMs });
  }

  /** From SIGTERM on, readiness fails so load balancers stop sending new requests. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async evaluate(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(
        async ([name, { check, timeoutMs }]) => [name, await runCheck(check, timeoutMs)] as const,
      ),
    );
    const checks = Object.fromEntries(entries);
    const allUp = entries.every(([, result]) => result.status === 'up');
    return { status: this.shuttingDown ? 'shutting_down' : allUp ? 'ready' : 'not_ready', checks };
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Reject before aborting: a check that settles on abort must not win the race.
      reject(new Error(`timed out after ${timeoutMs} ms`));
      controller.abort();
    }, timeoutMs);
  });
  try {
    await Promise.race([check(controller.signal), timeout]);
    return { status: 'up', durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      status: 'down',
      durationMs: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
