/**
 * DataFactoryRunPipeline: start a pipeline run, follow it to the end, and
 * explain a failure activity by activity (following ExecutePipeline into child
 * runs), with the Databricks run page of notebook activities. A timeout or a
 * cancelled task cancels the Data Factory run.
 */
import type { Logger } from '../../common/logger';
import { sleep as realSleep, isAbortError } from '../../common/sleep';
import { describeError, isHttpError } from '../../http/errors';
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
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

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

export async function runPipeline(opts: RunPipelineOptions): Promise<RunPipelineResult> {
  const { client, logger, signal } = opts;
  const poll = { ...DEFAULT_RUN_POLL, ...opts.poll };
  const doSleep = opts.sleep ?? realSleep;
  const startedAt = Date.now();
  const runId = await client.createRun(opts.pipelineName, opts.parameters, { signal });
  const monitor = monitorUrl(client.factoryId, runId);
  logger.info(`Started run ${runId} of pipeline ${opts.pipelineName}.`);
  logger.info(`Monitor: ${monitor}`);
  const base = { runId, monitorUrl: monitor, failedActivities: [], runPageUrls: [] };
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
