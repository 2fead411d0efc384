/**
 * DataFactoryRunPipeline: start a pipeline run, follow it to the end, and
 * explain a failure activity by activity (following ExecutePipeline into child
 * runs), with the Databricks run page of notebook activities. A timeout or a
 * cancelled task cancels the Data Factory run, also when the cancel arrives
 * while createRun is in flight.
 */
import type { Logger } from '../../common/logger';
import { AbortError, sleep as realSleep, isAbortError } from '../../common/sleep';
import { classifyNetworkCode, describeError, isHttpError } from '../../http/errors';
import type { ActivityRun, FactoryClient, PipelineRun } from '../factory-client';

export const TERMINAL_STATUSES = new Set(['Succeeded', 'Failed', 'Cancelled']);

export interface RunPollOptions {
  /** First and smallest delay between polls. Default 2000 ms. */
  minMs: number;
  /** Largest delay. Default 30000 ms. */
  maxMs: number;
  /** Share of the elapsed time a delay may take. Default 0.1. */
  fraction: number;
}

export const DEFAULT_RUN_POLL: RunPollOptions = { minMs: 2000, maxMs: 30_000, fraction: 0.1 };

export function nextPollDelay(elapsedMs: number, opts: RunPollOptions = DEFAULT_RUN_POLL): number {
  return Math.min(opts.maxMs, Math.max(opts.minMs, Math.floor(elapsedMs * opts.fraction)));
}

export interface FailedActivity {
  activityName: string;
  activityType?: string;
  /** Pipeline the activity belongs to (differs for activities of child pipelines). */
  pipelineName?: string;
  errorCode?: string;
  message: string;
  runPageUrl?: string;
}

export interface RunPipelineOptions {
  client: FactoryClient;
  pipelineName: string;
  parameters: Record<string, unknown>;
  waitForCompletion: boolean;
  /** Cancel the run when it has not finished after this long. */
  timeoutMs?: number;
  logger: Logger;
  signal?: AbortSignal;
  poll?: Partial<RunPollOptions>;
  /** How long to wait for the cancellation to finish (default 60 s). */
  cancelWaitMs?: number;
  /**
   * Deadline of the createRun request (default 120 s). It is not tied to the task's signal:
   * a cancel must not abandon a request the service may already have acted on.
   */
  createRunTimeoutMs?: number;
  /** How an ambiguous createRun failure is resolved (see startRun). */
  startRecovery?: Partial<StartRecoveryOptions>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface StartRecoveryOptions {
  /** Queries of the factory's recent runs before concluding the run did not start. Default 3. */
  lookups: number;
  /** Delay between those queries: the run list can lag behind createRun. Default 2500 ms. */
  lookupDelayMs: number;
  /**
   * How far before the request a matching run may have started: the agent's clock may be
   * ahead of the service's. Default 10 s.
   */
  clockSkewMs: number;
  /** Deadline of each query, independent of the task's signal. Default 60 s. */
  lookupTimeoutMs: number;
}

export const DEFAULT_START_RECOVERY: StartRecoveryOptions = {
  lookups: 3,
  lookupDelayMs: 2500,
  clockSkewMs: 10_000,
  lookupTimeoutMs: 60_000,
};

export interface RunPipelineResult {
  runId: string;
  status: string;
  durationMs: number;
  message?: string;
  /** Monitoring page of the run in ADF Studio. */
  monitorUrl: string;
  failedActivities: FailedActivity[];
  /** Databricks run pages of notebook/job activities, by activity name. */
  runPageUrls: { activityName: string; url: string }[];
}

export class PipelineRunError extends Error {
  constructor(
    message: string,
    readonly result: RunPipelineResult,
    readonly reason: 'failed' | 'cancelled' | 'timeout',
  ) {
    super(message);
    this.name = 'PipelineRunError';
  }
}

const DATABRICKS_TYPES = /^Databricks/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** runPageUrl from a Databricks activity's output (also nested in runOutput). */
export function runPageUrlOf(a: ActivityRun): string | undefined {
  const out = a.output;
  if (!isObject(out)) return undefined;
  if (typeof out.runPageUrl === 'string' && out.runPageUrl) return out.runPageUrl;
  if (isObject(out.runOutput) && typeof out.runOutput.runPageUrl === 'string')
    return out.runOutput.runPageUrl;
  return undefined;
}

export function monitorUrl(factoryId: string, runId: string): string {
  return `https://adf.azure.com/en/monitoring/pipelineruns/${encodeURIComponent(runId)}?factory=${encodeURIComponent(factoryId)}`;
}

function minutes(ms: number): string {
  return String(Number((ms / 60_000).toFixed(2)));
}

function durationOf(run: PipelineRun, startedAt: number): number {
  return typeof run.durationInMs === 'number' ? run.durationInMs : Date.now() - startedAt;
}

/** Activity runs of a run (and, for failed ExecutePipeline activities, of the child runs). */
async function collectActivities(
  client: FactoryClient,
  runId: string,
  pipelineName: string | undefined,
  signal: AbortSignal | undefined,
  depth = 0,
): Promise<{
  failed: FailedActivity[];
  runPages: { activityName: string; url: string }[];
  all: ActivityRun[];
}> {
  const now = Date.now();
  const acts = await client.queryActivityRuns(
    runId,
    {
      lastUpdatedAfter: new Date(now - 7 * 24 * 3600_000).toISOString(),
      lastUpdatedBefore: new Date(now + 3600_000).toISOString(),
    },
    signal,
  );
  const failed: FailedActivity[] = [];
  const runPages: { activityName: string; url: string }[] = [];
  for (const a of acts) {
    const url = DATABRICKS_TYPES.test(a.activityType ?? '') ? runPageUrlOf(a) : undefined;
    if (url) runPages.push({ activityName: a.activityName, url });
    if (a.status !== 'Failed') continue;
    const childRunId =
      isObject(a.output) && typeof a.output.pipelineRunId === 'string' ? a.output.pipelineRunId : undefined;
    if (a.activityType === 'ExecutePipeline' && childRunId && depth < 3) {
      try {
        const child = await collectActivities(client, childRunId, a.activityName, signal, depth + 1);
        runPages.push(...child.runPages);
        if (child.failed.length > 0) {
          failed.push(...child.failed);
          continue;
        }
      } catch (e) {
        if (isAbortError(e)) throw e;
      }
    }
    failed.push({
      activityName: a.activityName,
      activityType: a.activityType,
      pipelineName: (a.pipelineName as string | undefined) ?? pipelineName,
      errorCode: a.error?.errorCode || undefined,
      message: a.error?.message || 'no error message',
      runPageUrl: url,
    });
  }
  return { failed, runPages, all: acts };
}

/**
 * Whether a failed createRun may still have started the run: the service answered 5xx, the
 * connection broke or the request timed out after it was sent. (429, refused connections and
 * 4xx mean it was not acted on; the HTTP client already resends those that are safe to.)
 */
export function isAmbiguousStartFailure(err: unknown, ownDeadline?: AbortSignal): boolean {
  if (!isHttpError(err)) return false;
  switch (err.kind) {
    case 'server':
    case 'timeout':
      return true;
    case 'network': {
      const failure = classifyNetworkCode(err.networkCode);
      return (
        err.retryable && failure !== 'refused' && failure !== 'unreachable' && failure !== 'dnsTemporary'
      );
    }
    case 'aborted':
      // Our own deadline fired while the request was out.
      return ownDeadline?.aborted === true;
    default:
      return false;
  }
}

/** A run parameter as the service reports it (a string), compared with the value we sent. */
function sameParameter(sent: unknown, reported: unknown): boolean {
  if (typeof sent === 'string') return reported === sent;
  if (typeof reported !== 'string') return JSON.stringify(reported) === JSON.stringify(sent);
  if (reported === JSON.stringify(sent) || reported.toLowerCase() === String(sent).toLowerCase()) return true;
  try {
    return JSON.stringify(JSON.parse(reported)) === JSON.stringify(sent);
  } catch {
    return false;
  }
}

/**
 * Whether `run` can be the run a createRun of `pipelineName` with `parameters`, sent at or
 * after `since`, started: same pipeline, started manually (createRun), not before `since`,
 * and every parameter sent reported with the same value (defaults the service adds are extra).
 */
export function matchesStartedRun(
  run: PipelineRun,
  pipelineName: string,
  parameters: Record<string, unknown>,
  since: number,
): boolean {
  if ((run.pipelineName ?? '').toLowerCase() !== pipelineName.toLowerCase()) return false;
  const by = isObject(run.invokedBy) ? run.invokedBy : undefined;
  const byType = String(by?.invokedByType ?? by?.name ?? 'Manual');
  if (byType.toLowerCase() !== 'manual') return false;
  const started = Date.parse(String(run.runStart ?? run.lastUpdated ?? ''));
  if (!Number.isFinite(started) || started < since) return false;
  const reported = isObject(run.parameters) ? run.parameters : {};
  const byLower = new Map(Object.entries(reported).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(parameters).every(
    ([k, v]) => byLower.has(k.toLowerCase()) && sameParameter(v, byLower.get(k.toLowerCase())),
  );
}

/** Runs of the pipeline that match a createRun sent at `requestedAt` (see matchesStartedRun). */
async function findStartedRuns(
  opts: RunPipelineOptions,
  requestedAt: number,
  recovery: StartRecoveryOptions,
  doSleep: (ms: number, signal?: AbortSignal) => Promise<void>,
): Promise<PipelineRun[]> {
  const since = requestedAt - recovery.clockSkewMs;
  for (let i = 1; ; i++) {
    const runs = await opts.client.queryPipelineRuns(
      {
        lastUpdatedAfter: new Date(since).toISOString(),
        lastUpdatedBefore: new Date(Date.now() + 24 * 3600_000).toISOString(),
        filters: [{ operand: 'PipelineName', operator: 'Equals', values: [opts.pipelineName] }],
        orderBy: [{ orderBy: 'RunStart', order: 'DESC' }],
      },
      AbortSignal.timeout(recovery.lookupTimeoutMs),
    );
    const found = runs.filter((r) => matchesStartedRun(r, opts.pipelineName, opts.parameters, since));
    if (found.length > 0 || i >= recovery.lookups) return found;
    // Not the task's signal: after a cancel the run still has to be found, to cancel it.
    await doSleep(recovery.lookupDelayMs);
  }
}

/**
 * Starts the run. createRun carries no idempotency key, so it is never resent blindly: when it
 * fails in a way that leaves open whether the service acted (5xx, a reset or timeout after the
 * request was sent), the factory's recent runs are queried for one of this pipeline, started
 * manually since just before the request, with the same parameters. Exactly one: it is ours
 * and is adopted. None (after a few lookups, since the run list can lag): createRun is sent
 * once more, and a second ambiguous failure is resolved the same way but never resent. More
 * than one: the task fails naming them rather than start another. Nothing in a createRun
 * marks a run as ours, so a manual run of the same pipeline with the same parameters started
 * by someone else in the same seconds could be taken for it; that errs towards "no duplicate".
 *
 * The requests get their own deadlines, not the task's signal: a cancel that lands while
 * createRun is out must still learn the run id, so the caller can cancel the run.
 */
async function startRun(
  opts: RunPipelineOptions,
  doSleep: (ms: number, signal?: AbortSignal) => Promise<void>,
): Promise<string> {
  const { client, logger, pipelineName, parameters, signal } = opts;
  const recovery = { ...DEFAULT_START_RECOVERY, ...opts.startRecovery };
  // One createRun, its failure classified while its own deadline is still at hand.
  const create = async (): Promise<{ runId: string } | { error: unknown; ambiguous: boolean }> => {
    const deadline = AbortSignal.timeout(opts.createRunTimeoutMs ?? 120_000);
    try {
      return { runId: await client.createRun(pipelineName, parameters, { signal: deadline }) };
    } catch (error) {
      return { error, ambiguous: isAmbiguousStartFailure(error, deadline) };
    }
  };
  const lookup = async (requestedAt: number, failure: unknown, again: boolean): Promise<PipelineRun[]> => {
    try {
      return await findStartedRuns(opts, requestedAt, recovery, doSleep);
    } catch (e) {
      throw new Error(
        `Starting a run of pipeline ${pipelineName} failed (${describeError(failure)})${again ? ' for the second time' : ''}, and looking up whether it started anyway failed too (${describeError(e)}). Check the factory's pipeline runs in ADF Studio before running the task again, so as not to start it twice.`,
        { cause: e },
      );
    }
  };
  const adopt = (found: PipelineRun[], failure: unknown): string | undefined => {
    if (found.length === 1) {
      logger.info(
        `Run ${found[0].runId} of pipeline ${pipelineName} started despite the failed request: following it.`,
      );
      return found[0].runId;
    }
    if (found.length > 1) {
      throw new Error(
        `Starting a run of pipeline ${pipelineName} failed (${describeError(failure)}), and ${found.length} runs with the same parameters started since then: ${found.map((r) => r.runId).join(', ')}. Not starting another; check them in ADF Studio.`,
      );
    }
    return undefined;
  };

  if (signal?.aborted) throw abortReason(signal);
  const requestedAt = Date.now();
  const attempt = await create();
  if ('runId' in attempt) return attempt.runId;
  if (!attempt.ambiguous) throw attempt.error;
  const first = attempt.error;
  logger.warn(
    `Starting the run may or may not have worked (${describeError(first)}): looking for it among the factory's recent runs.`,
  );
  const adopted = adopt(await lookup(requestedAt, first, false), first);
  if (adopted) return adopted;
  if (signal?.aborted) throw abortReason(signal);
  logger.info(`No run of pipeline ${pipelineName} started: starting it again (once).`);
  const retried = await create();
  if ('runId' in retried) return retried.runId;
  if (!retried.ambiguous) throw retried.error;
  const second = retried.error;
  logger.warn(
    `Starting the run failed again (${describeError(second)}): looking for it among the factory's recent runs.`,
  );
  // The window of the first request: a first run that showed up late is counted too.
  const again = adopt(await lookup(requestedAt, second, true), second);
  if (again) return again;
  throw new Error(
    `Could not start a run of pipeline ${pipelineName}: ${describeError(second)} (twice; no run started). Run the task again.`,
  );
}

/** What to throw once a cancelled task has cleaned up: the reason the task was cancelled. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new AbortError();
}

export async function runPipeline(opts: RunPipelineOptions): Promise<RunPipelineResult> {
  const { client, logger, signal } = opts;
  const poll = { ...DEFAULT_RUN_POLL, ...opts.poll };
  const doSleep = opts.sleep ?? realSleep;
  const startedAt = Date.now();
  let runId: string;
  try {
    runId = await startRun(opts, doSleep);
  } catch (e) {
    // A cancelled task ends Cancelled, whatever starting the run broke on meanwhile.
    if (signal?.aborted && !isAbortError(e) && !(isHttpError(e) && e.kind === 'aborted')) {
      logger.warn(`While cancelling: ${describeError(e)}`);
      throw abortReason(signal);
    }
    throw e;
  }
  const monitor = monitorUrl(client.factoryId, runId);
  logger.info(`Started run ${runId} of pipeline ${opts.pipelineName}.`);
  logger.info(`Monitor: ${monitor}`);
  const base = { runId, monitorUrl: monitor, failedActivities: [], runPageUrls: [] };

  const cancelRun = async (why: string): Promise<PipelineRun | undefined> => {
    logger.warn(`${why}: cancelling run ${runId}…`);
    // The task's own signal may be aborted already: cancellation gets its own deadline.
    const cancelSignal = AbortSignal.timeout(opts.cancelWaitMs ?? 60_000);
    try {
      await client.cancelPipelineRun(runId, { recursive: true, signal: cancelSignal });
      for (;;) {
        const r = await client.getPipelineRun(runId, cancelSignal);
        if (TERMINAL_STATUSES.has(r.status)) {
          logger.info(`Run ${runId} is ${r.status}.`);
          return r;
        }
        await doSleep(Math.min(poll.minMs, 1000), cancelSignal);
      }
    } catch (e) {
      logger.warn(`Could not confirm the cancellation of run ${runId}: ${describeError(e)}`);
      return undefined;
    }
  };

  // Cancelled while createRun was out: the run started, so it is cancelled before reporting.
  if (signal?.aborted) {
    await cancelRun('The task was cancelled');
    throw abortReason(signal);
  }
  if (!opts.waitForCompletion) {
    const run = await client.getPipelineRun(runId, signal);
    return {
      ...base,
      status: run.status,
      durationMs: Date.now() - startedAt,
      message: run.message || undefined,
    };
  }

  let run: PipelineRun | undefined;
  let lastStatus = '';
  let lastLine = Date.now();

  try {
    for (;;) {
      run = await client.getPipelineRun(runId, signal);
      const elapsed = Date.now() - startedAt;
      if (run.status !== lastStatus || Date.now() - lastLine >= 60_000) {
        logger.info(`  ${run.status}${elapsed >= 1000 ? ` after ${Math.round(elapsed / 1000)} s` : ''}`);
        lastStatus = run.status;
        lastLine = Date.now();
      }
      if (TERMINAL_STATUSES.has(run.status)) break;
      let delay = nextPollDelay(elapsed, poll);
      if (opts.timeoutMs !== undefined) {
        const left = opts.timeoutMs - elapsed;
        if (left <= 0) {
          const final = await cancelRun(`The run did not finish within ${minutes(opts.timeoutMs)} minute(s)`);
          const result: RunPipelineResult = {
            ...base,
            status: final?.status ?? 'Canceling',
            durationMs: final ? durationOf(final, startedAt) : Date.now() - startedAt,
            message: final?.message || undefined,
          };
          throw new PipelineRunError(
            `Pipeline ${opts.pipelineName} run ${runId} did not finish within timeoutMinutes (${minutes(opts.timeoutMs)}); it was cancelled (${result.status}).`,
            result,
            'timeout',
          );
        }
        delay = Math.min(delay, left);
      }
      await doSleep(delay, signal);
    }
  } catch (e) {
    if (signal?.aborted && !(e instanceof PipelineRunError)) {
      await cancelRun('The task was cancelled');
    }
    throw e;
  }

  const result: RunPipelineResult = {
    ...base,
    status: run.status,
    durationMs: durationOf(run, startedAt),
    message: run.message || undefined,
  };
  // Activity details: failures explained, Databricks run pages shown.
  try {
    const acts = await collectActivities(client, runId, opts.pipelineName, signal);
    result.failedActivities = acts.failed;
    result.runPageUrls = acts.runPages;
    for (const p of acts.runPages) logger.info(`Databricks run of activity '${p.activityName}': ${p.url}`);
  } catch (e) {
    if (isAbortError(e) || (isHttpError(e) && e.kind === 'aborted')) throw e;
    logger.warn(`Could not read the activity runs of run ${runId}: ${describeError(e)}`);
  }

  if (run.status === 'Succeeded') {
    logger.info(
      `Pipeline ${opts.pipelineName} run ${runId} succeeded in ${(result.durationMs / 1000).toFixed(1)} s.`,
    );
    return result;
  }
  if (run.status === 'Cancelled') {
    throw new PipelineRunError(
      `Pipeline ${opts.pipelineName} run ${runId} was cancelled${run.message ? `: ${run.message}` : ''}.`,
      result,
      'cancelled',
    );
  }
  for (const f of result.failedActivities) {
    logger.error(
      `Activity '${f.activityName}'${f.activityType ? ` (${f.activityType})` : ''}${f.pipelineName && f.pipelineName !== opts.pipelineName ? ` in pipeline ${f.pipelineName}` : ''} failed: ${f.errorCode ? `${f.errorCode}: ` : ''}${f.message}${f.runPageUrl ? ` — Databricks run: ${f.runPageUrl}` : ''}`,
    );
  }
  const detail =
    result.failedActivities.length > 0
      ? result.failedActivities
          .map(
            (f) =>
              `${f.activityName}: ${f.errorCode ? `${f.errorCode}: ` : ''}${f.message}${f.runPageUrl ? ` (Databricks run ${f.runPageUrl})` : ''}`,
          )
          .join(' | ')
      : (run.message ?? 'no message');
  throw new PipelineRunError(
    `Pipeline ${opts.pipelineName} run ${runId} failed: ${detail}`,
    result,
    'failed',
  );
}
