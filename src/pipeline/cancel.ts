/**
 * Cancellation: the agent stops a task with SIGINT (then SIGTERM, then kills
 * it). The first signal aborts the shared AbortSignal so core code can cancel
 * remote runs and stop polling; a second one exits at once.
 */

export class CancelledError extends Error {
  constructor(readonly signalName: string) {
    super(`The task was cancelled (${signalName}).`);
    this.name = 'AbortError';
  }
}

export interface Cancellation {
  readonly signal: AbortSignal;
  /** Aborts as if a signal arrived (tests, timeouts). */
  cancel(reason?: string): void;
  /** Removes the signal handlers. */
  dispose(): void;
}

export interface CancellationOptions {
  signals?: NodeJS.Signals[];
  onCancel?: (signalName: string) => void;
  /** Called on the second signal; default exits with 130. */
  onForce?: (signalName: string) => void;
  /** Process to listen on (tests pass an EventEmitter-like). */
  target?: Pick<NodeJS.Process, 'on' | 'removeListener'>;
}

export function createCancellation(opts: CancellationOptions = {}): Cancellation {
  const controller = new AbortController();
  const target = opts.target ?? process;
  const signals = opts.signals ?? ['SIGINT', 'SIGTERM'];
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      (opts.onForce ?? (() => process.exit(130)))(sig);
      return;
    }
    opts.onCancel?.(sig);
    controller.abort(new CancelledError(sig));
  };
  for (const s of signals) target.on(s, handler);
  return {
    signal: controller.signal,
    cancel(reason = 'cancel') {
      if (!controller.signal.aborted) controller.abort(new CancelledError(reason));
    },
    dispose() {
      for (const s of signals) target.removeListener(s, handler);
    },
  };
}
