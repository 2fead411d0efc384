/** Time source for long waits, injectable so tests need not wait in real time. */
import { sleep } from '../../common/sleep';

export interface Clock {
  now(): number;
  /** Rejects with an AbortError when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = { now: () => Date.now(), sleep };
