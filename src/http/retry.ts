/** Retry timing: jittered exponential backoff and Retry-After parsing. */

export const DEFAULT_MAX_RETRIES = 6;
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000;
/** A Retry-After longer than this is treated as this (a task should not hang on a bogus header). */
export const MAX_RETRY_AFTER_MS = 120_000;
/** Connection refused / unreachable are retried only briefly: usually the URL or port is wrong. */
export const MAX_CONNECT_RETRIES = 2;

/**
 * "Full jitter" backoff: a uniform random delay in [0, min(max, base * 2^(retry-1))].
 * `retry` counts from 1. Spreads a pool of workers out instead of retrying in lockstep.
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(Math.min(1, Math.max(0, random())) * ceiling);
}

/**
 * Parses Retry-After (delta seconds or an HTTP date) into milliseconds from
 * `now`, capped at MAX_RETRY_AFTER_MS. Undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) {
    ms = Math.round(Number(v) * 1000);
  } else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** "1.2 s", "250 ms" for progress lines. */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
}

/** "retrying GET /api/2.0/workspace/list in 1.2 s after 503 (attempt 2)" for the onRetry log line. */
export function describeRetry(info: {
  attempt: number;
  delayMs: number;
  reason: string;
  method: string;
  path: string;
}): string {
  return `retrying ${info.method} ${info.path} in ${formatDelay(info.delayMs)} after ${info.reason} (attempt ${info.attempt})`;
}
