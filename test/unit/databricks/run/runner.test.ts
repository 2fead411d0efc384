import * as assert from 'node:assert/strict';
import { MemoryLogger } from '../../../../src/common/logger';
import { AbortError } from '../../../../src/common/sleep';
import type { Run, RunOutput } from '../../../../src/databricks/jobs-client';
import type { Clock } from '../../../../src/databricks/run/clock';
import { RunTimeoutError, runNotebooks, type JobsApi } from '../../../../src/databricks/run/runner';
import { buildSubmitSpec } from '../../../../src/databricks/run/submit-spec';
import { HttpError } from '../../../../src/http/errors';

/** Virtual time: sleeping advances the clock at once. */
class FakeClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortError();
    this.t += ms;
    await Promise.resolve();
    if (signal?.aborted) throw new AbortError();
  }
}

interface Script {
  pendingMs: number;
  /** Per task key: how long it runs and how it ends. */
  tasks: Record<string, { runMs: number; result: string; exit?: string; error?: string; trace?: string }>;
  latencyMs: number;
}

/** A Jobs API whose runs progress with the fake clock. */
class FakeJobs implements JobsApi {
  calls: string[] = [];
  submittedAt?: number;
  cancelledAt?: number;
  runId = 77;
  getFailures: HttpError[] = [];
  onGet?: (n: number) => void;
  lastGetAt = 0;
  tokens = new Set<string>();
  submits = 0;
  gets = 0;
  /** Runs runs/list reports (besides ours, once submitted), and the queries it got. */
  otherRuns: Run[] = [];
  listQueries: Parameters<JobsApi['listRuns']>[0][] = [];
  /** Whether an interrupted submit reached the server (the run exists) or not. */
  submitLands = true;
  /** The submit request body, to describe our run in listings. */
  submitted?: Record<string, unknown>;

  constructor(
    private readonly clock: FakeClock,
    private readonly script: Script,
    private readonly keys: string[],
  ) {}

  async submitRun(body: Record<string, unknown>, signal?: AbortSignal): Promise<number> {
    this.calls.push('submit');
    this.submits++;
    if (signal?.aborted) throw new AbortError();
    if (this.interrupt) {
      // The request went out; the pipeline is cancelled before the answer comes back.
      if (this.submitLands) this.land(body);
      this.interrupt();
      throw new AbortError();
    }
    this.land(body);
    return this.runId;
  }

  /** Set to abort the pipeline while a submit is in flight. */
  interrupt?: () => void;

  private land(body: Record<string, unknown>): void {
    this.tokens.add(String(body.idempotency_token));
    this.submitted = body;
    this.submittedAt ??= this.clock.now();
  }

  async listRuns(opts: Parameters<JobsApi['listRuns']>[0]): ReturnType<JobsApi['listRuns']> {
    this.calls.push('list');
    this.listQueries.push(opts);
    const runs = [...this.otherRuns];
    if (this.submitted) {
      const tasks = this.submitted.tasks as { task_key: string; notebook_task: { notebook_path: string } }[];
      runs.push({
        run_id: this.runId,
        run_name: String(this.submitted.run_name),
        run_type: 'SUBMIT_RUN',
        state: { life_cycle_state: 'PENDING' },
        tasks: tasks.map((t, i) => ({
          run_id: 1000 + i,
          task_key: t.task_key,
          // The service reports paths without the /Workspace prefix.
          notebook_task: { notebook_path: t.notebook_task.notebook_path.replace(/^\/Workspace/, '') },
        })),
      });
    }
    return { runs, has_more: false };
  }

  async getRun(runId: number, signal?: AbortSignal): Promise<Run> {
    if (signal?.aborted) throw new AbortError();
    this.clock.t += this.script.latencyMs;
    this.gets++;
    this.onGet?.(this.gets);
    const failure = this.getFailures.shift();
    if (failure) throw failure;
    this.calls.push('get');
    this.lastGetAt = this.clock.now();
    assert.equal(runId, this.runId);
    const elapsed = this.clock.now() - this.submittedAt!;
    const cancelled = this.cancelledAt !== undefined && this.clock.now() >= this.cancelledAt + 500;
    const tasks = this.keys.map((key, i) => {
      const spec = this.script.tasks[key];
      const end = this.script.pendingMs + spec.runMs;
      let state: Run['state'];
      if (cancelled && elapsed < end) state = { life_cycle_state: 'TERMINATED', result_state: 'CANCELED' };
      else if (elapsed < this.script.pendingMs) state = { life_cycle_state: 'PENDING' };
      else if (elapsed < end) state = { life_cycle_state: 'RUNNING' };
      else
        state = {
          life_cycle_state: 'TERMINATED',
          result_state: spec.result,
          state_message: spec.result === 'SUCCESS' ? '' : 'Workload failed',
        };
      return {
        run_id: 1000 + i,
        task_key: key,
        state,
        run_page_url: `https://ws/run/${1000 + i}`,
        start_time: this.submittedAt! + this.script.pendingMs,
        end_time: elapsed >= end ? this.submittedAt! + end : 0,
      };
    });
    const done = tasks.every((t) => t.state?.life_cycle_state === 'TERMINATED');
    const failed = tasks.some((t) => t.state?.result_state !== 'SUCCESS');
    return {
      run_id: runId,
      run_page_url: `https://ws/#job/1/run/${runId}`,
      state: done
        ? failed
          ? {
              life_cycle_state: cancelled ? 'TERMINATED' : 'INTERNAL_ERROR',
              result_state: cancelled ? 'CANCELED' : 'FAILED',
              state_message: 'Task failed',
            }
          : { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' }
        : { life_cycle_state: elapsed < this.script.pendingMs ? 'PENDING' : 'RUNNING' },
      tasks,
    };
  }

  async getRunOutput(taskRunId: number): Promise<RunOutput> {
    this.calls.push(`output ${taskRunId}`);
    assert.notEqual(taskRunId, this.runId, 'never asks for the parent run output');
    const key = this.keys[taskRunId - 1000];
    const spec = this.script.tasks[key];
    return {
      notebook_output: spec.exit !== undefined ? { result: spec.exit } : {},
      error: spec.error,
      error_trace: spec.trace,
    };
  }

  async cancelRun(runId: number, signal?: AbortSignal): Promise<void> {
    assert.equal(signal?.aborted, false, 'cancel gets a live signal');
    this.calls.push('cancel');
    assert.equal(runId, this.runId);
    this.cancelledAt = this.clock.now();
  }
}

function setup(script: Partial<Script> & Pick<Script, 'tasks'>) {
  const clock = new FakeClock();
  const keys = Object.keys(script.tasks);
  const request = buildSubmitSpec({
    notebooks: keys.map((k) => `/Shared/${k}`),
    parameters: {},
    cluster: { kind: 'serverless' },
    runName: 'r',
    idempotencyToken: 'tok',
  });
  const jobs = new FakeJobs(clock, { pendingMs: 3000, latencyMs: 200, ...script }, keys);
  const logger = new MemoryLogger();
  return { clock, jobs, logger, request };
}

describe('runNotebooks', () => {
  it('submits, follows the run to the end and reads each task output', async () => {
    const { clock, jobs, logger, request } = setup({
      tasks: {
        smoke: { runMs: 125_000, result: 'SUCCESS', exit: '{"tests":[]}' },
        model: { runMs: 60_000, result: 'SUCCESS', exit: 'ok' },
      },
    });
    const submitted: unknown[] = [];
    const out = await runNotebooks({
      jobs,
      request,
      timeoutMs: 3600_000,
      logger,
      clock,
      onSubmitted: (i) => submitted.push(i),
    });
    assert.deepEqual(submitted, [{ runId: 77, runPageUrl: 'https://ws/#job/1/run/77' }]);
    assert.equal(out.runId, 77);
    assert.equal(out.resultState, 'SUCCESS');
    assert.equal(out.timedOut, false);
    assert.deepEqual(
      out.notebooks.map((n) => [n.taskKey, n.taskRunId, n.resultState, n.result, n.durationMs]),
      [
        ['smoke', 1000, 'SUCCESS', '{"tests":[]}', 125_000],
        ['model', 1001, 'SUCCESS', 'ok', 60_000],
      ],
    );
    assert.deepEqual(jobs.calls.filter((c) => c.startsWith('output')).sort(), ['output 1000', 'output 1001']);
    // Overhead after the end stays within 2 s + 5% of the run's duration.
    const end = jobs.submittedAt! + 3000 + 125_000;
    assert.ok(
      jobs.lastGetAt - end <= 2000 + 0.05 * (end - jobs.submittedAt!),
      `overhead ${jobs.lastGetAt - end}`,
    );
    assert.ok(jobs.gets < 60, `polls: ${jobs.gets}`);
    const text = logger.text();
    assert.match(text, /Submitted run 77: https:\/\/ws\/#job\/1\/run\/77/);
    assert.match(text, /Run 77: PENDING/);
    assert.match(text, /Run 77: RUNNING/);
    assert.match(text, /model: TERMINATED SUCCESS in 1m 0s/);
    assert.match(text, /Run 77: TERMINATED SUCCESS/);
    assert.match(text, /Run 77 is still RUNNING after 2m \d+s; tasks: 1 running, 1 finished/);
    assert.ok(clock.t > 0);
  });

  it('cancels the run at the timeout and waits for Databricks to confirm', async () => {
    const { clock, jobs, logger, request } = setup({
      tasks: { slow: { runMs: 3600_000, result: 'SUCCESS' } },
    });
    const started = clock.now();
    const out = await runNotebooks({ jobs, request, timeoutMs: 120_000, logger, clock });
    assert.equal(out.timedOut, true);
    assert.equal(out.cancelConfirmed, true);
    assert.equal(out.resultState, 'CANCELED');
    assert.ok(jobs.calls.includes('cancel'));
    assert.ok(
      jobs.cancelledAt! - started >= 120_000 && jobs.cancelledAt! - started < 121_000,
      `cancelled at ${jobs.cancelledAt! - started}`,
    );
    // Outputs are still read: finished tasks keep their results, cancelled ones their error.
    assert.ok(jobs.calls.includes('output 1000'));
    assert.match(logger.text(), /timeout of 2m 0s \(timeoutMinutes\) was reached: cancelling run 77/);
  });

  it('cancels the run when the pipeline is cancelled', async () => {
    const { clock, jobs, logger, request } = setup({
      tasks: { slow: { runMs: 3600_000, result: 'SUCCESS' } },
    });
    const ac = new AbortController();
    jobs.onGet = (n) => {
      if (n === 5) ac.abort();
    };
    const out = await runNotebooks({ jobs, request, timeoutMs: 3600_000, logger, clock, signal: ac.signal });
    assert.equal(out.cancelled, true);
    assert.equal(out.timedOut, false);
    assert.ok(jobs.calls.includes('cancel'));
    assert.equal(out.cancelConfirmed, true);
    assert.match(logger.text(), /pipeline was cancelled: cancelling Databricks run 77/);
  });

  describe('cancelled while runs/submit is in flight', () => {
    function interrupted(
      notebooks: Record<string, Script['tasks'][string]> = { a: { runMs: 60_000, result: 'SUCCESS' } },
    ) {
      const t = setup({ tasks: notebooks });
      const ac = new AbortController();
      t.jobs.interrupt = () => ac.abort();
      const notified: unknown[] = [];
      const go = () =>
        runNotebooks({
          jobs: t.jobs,
          request: t.request,
          timeoutMs: 3600_000,
          logger: t.logger,
          clock: t.clock,
          signal: ac.signal,
          onSubmitted: (i) => notified.push(i),
        });
      return { ...t, go, notified };
    }

    it('finds the run by name and tasks (runs/list) and cancels it, without submitting again', async () => {
      const t = interrupted();
      // Another pipeline's run with the same name but other notebooks is left alone.
      t.jobs.otherRuns.push({
        run_id: 5,
        run_name: 'r',
        tasks: [{ run_id: 6, task_key: 'b', notebook_task: { notebook_path: '/Shared/b' } }],
      });
      const out = await t.go();
      assert.equal(out.cancelled, true);
      assert.equal(out.runId, 77);
      assert.equal(t.jobs.submits, 1, 'no second submit');
      assert.deepEqual(t.jobs.calls.slice(0, 3), ['submit', 'list', 'cancel']);
      assert.deepEqual(t.notified, [{ runId: 77 }]);
      const q = t.jobs.listQueries[0];
      assert.equal(q.runType, 'SUBMIT_RUN');
      assert.equal(q.activeOnly, true);
      assert.equal(q.expandTasks, true);
      assert.ok(q.startTimeFrom! <= t.clock.now() - 5 * 60_000 + 1000, 'allows for clock skew');
      assert.match(t.logger.text(), /cancelled while the run was being submitted: cancelling run 77/);
    });

    it('when no run appears, starts nothing and says so', async () => {
      const t = interrupted();
      t.jobs.submitLands = false;
      await assert.rejects(t.go(), (e: unknown) => e instanceof AbortError);
      assert.equal(t.jobs.submits, 1, 'no second submit');
      assert.equal(t.jobs.listQueries.length, 3, 'looked a few times for a late arrival');
      assert.ok(!t.jobs.calls.includes('cancel'));
      assert.match(t.logger.text(), /no active run named 'r' was found/);
    });

    it('when several runs match, cancels none of them', async () => {
      const t = interrupted();
      t.jobs.otherRuns.push({
        run_id: 5,
        run_name: 'r',
        tasks: [{ run_id: 6, task_key: 'a', notebook_task: { notebook_path: '/Shared/a' } }],
      });
      await assert.rejects(t.go(), (e: unknown) => e instanceof AbortError);
      assert.ok(!t.jobs.calls.includes('cancel'));
      assert.match(
        t.logger.text(),
        /Several active runs named 'r' started just now \(5, 77\); none was cancelled/,
      );
    });

    it('a submit the cancel stopped before sending needs no lookup', async () => {
      const t = setup({ tasks: { a: { runMs: 60_000, result: 'SUCCESS' } } });
      const ac = new AbortController();
      ac.abort();
      t.jobs.submitRun = async () => {
        throw new HttpError({
          method: 'POST',
          path: '/api/2.2/jobs/runs/submit',
          kind: 'aborted',
          attempts: 0,
          retryable: false,
        });
      };
      const out = await runNotebooks({
        jobs: t.jobs,
        request: t.request,
        timeoutMs: 3600_000,
        logger: t.logger,
        clock: t.clock,
        signal: ac.signal,
      });
      assert.equal(out.cancelled, true);
      assert.equal(out.runId, undefined);
      assert.deepEqual(t.jobs.calls, []);
      assert.match(t.logger.text(), /cancelled before the run was submitted; nothing was started/);
    });
  });

  it('keeps polling through transient errors, and stops on a lasting one', async () => {
    const transient = () =>
      new HttpError({
        method: 'GET',
        path: '/api/2.2/jobs/runs/get',
        kind: 'server',
        status: 503,
        attempts: 7,
        retryable: true,
      });
    const a = setup({ tasks: { a: { runMs: 20_000, result: 'SUCCESS' } } });
    a.jobs.getFailures = [];
    a.jobs.onGet = (n) => {
      if (n === 3 || n === 4) a.jobs.getFailures.push(transient());
    };
    const out = await runNotebooks({
      jobs: a.jobs,
      request: a.request,
      timeoutMs: 3600_000,
      logger: a.logger,
      clock: a.clock,
    });
    assert.equal(out.resultState, 'SUCCESS');
    assert.equal((a.logger.text().match(/Could not read the state of run 77/g) ?? []).length, 2);

    const b = setup({ tasks: { a: { runMs: 20_000, result: 'SUCCESS' } } });
    b.jobs.onGet = (n) => {
      if (n >= 2) b.jobs.getFailures.push(transient());
    };
    await assert.rejects(
      runNotebooks({
        jobs: b.jobs,
        request: b.request,
        timeoutMs: 3600_000,
        logger: b.logger,
        clock: b.clock,
        maxPollFailures: 3,
      }),
      /503/,
    );

    const c = setup({ tasks: { a: { runMs: 20_000, result: 'SUCCESS' } } });
    c.jobs.onGet = (n) => {
      if (n === 2)
        c.jobs.getFailures.push(
          new HttpError({
            method: 'GET',
            path: '/x',
            kind: 'unauthorized',
            status: 401,
            attempts: 1,
            retryable: false,
          }),
        );
    };
    await assert.rejects(
      runNotebooks({
        jobs: c.jobs,
        request: c.request,
        timeoutMs: 3600_000,
        logger: c.logger,
        clock: c.clock,
      }),
      /401/,
    );
  });

  it('reports failed notebooks with their error and trace', async () => {
    const { clock, jobs, logger, request } = setup({
      tasks: {
        bad: {
          runMs: 5000,
          result: 'FAILED',
          error: 'ValueError: nope',
          trace: 'Traceback\n  line 1\nValueError: nope',
        },
      },
    });
    const out = await runNotebooks({ jobs, request, timeoutMs: 3600_000, logger, clock });
    assert.equal(out.resultState, 'FAILED');
    assert.equal(out.lifeCycleState, 'INTERNAL_ERROR');
    assert.equal(out.notebooks[0].error, 'ValueError: nope');
    assert.match(out.notebooks[0].errorTrace ?? '', /Traceback/);
  });

  it('starts an existing cluster first, and counts that wait against the timeout', async () => {
    const { clock, jobs, logger, request } = setup({ tasks: { a: { runMs: 1000, result: 'SUCCESS' } } });
    const ensured: string[] = [];
    const clusters = {
      ensureRunning: async (id: string, o: { timeoutMs?: number }) => {
        ensured.push(`${id}:${o.timeoutMs}`);
        clock.t += 5000;
        return { cluster_id: id, state: 'RUNNING' };
      },
    };
    const out = await runNotebooks({
      jobs,
      clusters,
      existingClusterId: 'c-1',
      request,
      timeoutMs: 600_000,
      logger,
      clock,
    });
    assert.deepEqual(ensured, ['c-1:600000']);
    assert.equal(out.resultState, 'SUCCESS');

    const slow = {
      ensureRunning: async (id: string, o: { timeoutMs?: number }) => {
        clock.t += o.timeoutMs!;
        throw new Error(`Cluster ${id} did not reach RUNNING`);
      },
    };
    await assert.rejects(
      runNotebooks({
        jobs,
        clusters: slow,
        existingClusterId: 'c-1',
        request,
        timeoutMs: 60_000,
        logger,
        clock,
      }),
      (e: unknown) =>
        e instanceof RunTimeoutError && /while waiting for cluster c-1; no run was submitted/.test(e.message),
    );
  });
});
