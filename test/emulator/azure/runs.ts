/**
 * Emulated Data Factory pipeline runs. A run's whole timeline is fixed when it
 * is created (from a scripted outcome, or "every activity succeeds"), and its
 * status and activity runs are computed from the clock when read, so no timers
 * are needed and results do not depend on polling frequency.
 */
import * as crypto from 'node:crypto';
import { isoNow } from './common';

export type RunStatus = 'Queued' | 'InProgress' | 'Succeeded' | 'Failed' | 'Canceling' | 'Cancelled';

export interface ActivityScript {
  activityName: string;
  /** e.g. DatabricksNotebook, Copy, ExecutePipeline. Default: from the pipeline definition, else 'Unknown'. */
  activityType?: string;
  status?: 'Succeeded' | 'Failed' | 'Cancelled' | 'Skipped';
  /** Default: the run's duration split evenly over its activities. */
  durationMs?: number;
  error?: { errorCode?: string; message: string; failureType?: string; details?: string };
  /** e.g. {runPageUrl, runOutput} for a Databricks notebook activity. */
  output?: unknown;
  input?: unknown;
  linkedServiceName?: string;
}

export interface PipelineRunScript {
  status?: 'Succeeded' | 'Failed' | 'Cancelled';
  /** Time in progress (after queueing). Default: sum of activity durations, else 200 ms. */
  durationMs?: number;
  /** Time spent Queued. Default: the emulator's runQueueMs. */
  queueMs?: number;
  /** Run message on failure. Default: "Operation on target <activity> failed: <error>". */
  message?: string;
  activities?: ActivityScript[];
}

interface PlannedActivity {
  script: ActivityScript;
  activityType: string;
  activityRunId: string;
  start: number;
  end: number;
}

export interface RunTiming {
  /** How long Canceling lasts before Cancelled. */
  cancelMs: number;
}

export class PipelineRun {
  readonly runId = crypto.randomUUID();
  readonly createdAt = Date.now();
  readonly queuedUntil: number;
  readonly end: number;
  readonly finalStatus: 'Succeeded' | 'Failed' | 'Cancelled';
  readonly activities: PlannedActivity[];
  cancelRequestedAt?: number;
  /** Status at the moment cancel was requested (a terminal run ignores cancel). */
  private cancelledFrom?: RunStatus;

  constructor(
    readonly factoryResourceId: string,
    readonly pipelineName: string,
    readonly parameters: Record<string, unknown>,
    readonly script: PipelineRunScript,
    defaultQueueMs: number,
    private readonly timing: RunTiming,
    readonly invokedBy: { id: string; name: string; invokedByType: string } = {
      id: crypto.randomBytes(16).toString('hex'),
      name: 'Manual',
      invokedByType: 'Manual',
    },
  ) {
    this.queuedUntil = this.createdAt + (script.queueMs ?? defaultQueueMs);
    const acts = script.activities ?? [];
    const total =
      script.durationMs ??
      (acts.some((a) => a.durationMs !== undefined)
        ? acts.reduce((s, a) => s + (a.durationMs ?? 0), 0)
        : 200);
    const share = acts.length > 0 ? total / acts.length : 0;
    let t = this.queuedUntil;
    this.activities = acts.map((a) => {
      const d = a.durationMs ?? share;
      const planned = {
        script: a,
        activityType: a.activityType ?? 'Unknown',
        activityRunId: crypto.randomUUID(),
        start: t,
        end: t + d,
      };
      t += d;
      return planned;
    });
    this.end = this.queuedUntil + Math.max(total, t - this.queuedUntil);
    this.finalStatus = script.status ?? (acts.some((a) => a.status === 'Failed') ? 'Failed' : 'Succeeded');
  }

  status(now = Date.now()): RunStatus {
    if (this.cancelRequestedAt !== undefined && this.cancelledFrom !== undefined) {
      return now < this.cancelRequestedAt + this.timing.cancelMs ? 'Canceling' : 'Cancelled';
    }
    if (now < this.queuedUntil) return 'Queued';
    if (now < this.end) return 'InProgress';
    return this.finalStatus;
  }

  isTerminal(now = Date.now()): boolean {
    const s = this.status(now);
    return s === 'Succeeded' || s === 'Failed' || s === 'Cancelled';
  }

  /** Requests cancellation; a no-op on a finished run. Returns false when already terminal. */
  cancel(now = Date.now()): boolean {
    if (this.cancelRequestedAt !== undefined) return true;
    const s = this.status(now);
    if (s === 'Succeeded' || s === 'Failed' || s === 'Cancelled') return false;
    this.cancelledFrom = s;
    this.cancelRequestedAt = now;
    return true;
  }

  private endTime(now: number): number | undefined {
    if (this.cancelRequestedAt !== undefined && this.cancelledFrom !== undefined) {
      const t = this.cancelRequestedAt + this.timing.cancelMs;
      return now >= t ? t : undefined;
    }
    return now >= this.end ? this.end : undefined;
  }

  message(now = Date.now()): string {
    const s = this.status(now);
    if (s === 'Failed') {
      if (this.script.message) return this.script.message;
      const failed = this.activities.find((a) => a.script.status === 'Failed');
      if (failed)
        return `Operation on target ${failed.script.activityName} failed: ${failed.script.error?.message ?? 'Activity failed.'}`;
      return 'Pipeline run failed.';
    }
    return '';
  }

  /** PipelineRun as GET pipelineruns/{runId} returns it. */
  toJson(now = Date.now()): Record<string, unknown> {
    const end = this.endTime(now);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.parameters))
      params[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return {
      id: `${this.factoryResourceId}/pipelineruns/${this.runId}`,
      runId: this.runId,
      debugRunId: null,
      runGroupId: this.runId,
      isLatest: true,
      pipelineName: this.pipelineName,
      parameters: params,
      runDimensions: {},
      invokedBy: this.invokedBy,
      runStart: isoNow(this.createdAt),
      runEnd: end === undefined ? null : isoNow(end),
      durationInMs: end === undefined ? null : Math.round(end - this.createdAt),
      status: this.status(now),
      message: this.message(now),
      lastUpdated: isoNow(Math.min(now, end ?? now)),
      annotations: [],
    };
  }

  /** ActivityRun objects visible at `now`. */
  activityRuns(now = Date.now()): Record<string, unknown>[] {
    const cancelAt = this.cancelledFrom !== undefined ? this.cancelRequestedAt : undefined;
    const out: Record<string, unknown>[] = [];
    for (const a of this.activities) {
      if (now < a.start) break;
      if (cancelAt !== undefined && a.start >= cancelAt) break;
      let status: string;
      let end: number | undefined;
      if (cancelAt !== undefined && a.end > cancelAt) {
        const t = cancelAt + this.timing.cancelMs;
        status = now >= t ? 'Cancelled' : 'InProgress';
        end = now >= t ? t : undefined;
      } else if (now < a.end) {
        status = 'InProgress';
      } else {
        status = a.script.status ?? 'Succeeded';
        end = a.end;
      }
      const failed = status === 'Failed';
      const e = a.script.error;
      out.push({
        activityRunId: a.activityRunId,
        activityName: a.script.activityName,
        activityType: a.activityType,
        pipelineRunId: this.runId,
        pipelineName: this.pipelineName,
        linkedServiceName: a.script.linkedServiceName ?? '',
        status,
        activityRunStart: isoNow(a.start),
        activityRunEnd: end === undefined ? null : isoNow(end),
        durationInMs: end === undefined ? null : Math.round(end - a.start),
        input: a.script.input ?? {},
        output: end === undefined ? null : (a.script.output ?? {}),
        // ADF sends an error object with empty strings for activities that did not fail.
        error: {
          errorCode: failed ? (e?.errorCode ?? '3204') : '',
          message: failed ? (e?.message ?? 'Activity failed.') : '',
          failureType: failed ? (e?.failureType ?? 'UserError') : '',
          target: a.script.activityName,
          details: failed ? (e?.details ?? '') : '',
        },
        retryAttempt: null,
        iterationHash: '',
        userProperties: {},
        recoveryStatus: 'None',
        integrationRuntimeNames: ['AutoResolveIntegrationRuntime'],
        executionDetails: {
          integrationRuntime: [{ name: 'AutoResolveIntegrationRuntime', type: 'Managed' }],
        },
      });
    }
    return out;
  }

  /** Last update time of an activity run JSON (end, else start). */
  static activityLastUpdated(a: Record<string, unknown>): number {
    return Date.parse(String(a.activityRunEnd ?? a.activityRunStart));
  }
}
