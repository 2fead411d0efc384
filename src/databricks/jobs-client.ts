/**
 * Jobs API (2.2 by default; 2.1 has the same shapes): one-time runs through
 * runs/submit, their state, output and cancellation, and run listings.
 */
import type { HttpClient } from '../http/types';

export type LifeCycleState =
  | 'QUEUED'
  | 'PENDING'
  | 'RUNNING'
  | 'TERMINATING'
  | 'TERMINATED'
  | 'SKIPPED'
  | 'INTERNAL_ERROR'
  | 'BLOCKED'
  | 'WAITING_FOR_RETRY'
  | (string & {});

export interface RunState {
  life_cycle_state?: LifeCycleState;
  result_state?: string;
  state_message?: string;
  user_cancelled_or_timedout?: boolean;
  queue_reason?: string;
}

export interface RunStatus {
  state?: string;
  termination_details?: { code?: string; type?: string; message?: string };
  queue_details?: { code?: string; message?: string };
}

export interface RunTask {
  run_id: number;
  task_key: string;
  state?: RunState;
  status?: RunStatus;
  run_page_url?: string;
  start_time?: number;
  end_time?: number;
  setup_duration?: number;
  execution_duration?: number;
  cleanup_duration?: number;
  run_duration?: number;
  attempt_number?: number;
  notebook_task?: { notebook_path?: string; base_parameters?: Record<string, string> };
  existing_cluster_id?: string;
  cluster_instance?: { cluster_id?: string; spark_context_id?: string };
}

export interface Run {
  run_id: number;
  job_id?: number;
  run_name?: string;
  run_type?: string;
  run_page_url?: string;
  start_time?: number;
  end_time?: number;
  setup_duration?: number;
  execution_duration?: number;
  cleanup_duration?: number;
  run_duration?: number;
  queue_duration?: number;
  state?: RunState;
  status?: RunStatus;
  tasks?: RunTask[];
  next_page_token?: string;
}

export interface RunOutput {
  notebook_output?: { result?: string; truncated?: boolean };
  error?: string;
  error_trace?: string;
  metadata?: Run;
  logs?: string;
  info?: string;
}

export interface ListRunsOptions {
  jobId?: number;
  activeOnly?: boolean;
  completedOnly?: boolean;
  limit?: number;
  startTimeFrom?: number;
  /** JOB_RUN, WORKFLOW_RUN or SUBMIT_RUN (one-time runs from runs/submit). */
  runType?: 'JOB_RUN' | 'WORKFLOW_RUN' | 'SUBMIT_RUN';
  /** Include each run's tasks. */
  expandTasks?: boolean;
  pageToken?: string;
}

export const TERMINAL_LIFE_CYCLE_STATES: ReadonlySet<string> = new Set([
  'TERMINATED',
  'SKIPPED',
  'INTERNAL_ERROR',
]);

/** A run (or task run) has finished: its life cycle, or the newer status, says so. */
export function isTerminal(item: { state?: RunState; status?: RunStatus }): boolean {
  const lc = item.state?.life_cycle_state;
  if (lc && TERMINAL_LIFE_CYCLE_STATES.has(lc)) return true;
  return !lc && item.status?.state === 'TERMINATED';
}

export class JobsClient {
  private readonly base: string;

  constructor(
    private readonly http: HttpClient,
    workspaceUrl: string,
    apiVersion: '2.1' | '2.2' = '2.2',
  ) {
    this.base = `${workspaceUrl.replace(/\/+$/, '')}/api/${apiVersion}/jobs`;
  }

  /**
   * Submits a one-time run. Retried on transient failures only when the body
   * carries an idempotency_token: Databricks then returns the same run.
   */
  async submitRun(
    body: { idempotency_token?: string } & Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<number> {
    const res = await this.http.request<{ run_id?: number }>({
      method: 'POST',
      url: `${this.base}/runs/submit`,
      json: body,
      idempotent: Boolean(body.idempotency_token),
      signal,
      operation: 'submit run',
    });
    const runId = res.data?.run_id;
    if (typeof runId !== 'number') throw new Error('submit run: the response has no run_id');
    return runId;
  }

  /** The run with all its tasks (2.2 pages tasks at 100: the pages are merged). */
  async getRun(runId: number, signal?: AbortSignal): Promise<Run> {
    let pageToken: string | undefined;
    let run: Run | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await this.http.request<Run>({
        method: 'GET',
        url: `${this.base}/runs/get`,
        query: { run_id: runId, page_token: pageToken },
        signal,
        operation: 'get run',
      });
      const data = res.data;
      if (!run) run = { ...data, tasks: [...(data.tasks ?? [])] };
      else run.tasks!.push(...(data.tasks ?? []));
      pageToken = data.next_page_token;
      if (!pageToken) break;
    }
    delete run!.next_page_token;
    return run!;
  }

  /** Output of one task run (never the parent of a multi-task run). */
  async getRunOutput(taskRunId: number, signal?: AbortSignal): Promise<RunOutput> {
    const res = await this.http.request<RunOutput>({
      method: 'GET',
      url: `${this.base}/runs/get-output`,
      query: { run_id: taskRunId },
      signal,
      operation: 'get run output',
    });
    return res.data ?? {};
  }

  /** Asks Databricks to cancel; cancellation is asynchronous, so keep polling. */
  async cancelRun(runId: number, signal?: AbortSignal): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: `${this.base}/runs/cancel`,
      json: { run_id: runId },
      // Cancelling twice is harmless.
      idempotent: true,
      signal,
      operation: 'cancel run',
    });
  }

  async listRuns(
    opts: ListRunsOptions,
    signal?: AbortSignal,
  ): Promise<{ runs: Run[]; has_more: boolean; next_page_token?: string }> {
    const res = await this.http.request<{ runs?: Run[]; has_more?: boolean; next_page_token?: string }>({
      method: 'GET',
      url: `${this.base}/runs/list`,
      query: {
        job_id: opts.jobId,
        active_only: opts.activeOnly || undefined,
        completed_only: opts.completedOnly || undefined,
        limit: opts.limit,
        start_time_from: opts.startTimeFrom,
        run_type: opts.runType,
        expand_tasks: opts.expandTasks || undefined,
        page_token: opts.pageToken,
      },
      signal,
      operation: 'list runs',
    });
    const out: { runs: Run[]; has_more: boolean; next_page_token?: string } = {
      runs: res.data?.runs ?? [],
      has_more: Boolean(res.data?.has_more),
    };
    if (res.data?.next_page_token) out.next_page_token = res.data.next_page_token;
    return out;
  }
}
