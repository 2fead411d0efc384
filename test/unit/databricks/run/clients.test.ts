/** JobsClient and ClustersClient against the emulated workspace (127.0.0.1). */
import * as assert from 'node:assert/strict';
import { MemoryLogger } from '../../../../src/common/logger';
import { sleep } from '../../../../src/common/sleep';
import {
  ClusterNotFoundError,
  ClustersClient,
  ClusterStateError,
} from '../../../../src/databricks/clusters-client';
import { isTerminal, JobsClient } from '../../../../src/databricks/jobs-client';
import type { Clock } from '../../../../src/databricks/run/clock';
import { createHttpClient } from '../../../../src/http';
import type { HttpClient } from '../../../../src/http/types';
import { Emulator } from '../../../emulator/core';
import { installDatabricks, type Workspace } from '../../../emulator/databricks';

const PAT = 'dapi-clients-test-0123456789abcdef';
// Real time, short waits: the emulated cluster changes state in tens of milliseconds.
const quickClock: Clock = { now: () => Date.now(), sleep: (ms, signal) => sleep(Math.min(ms, 20), signal) };

describe('Jobs and Clusters clients (emulator)', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let ws: Workspace;
  let http: HttpClient;
  let jobs: JobsClient;
  let clusters: ClustersClient;

  before(async () => {
    emu = await Emulator.create({ seed: 3 });
    ws = await installDatabricks(emu).addWorkspace('clients', {
      pendingMs: 10,
      defaultDurationMs: 30,
      clusterStartMs: 60,
      clusterTerminateMs: 60,
    });
    http = createHttpClient({
      caCertificates: [emu.caPem],
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
      authorize: async () => ({ Authorization: `Bearer ${PAT}` }),
    });
    jobs = new JobsClient(http, ws.url + '/');
    clusters = new ClustersClient(http, ws.url);
  });

  after(async () => {
    await emu?.stop();
  });

  beforeEach(() => {
    emu.reset();
    ws.addPat(PAT);
  });

  async function settle(runId: number) {
    for (;;) {
      const run = await jobs.getRun(runId);
      if (isTerminal(run)) return run;
      await sleep(10);
    }
  }

  describe('JobsClient', () => {
    it('submits once per idempotency token, even when the first answer is lost', async () => {
      ws.addNotebook('/a', '# Databricks notebook source\n');
      emu.addFault({ kind: 'resetAfter', api: 'jobs.runs.submit', count: 1 });
      const body = {
        run_name: 'x',
        idempotency_token: 'tok-1',
        tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/a' } }],
      };
      const id = await jobs.submitRun(body);
      assert.equal(await jobs.submitRun(body), id);
      assert.equal(ws.runs().length, 1);
      assert.equal(ws.runs()[0].submitRequests, 3);
      assert.equal(emu.requests({ api: 'jobs.runs.submit' })[0].path, '/api/2.2/jobs/runs/submit');
    });

    it('does not retry a submit without a token', async () => {
      ws.addNotebook('/a', '# Databricks notebook source\n');
      emu.addFault({ kind: 'resetAfter', api: 'jobs.runs.submit', count: 1 });
      await assert.rejects(
        jobs.submitRun({ run_name: 'x', tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/a' } }] }),
      );
      assert.equal(emu.requests({ api: 'jobs.runs.submit' }).length, 1);
    });

    it('merges the pages of a run with more than 100 tasks', async () => {
      const tasks = Array.from({ length: 130 }, (_, i) => {
        ws.addNotebook(`/n/${i}`, '# Databricks notebook source\n');
        return { task_key: `t${i}`, notebook_task: { notebook_path: `/n/${i}` } };
      });
      const id = await jobs.submitRun({ run_name: 'many', tasks });
      const run = await jobs.getRun(id);
      assert.equal(run.tasks?.length, 130);
      assert.equal(new Set(run.tasks?.map((t) => t.task_key)).size, 130);
      assert.equal(run.next_page_token, undefined);
      assert.ok(emu.requests({ api: 'jobs.runs.get' }).length >= 2);
    });

    it('reads task output by task run id; the parent of a multi-task run is refused', async () => {
      ws.addNotebook('/a', '# Databricks notebook source\n');
      ws.addNotebook('/b', '# Databricks notebook source\n');
      ws.scriptRun('/a', { exitValue: '{"x":1}' });
      ws.scriptRun('/b', {
        resultState: 'FAILED',
        error: 'ZeroDivisionError: division by zero',
        errorTrace: 'Traceback…',
      });
      const id = await jobs.submitRun({
        run_name: 'two',
        tasks: [
          { task_key: 'a', notebook_task: { notebook_path: '/a' } },
          { task_key: 'b', notebook_task: { notebook_path: '/b' } },
        ],
      });
      const run = await settle(id);
      const [a, b] = run.tasks!;
      assert.equal((await jobs.getRunOutput(a.run_id)).notebook_output?.result, '{"x":1}');
      const out = await jobs.getRunOutput(b.run_id);
      assert.equal(out.error, 'ZeroDivisionError: division by zero');
      assert.equal(out.error_trace, 'Traceback…');
      await assert.rejects(
        jobs.getRunOutput(id),
        /Retrieving the output of runs with multiple tasks is not supported/,
      );
    });

    it('cancels a run (asynchronously) and tolerates cancelling a finished one', async () => {
      ws.addNotebook('/a', '# Databricks notebook source\n');
      ws.scriptRun('/a', { durationMs: 60_000 });
      const id = await jobs.submitRun({
        run_name: 'c',
        tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/a' } }],
      });
      await jobs.cancelRun(id);
      const run = await settle(id);
      assert.equal(run.state?.result_state, 'CANCELED');
      await jobs.cancelRun(id);
    });

    it('lists active one-time runs with their tasks (how an interrupted submit is found)', async () => {
      ws.addNotebook('/Shared/a', '# Databricks notebook source\n');
      ws.scriptRun('/Shared/a', { durationMs: 60_000 });
      const since = Date.now() - 1000;
      const id = await jobs.submitRun({
        run_name: 'find me',
        tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/Workspace/Shared/a' } }],
      });
      const res = await jobs.listRuns({
        runType: 'SUBMIT_RUN',
        activeOnly: true,
        expandTasks: true,
        startTimeFrom: since,
        limit: 25,
      });
      const found = res.runs.find((r) => r.run_id === id);
      assert.equal(found?.run_name, 'find me');
      assert.deepEqual(
        found?.tasks?.map((t) => [t.task_key, t.notebook_task?.notebook_path?.replace(/^\/Workspace/, '')]),
        [['a', '/Shared/a']],
      );
      const q = new URLSearchParams(emu.requests({ api: 'jobs.runs.list' })[0].query);
      assert.equal(q.get('run_type'), 'SUBMIT_RUN');
      assert.equal(q.get('expand_tasks'), 'true');
      assert.equal(q.get('active_only'), 'true');
      await jobs.cancelRun(id);
    });

    it('lists the latest completed run of a job', async () => {
      ws.addNotebook('/a', '# Databricks notebook source\n');
      const jobId = ws.addJob({
        name: 'j',
        tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/a' } }],
      });
      assert.deepEqual(await jobs.listRuns({ jobId, completedOnly: true, limit: 1 }), {
        runs: [],
        has_more: false,
      });
    });
  });

  describe('ClustersClient.ensureRunning', () => {
    const cases: [string, string, boolean][] = [
      ['RUNNING', 'returns at once', false],
      ['TERMINATED', 'starts it and waits', true],
      ['TERMINATING', 'waits for TERMINATED, then starts it', true],
      ['PENDING', 'waits for RUNNING', false],
      ['RESIZING', 'waits for RUNNING', false],
      ['RESTARTING', 'waits for RUNNING', false],
    ];
    for (const [state, what, starts] of cases) {
      it(`${state}: ${what}`, async () => {
        ws.addCluster({ cluster_id: 'c-1', cluster_name: 'ci', state: state as 'RUNNING' });
        const logger = new MemoryLogger();
        const c = await clusters.ensureRunning('c-1', { logger, clock: quickClock });
        assert.equal(c.state, 'RUNNING');
        assert.equal(emu.requests({ api: 'clusters.start' }).length, starts ? 1 : 0);
        assert.match(logger.text(), new RegExp(`Cluster ci \\(c-1\\) is ${state}`));
      });
    }

    it('fails for ERROR and UNKNOWN', async () => {
      for (const state of ['ERROR', 'UNKNOWN'] as const) {
        emu.reset();
        ws.addPat(PAT);
        ws.addCluster({ cluster_id: 'c-1', state });
        await assert.rejects(
          clusters.ensureRunning('c-1', { clock: quickClock }),
          (e: unknown) => e instanceof ClusterStateError && new RegExp(`in state ${state}`).test(e.message),
        );
      }
    });

    it('names an unknown cluster', async () => {
      await assert.rejects(
        clusters.ensureRunning('nope-123', { clock: quickClock }),
        (e: unknown) => e instanceof ClusterNotFoundError && e.clusterId === 'nope-123',
      );
    });

    it('gives up after its timeout', async () => {
      ws.addCluster({ cluster_id: 'slow', state: 'PENDING', startMs: 60_000 });
      await assert.rejects(
        clusters.ensureRunning('slow', { clock: quickClock, timeoutMs: 200 }),
        /did not reach RUNNING within 0s \(last state PENDING\)/,
      );
    });

    it('treats a concurrent start (INVALID_STATE) as started', async () => {
      ws.addCluster({ cluster_id: 'c-2', state: 'TERMINATED' });
      assert.equal(await clusters.start('c-2'), true);
      assert.equal(await clusters.start('c-2'), false);
    });
  });
});
