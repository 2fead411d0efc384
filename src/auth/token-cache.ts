/**
 * A token cache that refreshes before expiry, so long jobs (two-hour notebook
 * runs, pipeline-run gates) keep working with one-hour tokens, and concurrent
 * callers share one token request.
 */
import { registerSecret } from '../common/secrets';
import type { TokenProvider } from './types';

export interface AccessTokenInfo {
  token: string;
  /** Epoch milliseconds. */
  expiresOnTimestamp: number;
  /** Epoch milliseconds after which the issuer suggests refreshing (Entra refresh_in). */
  refreshAfterTimestamp?: number;
}

export interface TokenCacheOptions {
  /** Refresh when at most this much lifetime is left (default 5 minutes)... */
  maxMarginMs?: number;
  /** ...or this fraction of the lifetime, whichever is smaller (default 0.1), so short test tokens are still cached. */
  marginFraction?: number;
  now?: () => number;
  /** Called when a refresh failed but the cached token is still valid and was used instead. */
  onRefreshError?: (err: unknown) => void;
  /**
   * Whether fetching again after a rejection can bring a different token (default true).
   * False where the issuer caches tokens itself (a managed identity endpoint).
   */
  canForceRefresh?: boolean;
  /** Called when invalidate() dropped the token, e.g. to bypass a client-side cache on the next fetch. */
  onInvalidate?: () => void;
}

interface Cached extends AccessTokenInfo {
  refreshAt: number;
}

// Below this much remaining lifetime a cached token is not handed out even if a refresh failed.
const HARD_EXPIRY_MARGIN_MS = 10_000;

export class RefreshingTokenCache implements TokenProvider {
  private current?: Cached;
  private inflight?: Promise<Cached>;
  private readonly now: () => number;
  private readonly maxMarginMs: number;
  private readonly marginFraction: number;
  /** How many tokens were fetched (tests, diagnostics). */
  fetches = 0;

  constructor(
    private readonly fetchToken: (signal?: AbortSignal) => Promise<AccessTokenInfo>,
    private readonly opts: TokenCacheOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxMarginMs = opts.maxMarginMs ?? 5 * 60_000;
    this.marginFraction = opts.marginFraction ?? 0.1;
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    return (await this.getTokenInfo(signal)).token;
  }

  async getTokenInfo(signal?: AbortSignal): Promise<AccessTokenInfo> {
    const cur = this.current;
    const now = this.now();
    if (cur && now < cur.refreshAt) return cur;
    try {
      return await this.refresh(signal);
    } catch (err) {
      // A transient failure while refreshing early should not fail a job whose token is still good.
      if (cur && now < cur.expiresOnTimestamp - HARD_EXPIRY_MARGIN_MS && !signal?.aborted) {
        this.opts.onRefreshError?.(err);
        return cur;
      }
      throw err;
    }
  }

  /**
   * Drops the cached token (e.g. after a 401) so the next call fetches a new one. With
   * `token`, only when that is still the cached one: concurrent requests rejected with
   * the same stale token then cause one refresh, not one each. Returns whether a fetch
   * can bring a different token (see canForceRefresh).
   */
  invalidate(token?: string): boolean {
    const canRefresh = this.opts.canForceRefresh !== false;
    if (token !== undefined && this.current && this.current.token !== token) return canRefresh;
    if (this.current) {
      this.current = undefined;
      this.opts.onInvalidate?.();
    }
    return canRefresh;
  }

  private refresh(signal?: AbortSignal): Promise<Cached> {
    if (!this.inflight) {
      const started = this.now();
      this.inflight = this.fetchToken(signal)
        .then((info) => {
          registerSecret(info.token);
          this.fetches++;
          const cached = { ...info, refreshAt: this.refreshTime(info, started) };
          this.current = cached;
          return cached;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  private refreshTime(info: AccessTokenInfo, obtainedAt: number): number {
    const now = this.now();
    const lifetime = Math.max(0, info.expiresOnTimestamp - obtainedAt);
    const margin = Math.min(this.maxMarginMs, lifetime * this.marginFraction);
    let at = info.expiresOnTimestamp - margin;
    if (info.refreshAfterTimestamp && info.refreshAfterTimestamp < at) at = info.refreshAfterTimestamp;
    // A token that was already due (an upstream cache handed back an old one) is kept a little
    // while so callers do not hammer the issuer, but never past its expiry.
    const remaining = info.expiresOnTimestamp - now;
    const floor = now + Math.min(30_000, remaining / 2);
    return Math.max(at, floor);
  }
}
