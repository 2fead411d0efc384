/**
 * Host-wide rate-limit gate. When a request to an origin is told to back off
 * (429/503 with Retry-After), every new or retried request to that origin waits
 * until then, so a parallel pool slows down as a whole instead of each worker
 * hammering the service on its own schedule.
 */
export class RateLimitGate {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Blocks `origin` until `untilMs` (epoch ms); never shortens an existing block. */
  block(origin: string, untilMs: number): void {
    if (untilMs > (this.until.get(origin) ?? 0)) this.until.set(origin, untilMs);
  }

  /** Epoch ms the origin is blocked until, or 0 when it is open. */
  blockedUntil(origin: string): number {
    const t = this.until.get(origin);
    if (t === undefined) return 0;
    if (t <= this.now()) {
      this.until.delete(origin);
      return 0;
    }
    return t;
  }

  /**
   * Waits while the origin is blocked. `alreadyWaitedUntil` is a block the
   * caller has already slept through (its own Retry-After), so it is not
   * waited twice. Loops only when another response extended the block.
   * Returns the latest block waited for.
   */
  async wait(
    origin: string,
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
    signal?: AbortSignal,
    alreadyWaitedUntil = 0,
  ): Promise<number> {
    let waited = alreadyWaitedUntil;
    for (;;) {
      const t = this.blockedUntil(origin);
      if (t === 0 || t <= waited) return waited;
      waited = t;
      await sleep(t - this.now(), signal);
    }
  }
}
