/**
 * Poll intervals for a running job. The interval never exceeds
 * max(minMs, fraction × elapsed), capped at maxMs, so once the run ends the next
 * poll comes at most max(1 s, 5% of the run's duration) later: with the request's own
 * latency that keeps the overhead under 2 s + 5% of the duration.
 */
export interface PollScheduleOptions {
  /** First and smallest interval. Default 1000 ms. */
  minMs?: number;
  /** Largest interval. Default 30000 ms. */
  maxMs?: number;
  /** Share of the elapsed time an interval may take. Default 0.05. */
  fraction?: number;
}

export const DEFAULT_POLL: Required<PollScheduleOptions> = { minMs: 1000, maxMs: 30000, fraction: 0.05 };

/** Delay before the next poll, given the time since the run was submitted. */
export function pollDelayMs(elapsedMs: number, opts: PollScheduleOptions = {}): number {
  const { minMs, maxMs, fraction } = { ...DEFAULT_POLL, ...opts };
  const proportional = Math.floor(Math.max(0, elapsedMs) * fraction);
  return Math.min(maxMs, Math.max(minMs, proportional));
}

/**
 * The same schedule, also bounded by a deadline so a timeout is noticed on time.
 * Returns 0 when the deadline has passed.
 */
export function pollDelayUntil(
  elapsedMs: number,
  remainingMs: number,
  opts: PollScheduleOptions = {},
): number {
  return Math.max(0, Math.min(pollDelayMs(elapsedMs, opts), remainingMs));
}

/**
 * Heartbeat lines while nothing changes: every minute for the first ten minutes,
 * then every five, so hour-long runs stay readable.
 */
export function heartbeatDue(elapsedMs: number, lastLineAtMs: number): boolean {
  const every = elapsedMs < 10 * 60_000 ? 60_000 : 5 * 60_000;
  return elapsedMs - lastLineAtMs >= every;
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}
