/** A dependency the service needs to serve traffic: resolves when healthy, throws when not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

export interface CheckResult {
  status: 'up' | 'down';
  /** A non-critical check that is down degrades the service but keeps it in rotation. */
  critical: boolean;
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'degraded' | 'not_ready' | 'shutting_down';
  checks: Record<string, CheckResult>;
}

interface RegisteredCheck {
  check: ReadinessCheck;
  timeoutMs: number;
  critical: boolean;
}

export interface CheckOptions {
  timeoutMs?: number;
  /**
   * false: the service still serves traffic without this dependency (e.g. Redis with a local
   * fallback), so its failure is reported as `degraded` with 200 instead of taking the pod out of
   * rotation — which, when every replica shares the dependency, would be a full outage.
   */
  critical?: boolean;
}

/** The checks behind `/readyz`: run together, each with a timeout, all must pass. */
export class Readiness {
  private readonly checks = new Map<string, RegisteredCheck>();
  private shuttingDown = false;

  register(
    name: string,
    check: ReadinessCheck,
    { timeoutMs = 2000, critical = true }: CheckOptions = {},
  ): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" registered twice`);
    this.checks.set(name, { check, timeoutMs, critical });
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
      [...this.checks].map(async ([name, { check, timeoutMs, critical }]): Promise<[string, CheckResult]> => [
        name,
        { ...(await runCheck(check, timeoutMs)), critical },
      ]),
    );
    const down = entries.filter(([, result]) => result.status === 'down');
    const status = this.shuttingDown
      ? 'shutting_down'
      : down.some(([, result]) => result.critical)
        ? 'not_ready'
        : down.length > 0
          ? 'degraded'
          : 'ready';
    return { status, checks: Object.fromEntries(entries) };
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<Omit<CheckResult, 'critical'>> {
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
