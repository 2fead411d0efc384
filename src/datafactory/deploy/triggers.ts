/**
 * Stopping and starting triggers. Remembers every trigger this run stopped so
 * it can restart them on any exit path; retries start/stop with backoff while
 * the service answers "cannot be updated during provisioning" (event triggers
 * subscribing/unsubscribing), 429 or 5xx; records how long each trigger was
 * stopped for the summary.
 *
 * A start or stop request is never abandoned half-way: one aborted while in flight may still
 * reach the service, after the restart that follows a cancel, and leave the trigger stopped.
 * So the task's signal only stops new attempts and backoff waits; each request runs to its
 * end under its own deadline, and a cancelled deploy restores triggers once they settle.
 */
import type { Logger } from '../../common/logger';
import { runPool } from '../../common/pool';
import { AbortError, isAbortError, sleep as realSleep } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
import type { FactoryClient } from '../factory-client';

export interface TriggerRetryPolicy {
  /** Deadline of one start/stop call (its HTTP retries and 202 polling included). Default 3 minutes. */
  operationTimeoutMs: number;
  /** First backoff delay. Default 2000 ms. */
  baseDelayMs: number;
  /** Largest delay. Default 20000 ms. */
  maxDelayMs: number;
  /** Give up after this long in total. Default 6 minutes (event-trigger provisioning can take minutes). */
  maxTotalMs: number;
}

export const DEFAULT_TRIGGER_RETRY: TriggerRetryPolicy = {
  operationTimeoutMs: 3 * 60_000,
  baseDelayMs: 2000,
  maxDelayMs: 20_000,
  maxTotalMs: 6 * 60_000,
};

export interface TriggerTiming {
  name: string;
  stopRequestedAt?: number;
  stoppedAt?: number;
  startRequestedAt?: number;
  startedAt?: number;
}

/** Whether a start/stop failure is worth retrying. */
export function isTransientTriggerError(err: unknown): boolean {
  if (isAbortError(err)) return false;
  if (isHttpError(err)) {
    if (
      err.kind === 'aborted' ||
      err.kind === 'unauthorized' ||
      err.kind === 'forbidden' ||
      err.kind === 'notFound'
    )
      return false;
    if (err.status !== undefined && (err.status >= 500 || err.status === 429 || err.status === 409))
      return true;
    if (
      err.kind === 'network' ||
      err.kind === 'timeout' ||
      err.kind === 'server' ||
      err.kind === 'rateLimited'
    )
      return true;
    return /during provisioning|provisioning state|is being provisioned/i.test(
      `${err.serviceMessage ?? ''} ${err.message}`,
    );
  }
  return false;
}

export interface TriggerManagerOptions {
  logger: Logger;
  retry?: Partial<TriggerRetryPolicy>;
  /** Parallel start/stop calls. Default 16. */
  concurrency?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface TriggerOpResult {
  name: string;
  ok: boolean;
  error?: unknown;
}

export class TriggerManager {
  /** Triggers this run stopped and has not started again (lower-case name → name). */
  private readonly stoppedByRun = new Map<string, string>();
  /** Deleted triggers: never restarted. */
  private readonly deleted = new Set<string>();
  readonly timings = new Map<string, TriggerTiming>();
  readonly started: string[] = [];
  readonly failedStarts: { name: string; message: string }[] = [];
  private readonly retry: TriggerRetryPolicy;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly client: FactoryClient,
    private readonly opts: TriggerManagerOptions,
  ) {
    this.retry = { ...DEFAULT_TRIGGER_RETRY, ...opts.retry };
    this.sleep = opts.sleep ?? realSleep;
    this.now = opts.now ?? Date.now;
  }

  private timing(name: string): TriggerTiming {
    const k = name.toLowerCase();
    let t = this.timings.get(k);
    if (!t) {
      t = { name };
      this.timings.set(k, t);
    }
    return t;
  }

  /**
   * Runs op with backoff on transient errors. op gets its own deadline, never `signal`: a
   * cancel lets the call in flight finish and only stops further attempts.
   */
  private async withRetry(
    what: string,
    op: (deadline: AbortSignal) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    const started = this.now();
    let delay = this.retry.baseDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortError();
      try {
        await op(AbortSignal.timeout(this.retry.operationTimeoutMs));
        return;
      } catch (err) {
        const elapsed = this.now() - started;
        if (signal?.aborted) throw err;
        if (!isTransientTriggerError(err) || elapsed + delay > this.retry.maxTotalMs) throw err;
        this.opts.logger.info(
          `  ${what}: ${describeError(err)} — retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1}).`,
        );
        await this.sleep(delay, signal);
        delay = Math.min(this.retry.maxDelayMs, delay * 2);
      }
    }
  }

  get stoppedNames(): string[] {
    return [...this.stoppedByRun.values()];
  }

  wasStoppedByRun(name: string): boolean {
    return this.stoppedByRun.has(name.toLowerCase());
  }

  async stop(name: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortError();
    const t = this.timing(name);
    t.stopRequestedAt ??= this.now();
    // Recorded before the call: a stop that times out may still have happened.
    this.stoppedByRun.set(name.toLowerCase(), name);
    await this.withRetry(
      `stop trigger ${name}`,
      (deadline) => this.client.stopTrigger(name, deadline),
      signal,
    );
    t.stoppedAt = this.now();
    this.opts.logger.info(`  stopped    trigger ${name}`);
  }

  async start(name: string, signal?: AbortSignal): Promise<void> {
    const t = this.timing(name);
    t.startRequestedAt = this.now();
    await this.withRetry(
      `start trigger ${name}`,
      (deadline) => this.client.startTrigger(name, deadline),
      signal,
    );
    t.startedAt = this.now();
    this.stoppedByRun.delete(name.toLowerCase());
    this.forgetFailedStart(name);
    if (!this.started.some((s) => s.toLowerCase() === name.toLowerCase())) this.started.push(name);
    this.opts.logger.info(`  started    trigger ${name}`);
  }

  /** A start that failed for good (after retries). */
  recordFailedStart(name: string, error: unknown): void {
    this.forgetFailedStart(name);
    this.failedStarts.push({ name, message: describeError(error) });
  }

  private forgetFailedStart(name: string): void {
    const i = this.failedStarts.findIndex((f) => f.name.toLowerCase() === name.toLowerCase());
    if (i >= 0) this.failedStarts.splice(i, 1);
  }

  /** A trigger this run deleted: it is not restarted. */
  markDeleted(name: string): void {
    this.deleted.add(name.toLowerCase());
    this.stoppedByRun.delete(name.toLowerCase());
  }

  /**
   * Stops triggers in parallel; failures are returned, not thrown. After a cancel no new stop
   * begins, and it returns once the stops already in flight have settled.
   */
  async stopMany(names: string[], signal?: AbortSignal): Promise<TriggerOpResult[]> {
    const results = await runPool(names, this.opts.concurrency ?? 16, (n) => this.stop(n, signal), {
      signal,
    });
    return results.map((r) =>
      r.ok ? { name: r.item, ok: true } : { name: r.item, ok: false, error: r.error },
    );
  }

  /** Starts triggers in parallel; failures are recorded and returned, not thrown. */
  async startMany(names: string[], signal?: AbortSignal): Promise<TriggerOpResult[]> {
    const results = await runPool(names, this.opts.concurrency ?? 16, (n) => this.start(n, signal), {
      signal,
    });
    const out: TriggerOpResult[] = [];
    for (const r of results) {
      if (r.ok) out.push({ name: r.item, ok: true });
      else {
        this.recordFailedStart(r.item, r.error);
        out.push({ name: r.item, ok: false, error: r.error });
      }
    }
    return out;
  }

  /**
   * Restarts every trigger this run stopped and did not delete or restart. Used
   * on every exit path, cancellation included, so it takes its own signal.
   */
  async restoreStopped(signal?: AbortSignal): Promise<TriggerOpResult[]> {
    const names = [...this.stoppedByRun.entries()].filter(([k]) => !this.deleted.has(k)).map(([, n]) => n);
    if (names.length === 0) return [];
    this.opts.logger.info(`Restarting ${names.length} trigger(s) this run stopped: ${names.join(', ')}`);
    return this.startMany(names, signal);
  }

  /** How long each trigger this run stopped stayed stopped (until restarted, or until now). */
  stoppedDurations(now = this.now()): { name: string; ms: number; restarted: boolean }[] {
    return [...this.timings.values()]
      .filter((t) => t.stopRequestedAt !== undefined)
      .map((t) => ({
        name: t.name,
        ms: (t.startedAt ?? now) - (t.stopRequestedAt as number),
        restarted: t.startedAt !== undefined && t.startedAt >= (t.stopRequestedAt as number),
      }));
  }
}
