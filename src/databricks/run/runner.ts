/**
 * Runs notebooks as one Databricks one-time run and waits for it: makes sure an
 * existing cluster is up, submits with an idempotency token, polls with adaptive
 * intervals, cancels the run at the timeout or when the pipeline is cancelled,
 * and collects each task run's output.
 */
import type { Logger } from '../../common/logger';
import { runPool } from '../../common/pool';
import { isAbortError } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
import type { ClustersClient } from '../clusters-client';
import { isTerminal, type JobsClient, type Run, type RunOutput, type RunTask } from '../jobs-client';
import { realClock, type Clock } from './clock';
import { formatDuration, heartbeatDue, pollDelayUntil, type PollScheduleOptions } from './poll-schedule';
import type { SubmitRunRequest } from './submit-spec';

export interface NotebookRunOutcome {
  taskKey: string;
  notebookPath: string;
  taskRunId?: number;
  runPageUrl?: string;
  lifeCycleState?: string;
  resultState?: string;
  stateMessage?: string;
  startTime?: number;
  durationMs?: number;
  /** Exit value (notebook_output.result) when the notebook called dbutils.notebook.exit. */
  result?: string;
  truncated?: boolean;
  error?: string;
  errorTrace?: string;
  /** Why the output could not be read, if it could not. */
  outputError?: string;
}

export interface RunOutcome {
  runId?: number;
  runPageUrl?: string;
  lifeCycleState?: string;
  resultState?: string;
  stateMessage?: string;
  durationMs?: number;
  /** The task's timeout was reached and the run was cancelled. */
  timedOut: boolean;
  /** The pipeline was cancelled and the run with it. */
  cancelled: boolean;
  /** Databricks confirmed the run terminated after a cancel. */
  cancelConfirmed?: boolean;
  notebooks: NotebookRunOutcome[];
}

/** The parts of the clients the runner uses (tests substitute fakes). */
export type JobsApi = Pick<JobsClient, 'submitRun' | 'getRun' | 'getRunOutput' | 'cancelRun' | 'listRuns'>;
export type ClustersApi = Pick<ClustersClient, 'ensureRunning'>;

export interface RunNotebooksOptions {
  jobs: JobsApi;
  clusters?: ClustersApi;
  request: SubmitRunRequest;
  /** For cluster "existing": started and waited for before submitting. */
  existingClusterId?: string;
  timeoutMs: number;
  logger: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  poll?: PollScheduleOptions;
  /** After a timeout, how long to wait for Databricks to confirm the cancel (default 60 s). */
  cancelWaitMs?: number;
  /** After a pipeline cancel, how long to wait (default 5 s: the agent kills the task soon). */
  abortCancelWaitMs?: number;
  /** Called once the run exists, with what the pipeline should show at once. */
  onSubmitted?: (info: { runId: number; runPageUrl?: string }) => void;
  /** get-output calls in flight (default 8). */
  outputConcurrency?: number;
  /** Consecutive failed polls tolerated before giving up (default 5). */
  maxPollFailures?: number;
}

export class RunTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunTimeoutError';
  }
}

export async function runNotebooks(opts: RunNotebooksOptions): Promise<RunOutcome> {
  const clock = opts.clock ?? realClock;
  const log = opts.logger;
  const started = clock.now();
  const deadline = started + opts.timeoutMs;
  const outcome: RunOutcome = {
    timedOut: false,
    cancelled: false,
    notebooks: opts.request.tasks.map((t) => ({
      taskKey: t.task_key,
      notebookPath: t.notebook_task.notebook_path,
    })),
  };

  if (opts.existingClusterId) {
    if (!opts.clusters) throw new Error('runNotebooks: a ClustersClient is needed for an existing cluster');
    const remaining = deadline - clock.now();
    try {
      await opts.clusters.ensureRunning(opts.existingClusterId, {
        signal: opts.signal,
        logger: log,
        timeoutMs: remaining,
        clock,
      });
    } catch (e) {
      if (clock.now() >= deadline && !isAbortError(e)) {
        throw new RunTimeoutError(
          `The timeout of ${formatDuration(opts.timeoutMs)} (timeoutMinutes) was reached while waiting for cluster ${opts.existingClusterId}; no run was submitted. ${describeError(e)}`,
        );
      }
      throw e;
    }
  }

  // ---- submit ----
  let runId: number;
  const submitStartedAt = clock.now();
  try {
    runId = await opts.jobs.submitRun(opts.request as unknown as Record<string, unknown>, opts.signal);
  } catch (e) {
    if (!(isAbortError(e) || opts.signal?.aborted)) throw e;
    outcome.cancelled = true;
    // Nothing was sent: no run can exist.
    if (isHttpError(e) && e.attempts === 0) {
      log.warn('The pipeline was cancelled before the run was submitted; nothing was started.');
      return outcome;
    }
    // The submit was in flight, so a run may exist. Look it up rather than submit again:
    // resending with the same token would return it, but would start one if the first
    // request never arrived, only for it to be cancelled at once.
    const found = await findSubmittedRun(opts, submitStartedAt, clock);
    if (found === undefined) throw e;
    runId = found;
    outcome.runId = runId;
    opts.onSubmitted?.({ runId });
    log.warn(`The pipeline was cancelled while the run was being submitted: cancelling run ${runId}.`);
    await cancelAndWait(opts, outcome, runId, opts.abortCancelWaitMs ?? 5000, clock);
    return outcome;
  }
  outcome.runId = runId;
  const submittedAt = clock.now();

  // ---- poll ----
  const tracker = new StateTracker(log, runId);
  let run: Run | undefined;
  let notified = false;
  try {
    run = await opts.jobs.getRun(runId, opts.signal);
    applyRun(outcome, run);
    log.info(`Submitted run ${runId}${run.run_page_url ? `: ${run.run_page_url}` : ''}`);
    opts.onSubmitted?.({ runId, runPageUrl: run.run_page_url });
    notified = true;
    tracker.update(run, 0);
    let failures = 0;
    while (!isTerminal(run)) {
      const now = clock.now();
      if (now >= deadline) {
        outcome.timedOut = true;
        log.warn(
          `The timeout of ${formatDuration(opts.timeoutMs)} (timeoutMinutes) was reached: cancelling run ${runId}.`,
        );
        await cancelAndWait(opts, outcome, runId, opts.cancelWaitMs ?? 60_000, clock);
        break;
      }
      await clock.sleep(pollDelayUntil(now - submittedAt, deadline - now, opts.poll), opts.signal);
      try {
        run = await opts.jobs.getRun(runId, opts.signal);
        failures = 0;
      } catch (e) {
        if (!isHttpError(e) || !e.retryable || ++failures > (opts.maxPollFailures ?? 5)) throw e;
        log.warn(`Could not read the state of run ${runId} (${describeError(e)}); will try again.`);
        continue;
      }
      applyRun(outcome, run);
      tracker.update(run, clock.now() - submittedAt);
    }
  } catch (e) {
    if (!(isAbortError(e) || opts.signal?.aborted)) throw e;
    outcome.cancelled = true;
    log.warn(`The pipeline was cancelled: cancelling Databricks run ${runId}.`);
    if (!notified) opts.onSubmitted?.({ runId });
    await cancelAndWait(opts, outcome, runId, opts.abortCancelWaitMs ?? 5000, clock);
    return outcome;
  }

  if (!outcome.cancelled && run) await collectOutputs(opts, outcome, run);
  return outcome;
}

// Agent and workspace clocks may disagree; a run started this long before the submit still counts.
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * After a cancel interrupted runs/submit: finds the run that request created, if
 * any, among the active one-time runs started since, by its name and its tasks
 * (task keys and notebook paths). The idempotency token is not in the listing, so
 * when more than one run matches none is chosen: cancelling another pipeline's
 * run would be worse than leaving ours to its timeout_seconds. Tries a few times,
 * as the interrupted request may still be on its way.
 */
async function findSubmittedRun(
  opts: RunNotebooksOptions,
  submitStartedAt: number,
  clock: Clock,
): Promise<number | undefined> {
  const log = opts.logger;
  const want = opts.request;
  const signature = (tasks: { task_key: string; notebook_path?: string }[]) =>
    tasks
      .map((t) => `${t.task_key}\u0000${(t.notebook_path ?? '').replace(/^\/Workspace(?=\/)/, '')}`)
      .sort()
      .join('\n');
  const wanted = signature(
    want.tasks.map((t) => ({ task_key: t.task_key, notebook_path: t.notebook_task.notebook_path })),
  );
  const attempts = 3;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const matches: number[] = [];
    try {
      let pageToken: string | undefined;
      for (let page = 0; page < 4; page++) {
        // The pipeline's signal has fired: these calls get their own.
        const res = await opts.jobs.listRuns(
          {
            runType: 'SUBMIT_RUN',
            activeOnly: true,
            expandTasks: true,
            startTimeFrom: Math.max(0, submitStartedAt - CLOCK_SKEW_MS),
            limit: 25,
            pageToken,
          },
          AbortSignal.timeout(5000),
        );
        for (const r of res.runs) {
          const tasks = (r.tasks ?? []).map((t) => ({
            task_key: t.task_key,
            notebook_path: t.notebook_task?.notebook_path,
          }));
          if (r.run_name === want.run_name && signature(tasks) === wanted) matches.push(r.run_id);
        }
        pageToken = res.next_page_token;
        if (!res.has_more || !pageToken) break;
      }
    } catch (e) {
      log.warn(`Could not look for the run being submitted: ${describeError(e)}.`);
      return undefined;
    }
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      log.warn(
        `Several active runs named '${want.run_name}' started just now (${matches.join(', ')}); none was cancelled, as the one this task submitted cannot be told apart. Cancel it in the workspace if it is still running.`,
      );
      return undefined;
    }
    if (attempt < attempts) await clock.sleep(1000);
  }
  log.warn(
    `The submit was interrupted and no active run named '${want.run_name}' was found: the run was probably not started.` +
      (want.timeout_seconds ? ` If it was, it stops at its limit of ${want.timeout_seconds} s.` : ''),
  );
  return undefined;
}

/** Asks for cancellation, then polls until Databricks confirms or `waitMs` passes. */
async function cancelAndWait(
  opts: RunNotebooksOptions,
  outcome: RunOutcome,
  runId: number,
  waitMs: number,
  clock: Clock,
): Promise<void> {
  const log = opts.logger;
  const start = clock.now();
  // The pipeline's signal may already have fired: these calls get their own.
  try {
    await opts.jobs.cancelRun(runId, AbortSignal.timeout(Math.max(1000, Math.min(waitMs, 15_000))));
  } catch (e) {
    log.warn(
      `Could not cancel run ${runId}: ${describeError(e)}. Cancel it in the workspace if it is still running.`,
    );
    return;
  }
  for (;;) {
    const left = waitMs - (clock.now() - start);
    if (left <= 0) break;
    try {
      const run = await opts.jobs.getRun(runId, AbortSignal.timeout(Math.max(1000, Math.min(left, 10_000))));
      applyRun(outcome, run);
      if (isTerminal(run)) {
        outcome.cancelConfirmed = true;
        log.info(`Run ${runId} terminated after the cancel: ${describeState(run)}.`);
        return;
      }
    } catch {
      // keep trying until the wait is over
    }
    await clock.sleep(Math.min(1000, Math.max(0, waitMs - (clock.now() - start))));
  }
  log.warn(`Run ${runId} was asked to cancel but had not terminated after ${formatDuration(waitMs)}.`);
}

function applyRun(outcome: RunOutcome, run: Run): void {
  outcome.runPageUrl = run.run_page_url ?? outcome.runPageUrl;
  outcome.lifeCycleState = run.state?.life_cycle_state ?? run.status?.state;
  outcome.resultState = run.state?.result_state ?? outcome.resultState;
  outcome.stateMessage = run.state?.state_message || run.status?.termination_details?.message || undefined;
  outcome.durationMs = durationOf(run);
  for (const t of run.tasks ?? []) {
    const nb = outcome.notebooks.find((n) => n.taskKey === t.task_key);
    if (!nb) continue;
    nb.taskRunId = t.run_id;
    nb.runPageUrl = t.run_page_url ?? nb.runPageUrl;
    nb.lifeCycleState = t.state?.life_cycle_state ?? t.status?.state;
    nb.resultState = t.state?.result_state ?? nb.resultState;
    nb.stateMessage = t.state?.state_message || t.status?.termination_details?.message || undefined;
    nb.startTime = t.start_time || undefined;
    nb.durationMs = durationOf(t);
  }
}

function durationOf(r: Run | RunTask): number | undefined {
  if (r.run_duration) return r.run_duration;
  if (r.start_time && r.end_time && r.end_time >= r.start_time) return r.end_time - r.start_time;
  const parts = (r.setup_duration ?? 0) + (r.execution_duration ?? 0) + (r.cleanup_duration ?? 0);
  return parts > 0 ? parts : undefined;
}

async function collectOutputs(opts: RunNotebooksOptions, outcome: RunOutcome, run: Run): Promise<void> {
  const tasks = (run.tasks ?? []).filter((t) => typeof t.run_id === 'number');
  const results = await runPool(
    tasks,
    opts.outputConcurrency ?? 8,
    (t) => opts.jobs.getRunOutput(t.run_id, opts.signal),
    { signal: opts.signal },
  );
  for (const r of results) {
    const nb = outcome.notebooks.find((n) => n.taskKey === r.item.task_key);
    if (!nb) continue;
    if (r.ok) applyOutput(nb, r.value);
    else nb.outputError = describeError(r.error);
  }
}

function applyOutput(nb: NotebookRunOutcome, out: RunOutput): void {
  const result = out.notebook_output?.result;
  if (typeof result === 'string') nb.result = result;
  if (out.notebook_output?.truncated) nb.truncated = true;
  if (out.error) nb.error = out.error;
  if (out.error_trace) nb.errorTrace = out.error_trace;
}

/** Prints a line when the run or a task changes state, and a heartbeat while nothing does. */
class StateTracker {
  private runState = '';
  private readonly taskStates = new Map<string, string>();
  private lastLineAt = 0;

  constructor(
    private readonly log: Logger,
    private readonly runId: number,
  ) {}

  update(run: Run, elapsedMs: number): void {
    let printed = false;
    const state = describeState(run);
    if (state !== this.runState) {
      this.runState = state;
      this.log.info(`Run ${this.runId}: ${state} (${formatDuration(elapsedMs)})`);
      printed = true;
    }
    const multi = (run.tasks?.length ?? 0) > 1;
    for (const t of run.tasks ?? []) {
      const s = describeState(t);
      if (this.taskStates.get(t.task_key) !== s) {
        this.taskStates.set(t.task_key, s);
        if (multi || isTerminal(t)) {
          const d = isTerminal(t) ? durationOf(t) : undefined;
          this.log.info(`  ${t.task_key}: ${s}${d !== undefined ? ` in ${formatDuration(d)}` : ''}`);
          printed = true;
        }
      }
    }
    if (printed) {
      this.lastLineAt = elapsedMs;
    } else if (heartbeatDue(elapsedMs, this.lastLineAt)) {
      const running = (run.tasks ?? []).filter((t) => !isTerminal(t)).length;
      const done = (run.tasks?.length ?? 0) - running;
      const tasks = multi ? `; tasks: ${running} running, ${done} finished` : '';
      this.log.info(`Run ${this.runId} is still ${state} after ${formatDuration(elapsedMs)}${tasks}`);
      this.lastLineAt = elapsedMs;
    }
  }
}

function describeState(r: Run | RunTask): string {
  const lc = r.state?.life_cycle_state ?? r.status?.state ?? 'UNKNOWN';
  const result = r.state?.result_state;
  const queue = lc === 'QUEUED' && r.state?.queue_reason ? ` (${r.state.queue_reason})` : '';
  return result ? `${lc} ${result}` : `${lc}${queue}`;
}
