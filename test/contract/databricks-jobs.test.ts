/**
 * Contract tests of the emulated Jobs API (2.1 and 2.2) and Clusters API (2.0 and
 * 2.1): shapes, lifecycles and errors of shared/reference/api-contracts.md section 2.
 */
import assert from 'node:assert/strict';
import { Emulator } from '../emulator/core';
import { installDatabricks, type Workspace } from '../emulator/databricks';
import { rawClient, waitFor } from './raw-client';

const PAT = 'dapi-jobs-contract-0123456789abcdef';
const NB = '/Shared/tests/smoke';
const NB2 = '/Shared/tests/model';

describe('contract: Databricks Jobs and Clusters APIs (emulator)', function () {
  let emu: Emulator;
  let ws: Workspace;
  let api: ReturnType<typeof rawClient>;

  before(async () => {
    emu = await Emulator.create({ seed: 11 });
    ws = await installDatabricks(emu).addWorkspace('jobs', {
      pendingMs: 20,
      defaultDurationMs: 120,
      cancelMs: 300,
      clusterStartMs: 250,
      newClusterMs: 30,
    });
    ws.addPat(PAT, 'runner@example.com');
    api = rawClient(ws, { bearer: PAT });
  });
  after(async () => emu.stop());
  beforeEach(() => {
    emu.reset();
    ws.addNotebook(NB, 'print("smoke")');
    ws.addNotebook(NB2, 'print("model")');
  });

  const task = (key: string, path = NB, extra: Record<string, unknown> = {}) => ({
    task_key: key,
    notebook_task: { notebook_path: path, base_parameters: { env: 'test' } },
    ...extra,
  });
  const submit = (body: Record<string, unknown>, v = '2.1') =>
    api('POST', `/api/${v}/jobs/runs/submit`, { json: body });
  const getRun = (id: number, v = '2.1', query: Record<string, string> = {}) =>
    api('GET', `/api/${v}/jobs/runs/get`, { query: { run_id: id, ...query } });
  const output = (id: number, v = '2.1') =>
    api('GET', `/api/${v}/jobs/runs/get-output`, { query: { run_id: id } });
  const terminal = (id: number, v = '2.1') =>
    waitFor(
      async () => {
        const r = await getRun(id, v);
        return ['TERMINATED', 'INTERNAL_ERROR', 'SKIPPED'].includes(r.json.state.life_cycle_state)
          ? r.json
          : undefined;
      },
      { what: `run ${id} to finish` },
    );

  describe('runs/submit and runs/get', () => {
    for (const v of ['2.1', '2.2']) {
      it(`runs a one-task notebook run PENDING → RUNNING → TERMINATED/SUCCESS (${v})`, async () => {
        ws.scriptRun(NB, { durationMs: 400, pendingMs: 150 });
        const s = await submit({ run_name: 'smoke', tasks: [task('smoke')] }, v);
        assert.equal(s.status, 200);
        assert.deepEqual(Object.keys(s.json), ['run_id']);
        const id = s.json.run_id as number;
        assert.ok(Number.isSafeInteger(id) && id > 2 ** 32);

        const first = (await getRun(id, v)).json;
        assert.equal(first.state.life_cycle_state, 'PENDING');
        assert.equal(first.state.result_state, undefined);
        assert.equal(first.status.state, 'PENDING');
        assert.equal(first.end_time, 0);
        assert.equal(first.run_type, 'SUBMIT_RUN');
        assert.equal(first.run_name, 'smoke');
        assert.equal(first.creator_user_name, 'runner@example.com');
        assert.equal(typeof first.job_id, 'number');
        assert.equal(first.run_page_url, `${ws.url}/?o=${ws.orgId}#job/${first.job_id}/run/${id}`);
        const t = first.tasks[0];
        assert.equal(t.task_key, 'smoke');
        assert.notEqual(t.run_id, id);
        assert.equal(t.notebook_task.notebook_path, NB);
        assert.equal(t.notebook_task.source, 'WORKSPACE');
        assert.equal(t.run_page_url, `${ws.url}/?o=${ws.orgId}#job/${first.job_id}/run/${t.run_id}`);

        const running = await waitFor(async () => {
          const r = (await getRun(id, v)).json;
          return r.state.life_cycle_state === 'RUNNING' ? r : undefined;
        });
        assert.equal(running.tasks[0].state.life_cycle_state, 'RUNNING');
        assert.equal(running.status.state, 'RUNNING');
        assert.equal(
          typeof running.tasks[0].cluster_instance.cluster_id,
          'string',
          'serverless compute gets an id',
        );

        const done = await terminal(id, v);
        assert.deepEqual(done.state, {
          life_cycle_state: 'TERMINATED',
          result_state: 'SUCCESS',
          state_message: '',
          user_cancelled_or_timedout: false,
        });
        assert.equal(done.status.state, 'TERMINATED');
        assert.equal(done.status.termination_details.code, 'SUCCESS');
        assert.ok(done.end_time >= done.start_time + 400);
        assert.equal(done.run_duration, done.end_time - done.start_time);
        assert.equal(done.tasks[0].state.result_state, 'SUCCESS');
        assert.ok(done.tasks[0].execution_duration >= 400);
        assert.equal(ws.run(id).apiVersion, v);
      });
    }

    it('answers 400 INVALID_PARAMETER_VALUE "Run <id> does not exist" for unknown runs', async () => {
      for (const r of [
        await getRun(42),
        await output(42),
        await api('POST', '/api/2.1/jobs/runs/cancel', { json: { run_id: 42 } }),
      ]) {
        assert.equal(r.status, 400);
        assert.deepEqual(r.json, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Run 42 does not exist' });
      }
    });

    it('validates the submitted run', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ run_name: 'x' }, /task/i],
        [{ tasks: [{ notebook_task: { notebook_path: NB } }] }, /task_key/],
        [{ tasks: [task('a'), task('a')] }, /not unique/],
        [{ tasks: [task('a', 'Shared/rel')] }, /Only absolute paths are currently supported/],
        [{ tasks: [task('a', NB, { existing_cluster_id: 'nope' })] }, /^Cluster nope does not exist$/],
        [
          { tasks: [task('a', NB, { existing_cluster_id: 'c', new_cluster: { num_workers: 1 } })] },
          /at most one/,
        ],
        [{ tasks: [task('a', NB, { depends_on: [{ task_key: 'zz' }] })] }, /depends on zz/],
        [
          { tasks: [{ task_key: 'a', notebook_task: { notebook_path: NB, base_parameters: { n: 1 } } }] },
          /must be a string/,
        ],
        [{ tasks: [task('a')], idempotency_token: 'x'.repeat(65) }, /at most 64/],
      ];
      for (const [body, message] of cases) {
        const r = await submit(body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.json.error_code, 'INVALID_PARAMETER_VALUE');
        assert.match(r.json.message, message);
      }
      assert.equal(ws.runs().length, 0);
    });

    it('fails the run when the notebook does not exist (or rejects the submit when configured)', async () => {
      const s = await submit({ tasks: [task('t', '/Shared/missing')] });
      assert.equal(s.status, 200);
      const done = await terminal(s.json.run_id);
      assert.equal(done.state.life_cycle_state, 'INTERNAL_ERROR');
      assert.equal(done.state.result_state, 'FAILED');
      assert.match(
        done.state.state_message,
        /^Task t failed with message: Unable to access the notebook "\/Shared\/missing"/,
      );
      assert.equal(done.tasks[0].status.termination_details.code, 'RESOURCE_NOT_FOUND');
      ws.configure({ missingNotebook: 'reject' });
      const r = await submit({ tasks: [task('t', '/Shared/missing')] });
      assert.equal(r.status, 400);
      assert.match(r.json.message, /Unable to access the notebook/);
    });

    it('pages tasks by 100 in 2.2 (next_page_token) and returns them all in 2.1', async () => {
      const tasks = Array.from({ length: 101 }, (_, i) => task(`t${i}`));
      const s = await submit({ tasks });
      const v22 = (await getRun(s.json.run_id, '2.2')).json;
      assert.equal(v22.tasks.length, 100);
      assert.equal(v22.next_page_token, '100');
      const page2 = (await getRun(s.json.run_id, '2.2', { page_token: '100' })).json;
      assert.equal(page2.tasks.length, 1);
      assert.equal(page2.tasks[0].task_key, 't100');
      assert.equal(page2.next_page_token, undefined);
      const v21 = (await getRun(s.json.run_id, '2.1')).json;
      assert.equal(v21.tasks.length, 101);
      assert.equal(v21.next_page_token, undefined);
    });

    it('runs dependent tasks after their upstream and skips them when it fails', async () => {
      ws.scriptRun('task:first', { resultState: 'FAILED', durationMs: 40 });
      const s = await submit({
        tasks: [task('first'), task('second', NB2, { depends_on: [{ task_key: 'first' }] })],
      });
      const done = await terminal(s.json.run_id);
      assert.equal(done.tasks[1].state.result_state, 'UPSTREAM_FAILED');
      assert.match(done.state.state_message, /^Task first failed/);
    });

    it('times a task out at its timeout_seconds', async () => {
      ws.scriptRun(NB, { durationMs: 60_000 });
      const s = await submit({ tasks: [task('slow', NB, { timeout_seconds: 1 })] });
      const done = await waitFor(
        async () => {
          const r = (await getRun(s.json.run_id)).json;
          return r.state.life_cycle_state === 'TERMINATED' ? r : undefined;
        },
        { timeoutMs: 4000 },
      );
      assert.equal(done.state.result_state, 'TIMEDOUT');
      assert.equal(done.state.user_cancelled_or_timedout, true);
    });
  });

  describe('scripted outcomes and runs/get-output', () => {
    it('returns the exit value for a task run id and refuses the parent id', async () => {
      ws.scriptRun(NB, { exitValue: '{"tests":[],"metrics":{"accuracy":0.9}}', durationMs: 50 });
      const s = await submit({ tasks: [task('smoke')] });
      const done = await terminal(s.json.run_id);
      const taskRunId = done.tasks[0].run_id;
      const o = await output(taskRunId);
      assert.equal(o.status, 200);
      assert.deepEqual(o.json.notebook_output, {
        result: '{"tests":[],"metrics":{"accuracy":0.9}}',
        truncated: false,
      });
      assert.equal(o.json.metadata.run_id, taskRunId);
      assert.equal(o.json.metadata.job_id, done.job_id);
      assert.equal(o.json.metadata.task_key, 'smoke');
      assert.equal(o.json.metadata.state.result_state, 'SUCCESS');
      assert.equal(o.json.error, undefined);
      const parent = await output(s.json.run_id);
      assert.equal(parent.status, 400);
      assert.deepEqual(parent.json, {
        error_code: 'INVALID_PARAMETER_VALUE',
        message:
          'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
      });
      ws.configure({ singleTaskParentOutput: 'task' });
      assert.equal(
        (await output(s.json.run_id)).json.notebook_output.result,
        '{"tests":[],"metrics":{"accuracy":0.9}}',
      );
    });

    it('returns empty notebook_output without an exit value, and truncates at the 5 MB cap', async () => {
      const s = await submit({ tasks: [task('plain')] });
      const done = await terminal(s.json.run_id);
      assert.deepEqual((await output(done.tasks[0].run_id)).json.notebook_output, {});
      ws.configure({ outputLimitBytes: 8 });
      ws.scriptRun(NB, { exitValue: 'abcdefghijkl', durationMs: 10 });
      const s2 = await submit({ tasks: [task('big')] });
      const d2 = await terminal(s2.json.run_id);
      assert.deepEqual((await output(d2.tasks[0].run_id)).json.notebook_output, {
        result: 'abcdefgh',
        truncated: true,
      });
      assert.equal(ws.settings.outputLimitBytes, 8);
      emu.reset();
      assert.equal(ws.settings.outputLimitBytes, 5 * 1024 * 1024);
    });

    it('rolls a failed task of a multi-task run up to INTERNAL_ERROR/FAILED', async () => {
      ws.scriptRun(NB, { durationMs: 40, exitValue: 'ok' });
      ws.scriptRun(NB2, {
        resultState: 'FAILED',
        durationMs: 80,
        error: 'AssertionError: accuracy 0.71 < 0.9',
        errorTrace:
          'Traceback (most recent call last):\n  File "<command-1>", line 3\nAssertionError: accuracy 0.71 < 0.9',
      });
      const s = await submit({ tasks: [task('smoke'), task('model', NB2)] }, '2.2');
      const done = await terminal(s.json.run_id, '2.2');
      assert.deepEqual(done.state, {
        life_cycle_state: 'INTERNAL_ERROR',
        result_state: 'FAILED',
        state_message: 'Task model failed with message: Workload failed, see run output for details.',
        user_cancelled_or_timedout: false,
      });
      assert.equal(done.status.state, 'TERMINATED');
      assert.equal(done.status.termination_details.code, 'RUN_EXECUTION_ERROR');
      const [smoke, model] = done.tasks;
      assert.equal(smoke.state.result_state, 'SUCCESS');
      assert.deepEqual(model.state, {
        life_cycle_state: 'TERMINATED',
        result_state: 'FAILED',
        state_message: 'Workload failed, see run output for details',
        user_cancelled_or_timedout: false,
      });
      const o = (await output(model.run_id, '2.2')).json;
      assert.equal(o.error, 'AssertionError: accuracy 0.71 < 0.9');
      assert.match(o.error_trace, /^Traceback/);
      assert.deepEqual(o.notebook_output, {});
      const parent = await output(s.json.run_id, '2.2');
      assert.equal(parent.status, 400);
      assert.match(
        parent.json.message,
        /^Retrieving the output of runs with multiple tasks is not supported/,
      );
    });

    it('uses one-shot scripts before standing ones, and can script an internal error', async () => {
      ws.scriptRun(
        NB,
        { lifeCycle: 'INTERNAL_ERROR', resultState: 'FAILED', durationMs: 10, stateMessage: 'Cluster lost.' },
        { once: true },
      );
      const a = await terminal((await submit({ tasks: [task('a')] })).json.run_id);
      assert.equal(a.state.life_cycle_state, 'INTERNAL_ERROR');
      assert.equal(a.tasks[0].state.life_cycle_state, 'INTERNAL_ERROR');
      assert.equal(a.state.state_message, 'Task a failed with message: Cluster lost.');
      const b = await terminal((await submit({ tasks: [task('b')] })).json.run_id);
      assert.equal(b.state.result_state, 'SUCCESS');
    });
  });

  describe('idempotency and cancel', () => {
    it('returns the existing run for a repeated idempotency_token (one run, two requests)', async () => {
      const body = { run_name: 'idem', tasks: [task('t')], idempotency_token: 'azdo-123-attempt-1' };
      const a = await submit(body);
      const b = await submit({ ...body, run_name: 'changed' }, '2.2');
      assert.equal(a.status, 200);
      assert.equal(b.json.run_id, a.json.run_id);
      assert.equal(ws.runs().length, 1);
      assert.equal(ws.runs()[0].submitRequests, 2);
      assert.equal(ws.runs()[0].idempotencyToken, 'azdo-123-attempt-1');
      const c = await submit({ ...body, idempotency_token: 'azdo-123-attempt-2' });
      assert.notEqual(c.json.run_id, a.json.run_id);
    });

    it('cancels asynchronously (TERMINATING, then TERMINATED/CANCELED) and no-ops on a finished run', async () => {
      ws.scriptRun(NB, { durationMs: 30_000 });
      const s = await submit({ tasks: [task('long')] });
      await waitFor(async () => (await getRun(s.json.run_id)).json.state.life_cycle_state === 'RUNNING');
      const c = await api('POST', '/api/2.1/jobs/runs/cancel', { json: { run_id: s.json.run_id } });
      assert.equal(c.status, 200);
      assert.deepEqual(c.json, {});
      const right = (await getRun(s.json.run_id)).json;
      assert.equal(right.state.life_cycle_state, 'TERMINATING');
      assert.equal(right.tasks[0].state.life_cycle_state, 'TERMINATING');
      const done = await terminal(s.json.run_id);
      assert.equal(done.state.life_cycle_state, 'TERMINATED');
      assert.equal(done.state.result_state, 'CANCELED');
      assert.equal(done.state.user_cancelled_or_timedout, true);
      assert.equal(done.status.termination_details.code, 'USER_CANCELED');
      const again = await api('POST', '/api/2.2/jobs/runs/cancel', { json: { run_id: s.json.run_id } });
      assert.equal(again.status, 200);
      assert.equal(ws.run(s.json.run_id).cancelRequests.length, 2);
      assert.equal((await getRun(s.json.run_id)).json.state.result_state, 'CANCELED');
      ws.configure({ cancelTerminatedRun: 'error' });
      const strict = await api('POST', '/api/2.1/jobs/runs/cancel', { json: { run_id: s.json.run_id } });
      assert.equal(strict.status, 400);
      assert.equal(strict.json.error_code, 'INVALID_STATE');
    });
  });

  describe('runs/list, jobs/create, jobs/get and run-now', () => {
    it('runs a job with run-now and finds its latest completed run with runs/list', async () => {
      const created = await api('POST', '/api/2.1/jobs/create', {
        json: { name: 'nightly tests', tasks: [task('smoke')] },
      });
      assert.equal(created.status, 200);
      const jobId = created.json.job_id;
      const got = await api('GET', '/api/2.2/jobs/get', { query: { job_id: jobId } });
      assert.equal(got.json.settings.name, 'nightly tests');
      assert.equal(got.json.creator_user_name, 'runner@example.com');
      const r1 = await api('POST', '/api/2.1/jobs/run-now', {
        json: { job_id: jobId, notebook_params: { env: 'prod' } },
      });
      assert.equal(r1.status, 200);
      assert.deepEqual(Object.keys(r1.json).sort(), ['number_in_job', 'run_id']);
      await terminal(r1.json.run_id);
      ws.scriptRun(NB, { durationMs: 30_000 });
      const r2 = await api('POST', '/api/2.2/jobs/run-now', { json: { job_id: jobId } });
      const run1 = ws.run(r1.json.run_id);
      assert.equal(run1.run_type, 'JOB_RUN');
      assert.equal(run1.run_name, 'nightly tests');
      assert.deepEqual(run1.tasks[0].baseParameters, { env: 'prod' });

      const all = await api('GET', '/api/2.1/jobs/runs/list', { query: { job_id: jobId } });
      assert.deepEqual(
        all.json.runs.map((r: { run_id: number }) => r.run_id),
        [r2.json.run_id, r1.json.run_id],
        'newest first',
      );
      assert.equal(all.json.has_more, false);
      assert.equal(all.json.runs[0].tasks, undefined, 'tasks only with expand_tasks');
      const latest = await api('GET', '/api/2.1/jobs/runs/list', {
        query: { job_id: jobId, completed_only: true, limit: 1 },
      });
      assert.equal(latest.json.runs.length, 1);
      assert.equal(latest.json.runs[0].run_id, r1.json.run_id);
      assert.equal(latest.json.runs[0].state.result_state, 'SUCCESS');
      const active = await api('GET', '/api/2.2/jobs/runs/list', {
        query: { job_id: jobId, active_only: true, expand_tasks: true },
      });
      assert.equal(active.json.runs[0].run_id, r2.json.run_id);
      assert.equal(active.json.runs[0].tasks.length, 1);
      const page = await api('GET', '/api/2.1/jobs/runs/list', { query: { job_id: jobId, limit: 1 } });
      assert.equal(page.json.has_more, true);
      const next = await api('GET', '/api/2.1/jobs/runs/list', {
        query: { job_id: jobId, limit: 1, page_token: page.json.next_page_token },
      });
      assert.equal(next.json.runs[0].run_id, r1.json.run_id);
      const none = await api('GET', '/api/2.1/jobs/runs/list', { query: { job_id: 1 } });
      assert.deepEqual(none.json, { has_more: false });
    });

    it('rejects bad list parameters and unknown jobs', async () => {
      const both = await api('GET', '/api/2.1/jobs/runs/list', {
        query: { active_only: true, completed_only: true },
      });
      assert.equal(both.status, 400);
      const lim = await api('GET', '/api/2.1/jobs/runs/list', { query: { limit: 26 } });
      assert.equal(lim.status, 400);
      const rn = await api('POST', '/api/2.1/jobs/run-now', { json: { job_id: 123 } });
      assert.equal(rn.status, 400);
      assert.deepEqual(rn.json, {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'Job 123 does not exist.',
      });
      const g = await api('GET', '/api/2.1/jobs/get', { query: { job_id: 123 } });
      assert.equal(g.status, 400);
      assert.match(g.json.message, /^Job 123 does not exist/);
    });

    it('honours idempotency_token on run-now', async () => {
      const jobId = ws.addJob({ name: 'j', tasks: [task('t')] });
      const a = await api('POST', '/api/2.1/jobs/run-now', {
        json: { job_id: jobId, idempotency_token: 'tok' },
      });
      const b = await api('POST', '/api/2.1/jobs/run-now', {
        json: { job_id: jobId, idempotency_token: 'tok' },
      });
      assert.equal(a.json.run_id, b.json.run_id);
      assert.equal(ws.runs().length, 1);
    });
  });

  describe('clusters', () => {
    for (const v of ['2.0', '2.1']) {
      it(`gets and starts a terminated cluster: TERMINATED → PENDING → RUNNING (${v})`, async () => {
        ws.addCluster({
          cluster_id: '0101-000000-abcdefgh',
          cluster_name: 'tests',
          state: 'TERMINATED',
          startMs: 150,
        });
        const g = await api('GET', `/api/${v}/clusters/get`, {
          query: { cluster_id: '0101-000000-abcdefgh' },
        });
        assert.equal(g.status, 200);
        assert.equal(g.json.cluster_id, '0101-000000-abcdefgh');
        assert.equal(g.json.cluster_name, 'tests');
        assert.equal(g.json.state, 'TERMINATED');
        assert.equal(typeof g.json.termination_reason.code, 'string');
        const s = await api('POST', `/api/${v}/clusters/start`, {
          json: { cluster_id: '0101-000000-abcdefgh' },
        });
        assert.equal(s.status, 200);
        assert.deepEqual(s.json, {});
        const p = await api('GET', `/api/${v}/clusters/get`, {
          query: { cluster_id: '0101-000000-abcdefgh' },
        });
        assert.equal(p.json.state, 'PENDING');
        const again = await api('POST', `/api/${v}/clusters/start`, {
          json: { cluster_id: '0101-000000-abcdefgh' },
        });
        assert.equal(again.status, 400);
        assert.deepEqual(again.json, {
          error_code: 'INVALID_STATE',
          message: 'Cluster 0101-000000-abcdefgh is in unexpected state Pending.',
        });
        await waitFor(async () => {
          const r = await api('GET', `/api/${v}/clusters/get`, {
            query: { cluster_id: '0101-000000-abcdefgh' },
          });
          return r.json.state === 'RUNNING';
        });
        const running = await api('POST', `/api/${v}/clusters/start`, {
          json: { cluster_id: '0101-000000-abcdefgh' },
        });
        assert.equal(running.json.message, 'Cluster 0101-000000-abcdefgh is in unexpected state Running.');
        assert.deepEqual(
          ws.cluster('0101-000000-abcdefgh').starts.map((x) => x.cause),
          ['api'],
        );
      });
    }

    it('answers 400 "Cluster <id> does not exist" and lists clusters', async () => {
      const g = await api('GET', '/api/2.1/clusters/get', { query: { cluster_id: 'nope' } });
      assert.equal(g.status, 400);
      assert.deepEqual(g.json, {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'Cluster nope does not exist',
      });
      const s = await api('POST', '/api/2.0/clusters/start', { json: { cluster_id: 'nope' } });
      assert.equal(s.status, 400);
      ws.addCluster({ cluster_id: 'a' });
      const l = await api('GET', '/api/2.0/clusters/list');
      assert.deepEqual(
        l.json.clusters.map((c: { cluster_id: string; state: string }) => [c.cluster_id, c.state]),
        [['a', 'RUNNING']],
      );
    });

    it('a run on a terminated cluster starts it and waits for it', async () => {
      ws.addCluster({ cluster_id: 'cold', state: 'TERMINATED', startMs: 400 });
      ws.scriptRun(NB, { durationMs: 30, pendingMs: 0 });
      const s = await submit({ tasks: [task('t', NB, { existing_cluster_id: 'cold' })] });
      const r = (await getRun(s.json.run_id)).json;
      assert.equal(r.tasks[0].state.life_cycle_state, 'PENDING');
      assert.equal(r.tasks[0].state.state_message, 'Waiting for cluster');
      assert.equal(ws.cluster('cold').details().state, 'PENDING');
      const done = await terminal(s.json.run_id);
      assert.equal(done.state.result_state, 'SUCCESS');
      assert.equal(done.tasks[0].cluster_instance.cluster_id, 'cold');
      assert.ok(done.tasks[0].setup_duration >= 350, `setup ${done.tasks[0].setup_duration}`);
      assert.deepEqual(
        ws.cluster('cold').starts.map((x) => x.cause),
        ['run'],
      );
    });

    it('journals jobs and clusters calls under the documented api names', async () => {
      ws.addCluster({ cluster_id: 'j' });
      const s = await submit({ tasks: [task('t')] });
      await getRun(s.json.run_id);
      await api('GET', '/api/2.1/jobs/runs/list');
      await api('POST', '/api/2.1/jobs/runs/cancel', { json: { run_id: s.json.run_id } });
      await api('GET', '/api/2.0/clusters/get', { query: { cluster_id: 'j' } });
      await api('POST', '/api/2.1/jobs/create', { json: { name: 'x' } });
      assert.deepEqual(
        emu.requests({ host: ws.hostName }).map((e) => e.api),
        [
          'jobs.runs.submit',
          'jobs.runs.get',
          'jobs.runs.list',
          'jobs.runs.cancel',
          'clusters.get',
          'jobs.create',
        ],
      );
    });
  });
});
