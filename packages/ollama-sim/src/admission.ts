/** One request's place in admission: running, or waiting for a slot. */
export interface Ticket {
  state: 'running' | 'queued' | 'released';
  /** Called when a queued ticket gets a slot. */
  onGrant?: () => void;
}

/**
 * Parallel limit plus a bounded wait queue, like OLLAMA_NUM_PARALLEL and OLLAMA_MAX_QUEUE.
 * Callbacks, not promises: at a thousand streams the extra microtasks show up.
 */
export class Admission {
  private active = 0;
  // A Set keeps insertion order, so it is a FIFO with O(1) removal of a cancelled waiter.
  private readonly waiting = new Set<Ticket>();

  constructor(
    private maxParallel: number,
    private maxQueue: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** Whether a request entering now would run at once. */
  canRunNow(): boolean {
    return this.hasFreeSlot();
  }

  /** A ticket that is running or queued, or null when the queue is full (answer 503). */
  tryEnter(): Ticket | null {
    if (this.hasFreeSlot()) {
      this.active++;
      return { state: 'running' };
    }
    if (this.waiting.size >= this.maxQueue) return null;
    const ticket: Ticket = { state: 'queued' };
    this.waiting.add(ticket);
    return ticket;
  }

  /** Frees a running slot or leaves the queue; safe to call twice. */
  release(ticket: Ticket): void {
    if (ticket.state === 'running') {
      this.active--;
      ticket.state = 'released';
      this.grantWaiting();
    } else if (ticket.state === 'queued') {
      this.waiting.delete(ticket);
      ticket.state = 'released';
    }
  }

  setLimits(maxParallel: number, maxQueue: number): void {
    this.maxParallel = maxParallel;
    this.maxQueue = maxQueue;
    this.grantWaiting();
  }

  private hasFreeSlot(): boolean {
    return this.maxParallel <= 0 || this.active < this.maxParallel;
  }

  private grantWaiting(): void {
    while (this.waiting.size > 0 && this.hasFreeSlot()) {
      const next = this.waiting.values().next().value as Ticket;
      this.waiting.delete(next);
      this.active++;
      next.state = 'running';
      next.onGrant?.();
    }
  }
}
