/**
 * Events per second over a sliding window, kept as one bucket per second so memory stays constant
 * however many events arrive.
 */
export class RateWindow {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    const size = Math.max(1, Math.ceil(windowMs / 1000));
    this.buckets = new Float64Array(size);
    this.stamps = new Float64Array(size).fill(-1);
  }

  add(count: number): void {
    if (count <= 0) return;
    const second = Math.floor(this.now() / 1000);
    const slot = second % this.buckets.length;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.buckets[slot] = 0;
    }
    this.buckets[slot] = (this.buckets[slot] ?? 0) + count;
  }

  /** Average rate per second over the window. */
  perSecond(): number {
    const second = Math.floor(this.now() / 1000);
    const oldest = second - this.buckets.length + 1;
    let total = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      const stamp = this.stamps[i] ?? -1;
      if (stamp >= oldest && stamp <= second) total += this.buckets[i] ?? 0;
    }
    return total / (this.windowMs / 1000);
  }
}
