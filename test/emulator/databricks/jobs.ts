/**
 * Jobs API model of one workspace: one-time runs (runs/submit), jobs (create,
 * get, run-now), run state by wall-clock time from scripted outcomes, cancel,
 * list and get-output. State is computed on read from the run's timeline, so a
 * run moves PENDING → RUNNING → TERMINATED without timers.
 */
import { ApiError, invalidParam } from './api-error';
import { Cluster, clusterMissing, sparkContextId } from './clusters';

export type ResultState =
  | 'SUCCESS'
  | 'FAILED'
  | 'TIMEDOUT'
  | 'CANCELED'
  | 'MAXIMUM_CONCURRENT_RUNS_REACHED'
  | 'EXCLUDED'
  | 'SUCCESS_WITH_FAILURES'
  | 'UPSTREAM_FAILED'
  | 'UPSTREAM_CANCELED'
  | 'DISABLED';

export type LifeCycleState =
  | 'QUEUED'
  | 'PENDING'
  | 'RUNNING'
  | 'TERMINATING'
  | 'TERMINATED'
  | 'SKIPPED'
  | 'INTERNAL_ERROR'
  | 'BLOCKED'
  | 'WAITING_FOR_RETRY';

/** How a task run ends, scripted per notebook path (or 'task:<task_key>'). */
export interface RunOutcome {
  /** Default SUCCESS. */
  resultState?: ResultState;
  /** Time spent RUNNING. Default: the workspace's defaultDurationMs. */
  durationMs?: number;
  /** Time spent PENDING before RUNNING (cluster setup). Default: the workspace's pendingMs. */
  pendingMs?: number;
  /** The value the notebook passed to dbutils.notebook.exit(). */
  exitValue?: string;
  /** get-output error and error_trace of a failed task. */
  error?: string;
  errorTrace?: string;
  /** The task's state_message when it ends (default depends on the result). */
  stateMessage?: string;
  /** Final life_cycle_state of the task: TERMINATED (default), INTERNAL_ERROR or SKIPPED. */
  lifeCycle?: 'TERMINATED' | 'INTERNAL_ERROR' | 'SKIPPED';
  /** status.termination_details overrides. */
  terminationCode?: string;
  terminationType?: string;
}

export interface JobsSettings {
  pendingMs: number;
  defaultDurationMs: number;
  cancelMs: number;
  newClusterMs: number;
  /** Cap on notebook_output.result (5 MB). */
  outputLimitBytes: number;
  /** 'fail-run' (real: the run fails "Unable to access the notebook") or 'reject' (400 at submit). */
  missingNotebook: 'fail-run' | 'reject';
  /** get-output with the parent id of a single-task run: 'error' (documented for 2.1+) or 'task'. */
  singleTaskParentOutput: 'error' | 'task';
  /** runs/cancel of a finished run: 'noop' (200, assumed) or 'error' (400 INVALID_STATE). [unverified] */
  cancelTerminatedRun: 'noop' | 'error';
}

export interface TaskRun {
  run_id: number;
  task_key: string;
  /** The task as submitted (normalised: notebook_task.source defaults to WORKSPACE). */
  spec: Record<string, unknown>;
  notebookPath?: string;
  dependsOn: string[];
  outcome: RunOutcome;
  clusterId?: string;
  /** When the task's compute is RUNNING (existing cluster), fixed at submit. */
  clusterReadyAt?: number;
  /** Set when the task cannot run at all (missing notebook, broken cluster). */
  failure?: { lifeCycle: LifeCycleState; message: string; code: string; type: string };
}

export interface RunRecord {
  run_id: number;
  job_id: number;
  run_name: string;
  run_type: 'SUBMIT_RUN' | 'JOB_RUN';
  creator_user_name: string;
  submittedAt: number;
  timeoutSeconds: number;
  apiVersion: string;
  idempotencyToken?: string;
  /** Submit (or run-now) requests that resolved to this run, including idempotent repeats. */
  submitRequests: number;
  /** Times of runs/cancel requests for this run (also no-op ones). */
  cancelRequests: number[];
  cancelAt?: number;
  tasks: TaskRun[];
  /** The request body as received. */
  request: Record<string, unknown>;
  trigger: string;
  overridingParameters?: Record<string, unknown>;
}

export interface JobRecord {
  job_id: number;
  created_time: number;
  creator_user_name: string;
  settings: Record<string, unknown>;
}

interface TaskTimeline {
  task: TaskRun;
  readyAt: number;
  startAt: number;
  endAt: number;
  terminatingFrom?: number;
  result: ResultState;
  finalLife: LifeCycleState;
  message: string;
  code: string;
  type: string;
  userCancelledOrTimedOut: boolean;
}

interface Lookup {
  nextId(): number;
  cluster(id: string): Cluster | undefined;
  notebookExists(path: string): boolean;
  canonicalNotebookPath(path: string): string;
  outcomeFor(task: { task_key: string; notebookPath?: string }): RunOutcome;
  settings(): JobsSettings;
  runPageUrl(jobId: number, runId: number): string;
}

const TASK_FAILED = 'Workload failed, see run output for details';
const MAX_TOKEN = 64;
const TASK_PAGE = 100;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export class JobsState {
  readonly runs = new Map<number, RunRecord>();
  readonly jobs = new Map<number, JobRecord>();
  /** task run id → parent run id */
  private readonly taskIndex = new Map<number, number>();
  private readonly idempotency = new Map<string, number>();

  constructor(private readonly env: Lookup) {}

  reset(): void {
    this.runs.clear();
    this.jobs.clear();
    this.taskIndex.clear();
    this.idempotency.clear();
  }

  // ---- submit / run-now / jobs -----------------------------------------------------------

  submit(body: unknown, user: string, apiVersion: string): { run_id: number } {
    if (!isObject(body))
      throw new ApiError(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request.');
    const token = this.checkToken(body.idempotency_token);
    if (token !== undefined) {
      const existing = this.idempotency.get(token);
      if (existing !== undefined) {
        (this.runs.get(existing) as RunRecord).submitRequests++;
        return { run_id: existing };
      }
    }
    const tasks = this.validateTasks(body.tasks, true);
    const runName = typeof body.run_name === 'string' && body.run_name ? body.run_name : 'Untitled';
    const jobId = this.env.nextId();
    const run = this.createRun({
      jobId,
      runName,
      runType: 'SUBMIT_RUN',
      user,
      apiVersion,
      tasks,
      body,
      timeoutSeconds: Number(body.timeout_seconds ?? 0) || 0,
      token,
    });
    return { run_id: run.run_id };
  }

  createJob(body: unknown, user: string): { job_id: number } {
    if (!isObject(body))
      throw new ApiError(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request.');
    this.validateTasks(body.tasks ?? [], false);
    const job_id = this.env.nextId();
    const settings = { name: 'Untitled', ...body } as Record<string, unknown>;
    this.jobs.set(job_id, { job_id, created_time: Date.now(), creator_user_name: user, settings });
    return { job_id };
  }

  getJob(jobIdRaw: unknown, apiVersion: string, pageToken?: string): Record<string, unknown> {
    const job = this.requireJob(jobIdRaw);
    const settings = { ...job.settings };
    const tasks = Array.isArray(settings.tasks) ? (settings.tasks as unknown[]) : [];
    const out: Record<string, unknown> = {
      job_id: job.job_id,
      creator_user_name: job.creator_user_name,
      run_as_user_name: job.creator_user_name,
      created_time: job.created_time,
      settings,
    };
    if (apiVersion === '2.2' && tasks.length > TASK_PAGE) {
      const offset = pageOffset(pageToken);
      settings.tasks = tasks.slice(offset, offset + TASK_PAGE);
      if (offset + TASK_PAGE < tasks.length) {
        out.has_more = true;
        out.next_page_token = String(offset + TASK_PAGE);
      }
    }
    return out;
  }

  listJobs(): Record<string, unknown> {
    const jobs = [...this.jobs.values()]
      .sort((a, b) => a.job_id - b.job_id)
      .map((j) => ({
        job_id: j.job_id,
        creator_user_name: j.creator_user_name,
        created_time: j.created_time,
        settings: { name: j.settings.name },
      }));
    return jobs.length ? { jobs, has_more: false } : { has_more: false };
  }

  deleteJob(jobIdRaw: unknown): void {
    const job = this.requireJob(jobIdRaw);
    this.jobs.delete(job.job_id);
  }

  runNow(body: unknown, user: string, apiVersion: string): { run_id: number; number_in_job: number } {
    if (!isObject(body))
      throw new ApiError(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request.');
    const job = this.requireJob(body.job_id);
    const token = this.checkToken(body.idempotency_token);
    if (token !== undefined) {
      const existing = this.idempotency.get(token);
      if (existing !== undefined) {
        (this.runs.get(existing) as RunRecord).submitRequests++;
        return { run_id: existing, number_in_job: existing };
      }
    }
    const notebookParams = isObject(body.notebook_params) ? body.notebook_params : undefined;
    const jobParams = isObject(body.job_parameters) ? body.job_parameters : undefined;
    const specs = (Array.isArray(job.settings.tasks) ? job.settings.tasks : []).map((t) => {
      const task = { ...(t as Record<string, unknown>) };
      if (isObject(task.notebook_task) && (notebookParams || jobParams)) {
        const nt = { ...task.notebook_task };
        nt.base_parameters = {
          ...(isObject(nt.base_parameters) ? nt.base_parameters : {}),
          ...(jobParams ?? {}),
          ...(notebookParams ?? {}),
        };
        task.notebook_task = nt;
      }
      return task;
    });
    const tasks = this.validateTasks(specs, true);
    const overriding: Record<string, unknown> = {};
    if (notebookParams) overriding.notebook_params = notebookParams;
    const run = this.createRun({
      jobId: job.job_id,
      runName: String(job.settings.name ?? 'Untitled'),
      runType: 'JOB_RUN',
      user,
      apiVersion,
      tasks,
      body,
      timeoutSeconds: Number(job.settings.timeout_seconds ?? 0) || 0,
      token,
      overriding: Object.keys(overriding).length ? overriding : undefined,
    });
    return { run_id: run.run_id, number_in_job: run.run_id };
  }

  // ---- reads --------------------------------------------------------------------------

  /** runs/get for a run id or a task run id. */
  getRun(
    runIdRaw: unknown,
    apiVersion: string,
    pageToken?: string,
    now = Date.now(),
  ): Record<string, unknown> {
    const id = parseRunId(runIdRaw);
    const run = this.runs.get(id);
    if (run) return this.runJson(run, now, { apiVersion, pageToken, withTasks: true });
    const parent = this.taskIndex.get(id);
    if (parent !== undefined) {
      const p = this.runs.get(parent) as RunRecord;
      const tl = this.timeline(p).find((t) => t.task.run_id === id) as TaskTimeline;
      return this.taskAsRun(p, tl, now);
    }
    throw runMissing(id);
  }

  getOutput(runIdRaw: unknown, now = Date.now()): Record<string, unknown> {
    const id = parseRunId(runIdRaw);
    const run = this.runs.get(id);
    let parent: RunRecord;
    let tl: TaskTimeline;
    if (run) {
      if (run.tasks.length !== 1 || this.env.settings().singleTaskParentOutput === 'error') {
        throw invalidParam(
          'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
        );
      }
      parent = run;
      tl = this.timeline(run)[0];
    } else {
      const p = this.taskIndex.get(id);
      if (p === undefined) throw runMissing(id);
      parent = this.runs.get(p) as RunRecord;
      tl = this.timeline(parent).find((t) => t.task.run_id === id) as TaskTimeline;
    }
    const out: Record<string, unknown> = { metadata: this.taskAsRun(parent, tl, now) };
    const done = now >= tl.endAt;
    if (tl.task.notebookPath !== undefined) {
      const exit = tl.task.outcome.exitValue;
      if (done && tl.result === 'SUCCESS' && exit !== undefined) {
        const limit = this.env.settings().outputLimitBytes;
        const buf = Buffer.from(exit, 'utf8');
        out.notebook_output =
          buf.length > limit
            ? { result: buf.subarray(0, limit).toString('utf8'), truncated: true }
            : { result: exit, truncated: false };
      } else {
        out.notebook_output = {};
      }
    }
    if (done && tl.result !== 'SUCCESS' && tl.result !== 'UPSTREAM_FAILED') {
      out.error = tl.task.failure?.message ?? tl.task.outcome.error ?? tl.message;
      if (tl.task.outcome.errorTrace !== undefined && !tl.task.failure)
        out.error_trace = tl.task.outcome.errorTrace;
    }
    return out;
  }

  cancel(body: unknown, now = Date.now()): void {
    const raw = isObject(body) ? body.run_id : undefined;
    const id = parseRunId(raw);
    let run = this.runs.get(id);
    if (!run) {
      const p = this.taskIndex.get(id);
      if (p === undefined) throw runMissing(id);
      run = this.runs.get(p) as RunRecord;
    }
    run.cancelRequests.push(now);
    const finished = this.timeline(run).every((t) => now >= t.endAt);
    if (finished) {
      if (this.env.settings().cancelTerminatedRun === 'error') {
        throw new ApiError(400, 'INVALID_STATE', `Run ${id} is already in a terminal state.`);
      }
      return;
    }
    if (run.cancelAt === undefined) run.cancelAt = now;
  }

  list(q: URLSearchParams, apiVersion: string, now = Date.now()): Record<string, unknown> {
    const activeOnly = q.get('active_only') === 'true';
    const completedOnly = q.get('completed_only') === 'true';
    if (activeOnly && completedOnly) {
      throw invalidParam('active_only and completed_only cannot both be true.');
    }
    const limitRaw = q.get('limit');
    const limit = limitRaw === null ? 20 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 25) {
      throw invalidParam(`Invalid limit ${limitRaw}: it must be between 1 and 25.`);
    }
    const pageToken = q.get('page_token');
    const offset = pageToken ? pageOffset(pageToken) : Number(q.get('offset') ?? 0) || 0;
    const jobId = q.get('job_id');
    const runType = q.get('run_type');
    const from = Number(q.get('start_time_from') ?? 0) || 0;
    const to = Number(q.get('start_time_to') ?? 0) || 0;
    const expand = q.get('expand_tasks') === 'true';
    const all = [...this.runs.values()]
      .filter((r) => !jobId || String(r.job_id) === jobId)
      .filter((r) => !runType || r.run_type === runType)
      .filter((r) => (!from || r.submittedAt >= from) && (!to || r.submittedAt <= to))
      .filter((r) => {
        if (!activeOnly && !completedOnly) return true;
        const done = this.timeline(r).every((t) => now >= t.endAt);
        return activeOnly ? !done : done;
      })
      .sort((a, b) => b.submittedAt - a.submittedAt || b.run_id - a.run_id);
    const page = all.slice(offset, offset + limit);
    const out: Record<string, unknown> = {};
    if (page.length) out.runs = page.map((r) => this.runJson(r, now, { apiVersion, withTasks: expand }));
    out.has_more = offset + limit < all.length;
    if (offset + limit < all.length) out.next_page_token = String(offset + limit);
    if (offset > 0) out.prev_page_token = String(Math.max(0, offset - limit));
    return out;
  }

  /** The current run-level state without building the whole response. */
  state(run: RunRecord, now = Date.now()): { life_cycle_state: LifeCycleState; result_state?: ResultState } {
    const j = this.runJson(run, now, { apiVersion: '2.1', withTasks: false });
    return j.state as { life_cycle_state: LifeCycleState; result_state?: ResultState };
  }

  // ---- internals --------------------------------------------------------------------------

  private checkToken(v: unknown): string | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw invalidParam('idempotency_token must be a string.');
    if (v.length > MAX_TOKEN) {
      throw invalidParam(`idempotency_token must be at most ${MAX_TOKEN} characters long (got ${v.length}).`);
    }
    return v;
  }

  private requireJob(raw: unknown): JobRecord {
    if (raw === undefined || raw === null || raw === '') throw invalidParam('Missing required field: job_id');
    const id = Number(raw);
    const job = Number.isFinite(id) ? this.jobs.get(id) : undefined;
    if (!job) throw invalidParam(`Job ${String(raw)} does not exist.`);
    return job;
  }

  /** Validates submitted tasks; with `forRun`, resolves compute and notebooks. */
  private validateTasks(raw: unknown, forRun: boolean): Omit<TaskRun, 'run_id'>[] {
    if (!Array.isArray(raw) || raw.length === 0) {
      if (!forRun) return [];
      throw invalidParam('At least one task is required: tasks must be a non-empty array.');
    }
    const keys = new Set<string>();
    const out: Omit<TaskRun, 'run_id'>[] = [];
    for (const t of raw) {
      if (!isObject(t)) throw invalidParam('Each task must be an object.');
      const key = t.task_key;
      if (typeof key !== 'string' || key === '') throw invalidParam('Missing required field: task_key');
      if (!/^[\w-]{1,100}$/.test(key)) {
        throw invalidParam(
          `Invalid task_key ${key}: it must match ^[\\w\\-]+$ and be at most 100 characters.`,
        );
      }
      if (keys.has(key))
        throw invalidParam(`Task key ${key} is not unique: task keys must be unique within a run.`);
      keys.add(key);
    }
    for (const t of raw as Record<string, unknown>[]) {
      const key = t.task_key as string;
      const deps = Array.isArray(t.depends_on)
        ? (t.depends_on as unknown[]).map((d) => (isObject(d) ? String(d.task_key) : String(d)))
        : [];
      for (const d of deps) {
        if (!keys.has(d)) throw invalidParam(`Task ${key} depends on ${d}, which is not a task of this run.`);
      }
      const computes = ['existing_cluster_id', 'new_cluster', 'job_cluster_key'].filter(
        (f) => t[f] !== undefined,
      );
      if (computes.length > 1) {
        throw invalidParam(
          `Task ${key} sets ${computes.join(' and ')}: set at most one of existing_cluster_id, new_cluster and job_cluster_key (none for serverless).`,
        );
      }
      const spec: Record<string, unknown> = { ...t };
      let notebookPath: string | undefined;
      if (t.notebook_task !== undefined) {
        if (!isObject(t.notebook_task)) throw invalidParam(`Task ${key}: notebook_task must be an object.`);
        const nt: Record<string, unknown> = { ...t.notebook_task };
        if (typeof nt.notebook_path !== 'string' || !nt.notebook_path) {
          throw invalidParam('Missing required field: notebook_task.notebook_path');
        }
        const source = nt.source ?? 'WORKSPACE';
        if (source === 'WORKSPACE' && !nt.notebook_path.startsWith('/')) {
          throw invalidParam(
            `Invalid notebook_path: ${nt.notebook_path}. Only absolute paths are currently supported. Paths must begin with '/'.`,
          );
        }
        if (nt.base_parameters !== undefined) {
          if (!isObject(nt.base_parameters))
            throw invalidParam(`Task ${key}: base_parameters must be an object.`);
          for (const [k, v] of Object.entries(nt.base_parameters)) {
            if (typeof v !== 'string') {
              throw invalidParam(
                `Task ${key}: the value of base_parameters.${k} must be a string (got ${typeof v}).`,
              );
            }
          }
        }
        nt.source = source;
        spec.notebook_task = nt;
        notebookPath = nt.notebook_path;
      }
      const task: Omit<TaskRun, 'run_id'> = {
        task_key: key,
        spec,
        notebookPath,
        dependsOn: deps,
        outcome: {},
        clusterId: typeof t.existing_cluster_id === 'string' ? t.existing_cluster_id : undefined,
      };
      if (forRun) this.resolveTask(task, t);
      out.push(task);
    }
    return out;
  }

  private resolveTask(task: Omit<TaskRun, 'run_id'>, t: Record<string, unknown>): void {
    if (t.existing_cluster_id !== undefined) {
      const id = String(t.existing_cluster_id);
      if (!this.env.cluster(id)) throw clusterMissing(id);
    }
    const settings = this.env.settings();
    if (
      task.notebookPath !== undefined &&
      (task.spec.notebook_task as Record<string, unknown>).source === 'WORKSPACE'
    ) {
      const exists = this.env.notebookExists(task.notebookPath);
      const message = `Unable to access the notebook "${task.notebookPath}". Either it does not exist, or the identity used to run this job lacks the required permissions.`;
      if (!exists) {
        if (settings.missingNotebook === 'reject') throw invalidParam(message);
        task.failure = {
          lifeCycle: 'INTERNAL_ERROR',
          message,
          code: 'RESOURCE_NOT_FOUND',
          type: 'CLIENT_ERROR',
        };
      }
    }
    task.outcome = this.env.outcomeFor({
      task_key: task.task_key,
      notebookPath:
        task.notebookPath === undefined ? undefined : this.env.canonicalNotebookPath(task.notebookPath),
    });
  }

  private createRun(a: {
    jobId: number;
    runName: string;
    runType: 'SUBMIT_RUN' | 'JOB_RUN';
    user: string;
    apiVersion: string;
    tasks: Omit<TaskRun, 'run_id'>[];
    body: Record<string, unknown>;
    timeoutSeconds: number;
    token?: string;
    overriding?: Record<string, unknown>;
  }): RunRecord {
    const now = Date.now();
    const run: RunRecord = {
      run_id: this.env.nextId(),
      job_id: a.jobId,
      run_name: a.runName,
      run_type: a.runType,
      creator_user_name: a.user,
      submittedAt: now,
      timeoutSeconds: a.timeoutSeconds,
      apiVersion: a.apiVersion,
      idempotencyToken: a.token,
      submitRequests: 1,
      cancelRequests: [],
      tasks: [],
      request: a.body,
      trigger: 'ONE_TIME',
      overridingParameters: a.overriding,
    };
    for (const t of a.tasks) {
      const task: TaskRun = { ...t, run_id: this.env.nextId() };
      if (task.clusterId !== undefined && !task.failure) {
        const c = this.env.cluster(task.clusterId) as Cluster;
        c.ensureStarting(now);
        task.clusterReadyAt = c.runningAt(now);
        if (task.clusterReadyAt === undefined) {
          task.failure = {
            lifeCycle: 'INTERNAL_ERROR',
            message: `Cluster ${task.clusterId} is in unexpected state ${c.state}.`,
            code: 'CLUSTER_ERROR',
            type: 'CLOUD_FAILURE',
          };
        }
      }
      run.tasks.push(task);
      this.taskIndex.set(task.run_id, run.run_id);
    }
    this.runs.set(run.run_id, run);
    if (a.token !== undefined) this.idempotency.set(a.token, run.run_id);
    return run;
  }

  /** Start and end of every task, with cancellation and timeouts applied. */
  timeline(run: RunRecord): TaskTimeline[] {
    const s = this.env.settings();
    const byKey = new Map<string, TaskTimeline>();
    const pending = [...run.tasks];
    const ordered: TaskTimeline[] = [];
    // Topological order; validateTasks ensured every dependency exists (cycles fall through below).
    while (pending.length) {
      const idx = pending.findIndex((t) => t.dependsOn.every((d) => byKey.has(d)));
      const task = pending.splice(idx < 0 ? 0 : idx, 1)[0];
      const deps = task.dependsOn.map((d) => byKey.get(d)).filter((d): d is TaskTimeline => !!d);
      const readyAt = Math.max(run.submittedAt, ...deps.map((d) => d.endAt));
      let tl: TaskTimeline;
      const failedDep = deps.find((d) => d.result !== 'SUCCESS');
      if (failedDep) {
        tl = {
          task,
          readyAt,
          startAt: readyAt,
          endAt: readyAt,
          result: failedDep.result === 'CANCELED' ? 'UPSTREAM_CANCELED' : 'UPSTREAM_FAILED',
          finalLife: 'TERMINATED',
          message: 'Upstream task(s) failed.',
          code: 'SKIPPED',
          type: 'SUCCESS',
          userCancelledOrTimedOut: false,
        };
      } else {
        const o = task.outcome;
        const setup =
          (o.pendingMs ?? s.pendingMs) + (task.spec.new_cluster !== undefined ? s.newClusterMs : 0);
        const startAt = Math.max(readyAt + setup, task.clusterReadyAt ?? 0);
        if (task.failure) {
          tl = {
            task,
            readyAt,
            startAt,
            endAt: startAt,
            result: 'FAILED',
            finalLife: task.failure.lifeCycle,
            message: task.failure.message,
            code: task.failure.code,
            type: task.failure.type,
            userCancelledOrTimedOut: false,
          };
        } else {
          const duration = o.durationMs ?? s.defaultDurationMs;
          const timeout = Number(task.spec.timeout_seconds ?? 0) || 0;
          if (timeout > 0 && duration > timeout * 1000) {
            tl = timedOut(task, readyAt, startAt, startAt + timeout * 1000);
          } else {
            tl = finished(task, readyAt, startAt, startAt + duration);
          }
        }
      }
      byKey.set(task.task_key, tl);
      ordered.push(tl);
    }
    if (run.timeoutSeconds > 0) {
      const deadline = run.submittedAt + run.timeoutSeconds * 1000;
      for (let i = 0; i < ordered.length; i++) {
        if (ordered[i].endAt > deadline)
          ordered[i] = timedOut(ordered[i].task, ordered[i].readyAt, ordered[i].startAt, deadline);
      }
    }
    if (run.cancelAt !== undefined) {
      const c = run.cancelAt;
      for (const tl of ordered) {
        if (tl.endAt > c) {
          tl.terminatingFrom = c;
          tl.endAt = c + s.cancelMs;
          tl.result = 'CANCELED';
          tl.finalLife = 'TERMINATED';
          tl.message = 'Run cancelled.';
          tl.code = 'USER_CANCELED';
          tl.type = 'SUCCESS';
          tl.userCancelledOrTimedOut = true;
        }
      }
    }
    // Keep the submitted order in responses.
    return run.tasks.map((t) => ordered.find((o) => o.task === t) as TaskTimeline);
  }

  private taskState(
    tl: TaskTimeline,
    now: number,
  ): { state: Record<string, unknown>; status: Record<string, unknown> } {
    if (now >= tl.endAt) {
      const state: Record<string, unknown> = {
        life_cycle_state: tl.finalLife,
        result_state: tl.result,
        state_message: tl.message,
        user_cancelled_or_timedout: tl.userCancelledOrTimedOut,
      };
      return {
        state,
        status: {
          state: 'TERMINATED',
          termination_details: {
            code:
              tl.task.outcome.terminationCode && !tl.task.failure ? tl.task.outcome.terminationCode : tl.code,
            type:
              tl.task.outcome.terminationType && !tl.task.failure ? tl.task.outcome.terminationType : tl.type,
            message: tl.message,
          },
        },
      };
    }
    let life: LifeCycleState;
    let message = '';
    if (tl.terminatingFrom !== undefined && now >= tl.terminatingFrom) {
      life = 'TERMINATING';
    } else if (now >= tl.startAt) {
      life = 'RUNNING';
      message = 'In run';
    } else {
      life = 'PENDING';
      message = tl.task.clusterId !== undefined ? 'Waiting for cluster' : '';
    }
    return {
      state: { life_cycle_state: life, state_message: message, user_cancelled_or_timedout: false },
      status: { state: life },
    };
  }

  private taskJson(run: RunRecord, tl: TaskTimeline, now: number): Record<string, unknown> {
    const t = tl.task;
    const { state, status } = this.taskState(tl, now);
    const started = now >= tl.startAt && !t.failure;
    const done = now >= tl.endAt;
    const out: Record<string, unknown> = {
      ...t.spec,
      run_id: t.run_id,
      task_key: t.task_key,
      run_if: t.spec.run_if ?? 'ALL_SUCCESS',
      timeout_seconds: t.spec.timeout_seconds ?? 0,
      state,
      status,
      run_page_url: this.env.runPageUrl(run.job_id, t.run_id),
      start_time: tl.readyAt,
      setup_duration: Math.min(now, tl.startAt) - tl.readyAt,
      execution_duration: started ? Math.max(0, Math.min(now, tl.endAt) - tl.startAt) : 0,
      cleanup_duration: 0,
      end_time: done ? tl.endAt : 0,
      attempt_number: 0,
    };
    if (t.dependsOn.length) out.depends_on = t.dependsOn.map((k) => ({ task_key: k }));
    if (started) {
      const clusterId = t.clusterId ?? generatedClusterId(run.submittedAt, t.run_id);
      out.cluster_instance = {
        cluster_id: clusterId,
        spark_context_id: sparkContextId(clusterId, tl.startAt),
      };
    }
    return out;
  }

  private taskAsRun(run: RunRecord, tl: TaskTimeline, now: number): Record<string, unknown> {
    const task = this.taskJson(run, tl, now);
    const { run_if: _r, depends_on: _d, ...rest } = task;
    return {
      ...rest,
      job_id: run.job_id,
      parent_run_id: run.run_id,
      number_in_job: tl.task.run_id,
      original_attempt_run_id: tl.task.run_id,
      creator_user_name: run.creator_user_name,
      run_name: run.run_name,
      run_type: run.run_type,
      run_duration: now >= tl.endAt ? tl.endAt - tl.readyAt : 0,
      format: 'MULTI_TASK',
    };
  }

  private runJson(
    run: RunRecord,
    now: number,
    opts: { apiVersion: string; pageToken?: string; withTasks: boolean },
  ): Record<string, unknown> {
    const tls = this.timeline(run);
    const tasks = tls.map((tl) => ({ tl, ...this.taskState(tl, now) }));
    const allDone = tls.every((tl) => now >= tl.endAt);
    let state: Record<string, unknown>;
    let status: Record<string, unknown>;
    if (allDone) {
      ({ state, status } = rollUp(tls));
    } else {
      const lives = tasks.map((t) => t.state.life_cycle_state);
      const life: LifeCycleState =
        run.cancelAt !== undefined && now >= run.cancelAt
          ? 'TERMINATING'
          : lives.some((l) => l !== 'PENDING')
            ? 'RUNNING'
            : 'PENDING';
      state = {
        life_cycle_state: life,
        state_message: life === 'RUNNING' ? 'In run' : '',
        user_cancelled_or_timedout: false,
      };
      status = { state: life };
    }
    const endAt = Math.max(...tls.map((t) => t.endAt));
    const out: Record<string, unknown> = {
      job_id: run.job_id,
      run_id: run.run_id,
      creator_user_name: run.creator_user_name,
      number_in_job: run.run_id,
      original_attempt_run_id: run.run_id,
      state,
      status,
      start_time: run.submittedAt,
      setup_duration: 0,
      execution_duration: 0,
      cleanup_duration: 0,
      end_time: allDone ? endAt : 0,
      run_duration: allDone ? endAt - run.submittedAt : 0,
      queue_duration: 0,
      trigger: run.trigger,
      run_name: run.run_name,
      run_page_url: this.env.runPageUrl(run.job_id, run.run_id),
      run_type: run.run_type,
      format: 'MULTI_TASK',
      attempt_number: 0,
    };
    if (run.overridingParameters) out.overriding_parameters = run.overridingParameters;
    if (run.run_type === 'JOB_RUN') out.job_parameters = [];
    if (opts.withTasks) {
      let list = tls;
      if (opts.apiVersion === '2.2' && tls.length > TASK_PAGE) {
        const offset = pageOffset(opts.pageToken);
        list = tls.slice(offset, offset + TASK_PAGE);
        if (offset + TASK_PAGE < tls.length) {
          out.has_more = true;
          out.next_page_token = String(offset + TASK_PAGE);
        }
      }
      out.tasks = list.map((tl) => this.taskJson(run, tl, now));
      if (tls.length === 1 && (out.tasks as Record<string, unknown>[])[0]?.cluster_instance) {
        out.cluster_instance = (out.tasks as Record<string, unknown>[])[0].cluster_instance;
      }
    }
    return out;
  }
}

function finished(task: TaskRun, readyAt: number, startAt: number, endAt: number): TaskTimeline {
  const o = task.outcome;
  const result = o.resultState ?? 'SUCCESS';
  const life: LifeCycleState = o.lifeCycle ?? 'TERMINATED';
  let message: string;
  let code = 'SUCCESS';
  let type = 'SUCCESS';
  if (life === 'INTERNAL_ERROR') {
    message = o.stateMessage ?? 'An internal error occurred while running the task.';
    code = 'INTERNAL_ERROR';
    type = 'INTERNAL_ERROR';
  } else if (life === 'SKIPPED') {
    message = o.stateMessage ?? 'The task was skipped.';
    code = 'SKIPPED';
  } else if (result === 'SUCCESS') {
    message = o.stateMessage ?? '';
  } else if (result === 'CANCELED') {
    message = o.stateMessage ?? 'Run cancelled.';
    code = 'CANCELED';
  } else if (result === 'TIMEDOUT') {
    message = o.stateMessage ?? 'Run timed out.';
    code = 'CANCELED';
    type = 'CLIENT_ERROR';
  } else {
    message = o.stateMessage ?? TASK_FAILED;
    code = 'RUN_EXECUTION_ERROR';
    type = 'CLIENT_ERROR';
  }
  return {
    task,
    readyAt,
    startAt,
    endAt,
    result,
    finalLife: life,
    message,
    code,
    type,
    userCancelledOrTimedOut: result === 'CANCELED' || result === 'TIMEDOUT',
  };
}

function timedOut(task: TaskRun, readyAt: number, startAt: number, endAt: number): TaskTimeline {
  return {
    task,
    readyAt,
    startAt: Math.min(startAt, endAt),
    endAt,
    result: 'TIMEDOUT',
    finalLife: 'TERMINATED',
    message: 'Run timed out.',
    code: 'CANCELED',
    type: 'CLIENT_ERROR',
    userCancelledOrTimedOut: true,
  };
}

/**
 * Run-level state of a finished run, as cli libs/testserver models it: a failed
 * task makes the run INTERNAL_ERROR/FAILED with "Task <key> failed with message: …".
 */
function rollUp(tls: TaskTimeline[]): { state: Record<string, unknown>; status: Record<string, unknown> } {
  const culprit =
    tls.find((t) => t.result === 'CANCELED') ??
    tls.find((t) => t.result === 'TIMEDOUT') ??
    tls.find(
      (t) => t.result !== 'SUCCESS' && t.result !== 'UPSTREAM_FAILED' && t.result !== 'UPSTREAM_CANCELED',
    );
  if (!culprit) {
    return {
      state: {
        life_cycle_state: 'TERMINATED',
        result_state: 'SUCCESS',
        state_message: '',
        user_cancelled_or_timedout: false,
      },
      status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS', message: '' } },
    };
  }
  if (culprit.result === 'CANCELED' || culprit.result === 'TIMEDOUT') {
    return {
      state: {
        life_cycle_state: 'TERMINATED',
        result_state: culprit.result,
        state_message: culprit.message,
        user_cancelled_or_timedout: culprit.userCancelledOrTimedOut,
      },
      status: {
        state: 'TERMINATED',
        termination_details: { code: culprit.code, type: culprit.type, message: culprit.message },
      },
    };
  }
  if (culprit.finalLife === 'SKIPPED') {
    return {
      state: {
        life_cycle_state: 'SKIPPED',
        result_state: culprit.result,
        state_message: culprit.message,
        user_cancelled_or_timedout: false,
      },
      status: {
        state: 'TERMINATED',
        termination_details: { code: 'SKIPPED', type: 'SUCCESS', message: culprit.message },
      },
    };
  }
  const message = `Task ${culprit.task.task_key} failed with message: ${culprit.message.replace(/\.$/, '')}.`;
  return {
    state: {
      life_cycle_state: 'INTERNAL_ERROR',
      result_state: culprit.result,
      state_message: message,
      user_cancelled_or_timedout: false,
    },
    status: {
      state: 'TERMINATED',
      termination_details: {
        code: culprit.code === 'SUCCESS' ? 'RUN_EXECUTION_ERROR' : culprit.code,
        type: culprit.type === 'SUCCESS' ? 'CLIENT_ERROR' : culprit.type,
        message,
      },
    },
  };
}

function parseRunId(raw: unknown): number {
  if (raw === undefined || raw === null || raw === '') throw invalidParam('Missing required field: run_id');
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw invalidParam(`Invalid run_id: ${String(raw)}`);
  return n;
}

function runMissing(id: number): ApiError {
  return invalidParam(`Run ${id} does not exist`);
}

function pageOffset(token: string | undefined | null): number {
  if (!token) return 0;
  const n = Number(token);
  if (!Number.isInteger(n) || n < 0) throw invalidParam(`Invalid page_token: ${token}`);
  return n;
}

/** Job-cluster ids look like 0923-164208-meows279. */
function generatedClusterId(at: number, runId: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  const suffix = (runId % 0xffffffff).toString(36).padStart(8, 'x').slice(-8);
  return `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}-${suffix}`;
}
