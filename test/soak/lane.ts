/**
 * A soak "lane": one full emulator (its own hosts, state and seeded fault PRNG) that runs
 * task executions one after another. Several lanes run side by side so the soak fits its
 * time budget while each execution still sees a fault pattern fixed by its own seed.
 *
 * The lane records every access token the emulator mints (Entra, Databricks OAuth, Azure
 * DevOps job and OIDC tokens) so scans can look for them in everything a task wrote.
 */
import { seededRandom, type FaultKind, type FaultRule } from '../emulator/core';
import { startEmulator, type FullEmulator, type StartOptions } from '../emulator/index';

export class Lane {
  /** Every token value the emulator minted since the lane started, oldest first. */
  readonly mintedTokens: string[] = [];

  private constructor(
    readonly id: number,
    readonly full: FullEmulator,
  ) {
    const tokens = full.emu.tokens;
    const issue = tokens.issue.bind(tokens);
    // Wraps the registry's issue() on this instance only: the emulator's code is unchanged.
    tokens.issue = (...args: Parameters<typeof issue>) => {
      const out = issue(...args);
      this.mintedTokens.push(out.token);
      return out;
    };
  }

  static async start(id: number, opts: StartOptions = {}): Promise<Lane> {
    return new Lane(id, await startEmulator({ seed: id + 1, ...opts }));
  }

  get emu(): FullEmulator['emu'] {
    return this.full.emu;
  }

  /** Fresh emulator state and a fault PRNG seeded for one execution. */
  reset(seed: number): void {
    this.emu.reset();
    this.emu.random = seededRandom(seed);
  }

  /**
   * Waits until every journaled request has been answered (or `maxMs` passed): a task killed
   * mid-request leaves the emulator finishing it, and its effect must be seen before checking.
   */
  async settle(maxMs = 5000): Promise<void> {
    const until = Date.now() + maxMs;
    while (this.emu.journal.some((e) => e.status === 0 && !e.fault) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  env(): Record<string, string> {
    return this.full.env();
  }

  async stop(): Promise<void> {
    await this.full.stop();
  }
}

/** The transient fault mix of the soak, spread evenly over `rate`. */
export interface FaultMix {
  kind: FaultKind;
  retryAfter?: FaultRule['retryAfter'];
  delayMs?: number;
  label: string;
}

/** Per-attempt HTTP timeout of the tasks is 60 s; "slow" stays well inside it (see SECURITY.md). */
export const SLOW_RESPONSE_MS = 2000;

export const TRANSIENT_FAULTS: FaultMix[] = [
  { kind: '429', retryAfter: 1, label: '429 Retry-After: 1' },
  { kind: '429', retryAfter: 'none', label: '429 without Retry-After' },
  { kind: '500', label: '500' },
  { kind: '503', retryAfter: 'none', label: '503' },
  { kind: 'resetBefore', label: 'reset before the server acted' },
  { kind: 'resetAfter', label: 'reset after the server acted' },
  { kind: 'slow', delayMs: SLOW_RESPONSE_MS, label: `slow (${SLOW_RESPONSE_MS} ms)` },
];

/** Adds the transient fault mix at `rate` (0..1) to every API matching `api` (default all). */
export function addTransientFaults(
  lane: Lane,
  rate: number,
  opts: { api?: RegExp; host?: string } = {},
): number[] {
  // Each rule draws once per request it matches, in order: p_i = rate / n keeps the total near `rate`.
  const p = rate / TRANSIENT_FAULTS.length;
  return TRANSIENT_FAULTS.map((f) =>
    lane.emu.addFault({
      kind: f.kind,
      retryAfter: f.retryAfter,
      delayMs: f.delayMs,
      api: opts.api,
      host: opts.host,
      probability: p,
    }),
  );
}

/** Runs `work` over `items` with at most `lanes.length` at a time, each on a free lane. */
export async function onLanes<T, R>(
  lanes: Lane[],
  items: T[],
  work: (item: T, lane: Lane, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i], lane, i);
      }
    }),
  );
  return results;
}

/** A stable 31-bit seed from parts (so a case keeps its seed when the table grows). */
export function seedOf(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  return h >>> 1 || 1;
}
