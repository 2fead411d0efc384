import { AbortError } from './sleep';

export type PoolResult<T, R> =
  | { item: T; index: number; ok: true; value: R }
  /** `skipped` is true when the item never started (stopOnError or abort). */
  | { item: T; index: number; ok: false; error: unknown; skipped?: boolean };

export interface PoolOptions {
  /** Stops starting new items once aborted; running workers should watch the same signal. */
  signal?: AbortSignal;
  /** Stop starting new items after the first failure (default false: one failure does not stop the others). */
  stopOnError?: boolean;
}

/**
 * Runs `worker` over `items` with at most `concurrency` in flight. Never
 * rejects: every item gets a result, in input order.
 */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<R>,
  opts: PoolOptions = {},
): Promise<PoolResult<T, R>[]> {
  const results: PoolResult<T, R>[] = new Array(items.length);
  const limit = Math.max(
    1,
    Math.min(Number.isFinite(concurrency) ? Math.floor(concurrency) : items.length, items.length),
  );
  let next = 0;
  let stopReason: unknown;

  const runLane = async (): Promise<void> => {
    while (next < items.length) {
      if (stopReason === undefined && opts.signal?.aborted) stopReason = new AbortError();
      if (stopReason !== undefined) return;
      const index = next++;
      const item = items[index];
      try {
        const value = await worker(item, index);
        results[index] = { item, index, ok: true, value };
      } catch (error) {
        results[index] = { item, index, ok: false, error };
        if (opts.stopOnError && stopReason === undefined) stopReason = error;
      }
    }
  };

  await Promise.all(Array.from({ length: items.length === 0 ? 0 : limit }, runLane));

  for (let i = 0; i < items.length; i++) {
    if (!results[i]) {
      const error =
        stopReason instanceof AbortError ? stopReason : new Error('skipped after an earlier failure');
      results[i] = { item: items[i], index: i, ok: false, error, skipped: true };
    }
  }
  return results;
}

/** The failed results, for summaries ("3 of 120 notebooks failed"). */
export function failures<T, R>(
  results: readonly PoolResult<T, R>[],
): Extract<PoolResult<T, R>, { ok: false }>[] {
  return results.filter((r): r is Extract<PoolResult<T, R>, { ok: false }> => !r.ok);
}
