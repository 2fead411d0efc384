/**
 * runPipeline against the in-process emulator: success, a failed Databricks
 * activity (run page URL), a failure inside a child pipeline, a timeout and a
 * cancelled task (both cancel the ADF run, also when the cancel lands while createRun
 * is in flight), fire-and-forget, and ambiguous createRun failures (the run is looked up and
 * adopted, or started once more, never twice).
 */
import assert from 'node:assert/strict';
import { MemoryLogger } from '../../../../src/common/logger';
import type { PipelineRun } from '../../../../src/datafactory/factory-client';
import {
  isAmbiguousStartFailure,
  matchesStartedRun,
  nextPollDelay,
  PipelineRunError,
  runPipeline,
  runPageUrlOf,
  type RunPipelineOptions,
} from '../../../../src/datafactory/run/runner';
import { HttpError } from '../../../../src/http/errors';
import { exportTemplate, pipeline } from '../deploy/helpers';
import { createWorld, FACTORY, RG, SUB, type World } from '../deploy/world';

const RUN_PAGE = 'https://adb-1111.11.azuredatabricks.net/?o=1111#job/55/run/77';

describe('datafactory run: runPipeline against the emulator', function () {
  this.timeout(20_000);
  let w: World;
  before(async () => {
    w = await createWorld({ runQueueMs: 20, cancelMs: 50 });
  });
  after(async () => w.close());
  beforeEach(async () => {
    w.reset();
    const train = {
      activities: [
        { name: 'Prepare', type: 'Wait', typeProperties: { waitTimeInSeconds: 1 } },
        { name: 'Train model', type: 'DatabricksNotebook', typeProperties: { notebookPath: '/ml/train' } },
      ],
      parameters: { runDate: { type: 'string' }, mode: { type: 'string', defaultValue: 'full' } },
    };
    await w.deploy(
      exportTemplate({
        pipelines: {
          Train: train,
          Child: pipeline({ wait: 1 }),
          Orchestrate: {
            activities: [
              {
                name: 'Run child',
                type: 'ExecutePipeline',
                typeProperties: { pipeline: { referenceName: 'Child', type: 'PipelineReference' } },
              },
            ],
          },
        },
      }),
    );
  });

  const run = (o: Partial<RunPipelineOptions> = {}) => {
    const logger = new MemoryLogger();
    const p = runPipeline({
      client: w.factory,
      pipelineName: 'Train',
      parameters: { runDate: '2024-05-01' },
      waitForCompletion: true,
      logger,
      poll: { minMs: 20, maxMs: 100, fraction: 0.1 },
      startRecovery: { lookupDelayMs: 20 },
      ...o,
    });
    return { p, logger };
  };

  it('waits for a successful run and prints the Databricks run page', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', {
      status: 'Succeeded',
      durationMs: 150,
      activities: [
        { activityName: 'Prepare', status: 'Succeeded' },
        {
          activityName: 'Train model',
          status: 'Succeeded',
          output: { runPageUrl: RUN_PAGE, runOutput: 'ok' },
        },
      ],
    });
    const { p, logger } = run();
    const r = await p;
    assert.equal(r.status, 'Succeeded');
    assert.ok(r.durationMs >= 150);
    assert.deepEqual(r.runPageUrls, [{ activityName: 'Train model', url: RUN_PAGE }]);
    assert.match(logger.text(), /Databricks run of activity 'Train model': https:\/\/adb-1111/);
    assert.match(r.monitorUrl, /^https:\/\/adf\.azure\.com\/en\/monitoring\/pipelineruns\//);
    const created = w.arm.factory(SUB, RG, FACTORY)!.run(r.runId)!;
    assert.deepEqual(created.parameters, { runDate: '2024-05-01' });
  });

  it('reports the failed Databricks activity with its error and run page', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', {
      status: 'Failed',
      durationMs: 100,
      activities: [
        { activityName: 'Prepare', status: 'Succeeded' },
        {
          activityName: 'Train model',
          status: 'Failed',
          error: {
            errorCode: '3204',
            message:
              'Databricks execution failed with error state: InternalError, error message: AssertionError: accuracy 0.41 < 0.8',
          },
          output: { runPageUrl: RUN_PAGE },
        },
      ],
    });
    const { p, logger } = run();
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof PipelineRunError);
      assert.equal(e.reason, 'failed');
      assert.equal(e.result.status, 'Failed');
      assert.match(
        e.message,
        /Train model: 3204: Databricks execution failed.*accuracy 0\.41.*\(Databricks run https:\/\/adb-1111/,
      );
      return true;
    });
    assert.match(logger.text(), /error: Activity 'Train model' \(DatabricksNotebook\) failed: 3204/);
  });

  it('follows a failed ExecutePipeline activity into the child run', async () => {
    const child = w.arm.factory(SUB, RG, FACTORY)!;
    w.arm.scriptPipelineRun(FACTORY, 'Child', {
      status: 'Failed',
      durationMs: 10,
      activities: [
        { activityName: 'Wait', status: 'Failed', error: { errorCode: '2011', message: 'child broke' } },
      ],
    });
    const created = child.createRun('Child', {});
    assert.ok(created.ok);
    w.arm.scriptPipelineRun(FACTORY, 'Orchestrate', {
      status: 'Failed',
      durationMs: 50,
      activities: [
        {
          activityName: 'Run child',
          status: 'Failed',
          error: { errorCode: '2200', message: 'Operation on target Wait failed' },
          output: { pipelineRunId: created.ok ? created.run.runId : '', pipelineName: 'Child' },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 100));
    const { p } = run({ pipelineName: 'Orchestrate', parameters: {} });
    await assert.rejects(
      p,
      (e: unknown) => e instanceof PipelineRunError && /Wait: 2011: child broke/.test(e.message),
    );
  });

  it('cancels the run when it exceeds the timeout', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 60_000 });
    const { p } = run({ timeoutMs: 300 });
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof PipelineRunError);
      assert.equal(e.reason, 'timeout');
      assert.equal(e.result.status, 'Cancelled');
      assert.match(
        e.message,
        /did not finish within timeoutMinutes \(0\.01\); it was cancelled \(Cancelled\)/,
      );
      return true;
    });
    assert.equal(w.emu.requests({ api: 'adf.pipelineruns.cancel' }).length, 1);
  });

  it('cancels the run when the task is cancelled', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 60_000 });
    const ac = new AbortController();
    const { p } = run({ signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(p);
    const runs = [...w.arm.factory(SUB, RG, FACTORY)!.runs.values()];
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(runs[0].status(), 'Cancelled');
  });

  const runsOf = (pipelineName = 'Train') =>
    [...w.arm.factory(SUB, RG, FACTORY)!.runs.values()].filter((r) => r.pipelineName === pipelineName);
  const settle = async () => {
    for (let i = 0; i < 200 && w.emu.journal.some((e) => e.status === 0 && !e.fault); i++)
      await new Promise((r) => setTimeout(r, 10));
  };

  it('cancels the run when the task is cancelled while createRun is in flight', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 60_000 });
    w.emu.setLatency(300, 'adf.pipelines.createRun');
    const ac = new AbortController();
    const { p, logger } = run({ signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    await settle();
    const runs = runsOf();
    assert.equal(runs.length, 1, 'the run started: the service acted on createRun');
    const cancels = w.emu.requests({ api: 'adf.pipelineruns.cancel' });
    assert.equal(cancels.length, 1, logger.text());
    assert.ok(cancels[0].path.includes(runs[0].runId));
    assert.ok(['Canceling', 'Cancelled'].includes(runs[0].status()));
  });

  it('does not start a run when the task is already cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      run({ signal: ac.signal }).p,
      (e: unknown) => e instanceof Error && e.name === 'AbortError',
    );
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 0);
  });

  it('adopts the run when createRun acted but the connection broke before the answer', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 50 });
    w.emu.addFault({ kind: 'resetAfter', api: 'adf.pipelines.createRun', count: 1 });
    const { p, logger } = run();
    const r = await p;
    assert.equal(r.status, 'Succeeded');
    const runs = runsOf();
    assert.equal(runs.length, 1, 'exactly one run');
    assert.equal(r.runId, runs[0].runId);
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 1, 'createRun not resent');
    assert.ok(w.emu.requests({ api: 'adf.pipelineruns.query' }).length >= 1);
    assert.match(logger.text(), /started despite the failed request: following it/);
  });

  it('starts the run once more when createRun failed with a 500 and no run started', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 50 });
    w.emu.addFault({ kind: '500', api: 'adf.pipelines.createRun', count: 1 });
    const { p, logger } = run();
    const r = await p;
    assert.equal(r.status, 'Succeeded');
    assert.equal(runsOf().length, 1, 'exactly one run');
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 2);
    // The run list may lag behind createRun: it is read more than once before resending.
    assert.equal(w.emu.requests({ api: 'adf.pipelineruns.query' }).length, 3);
    assert.match(logger.text(), /No run of pipeline Train started: starting it again \(once\)/);
  });

  it('never sends createRun a third time', async () => {
    w.emu.addFault({ kind: '503', api: 'adf.pipelines.createRun', retryAfter: 'none', count: 5 });
    await assert.rejects(
      run().p,
      /Could not start a run of pipeline Train: .*503.*\(twice; no run started\)/,
    );
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 2);
    assert.equal(runsOf().length, 0);
  });

  it('adopts a run that acted on the second createRun', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 50 });
    w.emu.addFault({ kind: '500', api: 'adf.pipelines.createRun', count: 1 });
    w.emu.addFault({ kind: 'resetAfter', api: 'adf.pipelines.createRun', count: 1 });
    const r = await run().p;
    assert.equal(runsOf().length, 1);
    assert.equal(r.runId, runsOf()[0].runId);
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 2);
  });

  it('refuses to start another run when several could be the one it started', async () => {
    const f = w.arm.factory(SUB, RG, FACTORY)!;
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 60_000 });
    // Someone started the same pipeline with the same parameters a moment ago.
    assert.ok(f.createRun('Train', { runDate: '2024-05-01' }).ok);
    w.emu.addFault({ kind: 'resetAfter', api: 'adf.pipelines.createRun', count: 1 });
    await assert.rejects(
      run().p,
      /2 runs with the same parameters started since then: .*Not starting another/,
    );
    assert.equal(runsOf().length, 2);
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 1);
  });

  it('does not resend createRun when it cannot tell whether the run started', async () => {
    w.emu.addFault({ kind: 'resetAfter', api: 'adf.pipelines.createRun', count: 1 });
    w.emu.addFault({ kind: '500', api: 'adf.pipelineruns.query' });
    await assert.rejects(
      run().p,
      /failed \(.*\), and looking up whether it started anyway failed too .*before running the task again/,
    );
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 1);
    assert.equal(runsOf().length, 1);
  });

  it('finds and cancels a run that started when the task is cancelled during an ambiguous createRun', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 60_000 });
    w.emu.setLatency(300, 'adf.pipelines.createRun');
    w.emu.addFault({ kind: 'resetAfter', api: 'adf.pipelines.createRun', count: 1 });
    const ac = new AbortController();
    const { p } = run({ signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    await settle();
    const runs = runsOf();
    assert.equal(runs.length, 1);
    assert.equal(w.emu.requests({ api: 'adf.pipelines.createRun' }).length, 1, 'no resend after a cancel');
    assert.ok(w.emu.requests({ api: 'adf.pipelineruns.cancel' }).some((e) => e.path.includes(runs[0].runId)));
  });

  it('matches only manual runs of the pipeline with the same parameters since the request', () => {
    const since = Date.parse('2024-05-01T10:00:00Z');
    const base: PipelineRun = {
      runId: 'r1',
      pipelineName: 'Train',
      status: 'InProgress',
      runStart: '2024-05-01T10:00:01Z',
      parameters: { runDate: '2024-05-01', mode: 'full', n: '5', cfg: '{"a":[1,2]}' },
      invokedBy: { id: 'x', name: 'Manual', invokedByType: 'Manual' },
    };
    const params = { runDate: '2024-05-01', n: 5, cfg: { a: [1, 2] } };
    assert.ok(matchesStartedRun(base, 'Train', params, since));
    assert.ok(matchesStartedRun(base, 'train', { RUNDATE: '2024-05-01' }, since));
    assert.ok(!matchesStartedRun(base, 'Train', { runDate: '2024-05-02' }, since));
    assert.ok(!matchesStartedRun(base, 'Train', { other: 'x' }, since));
    assert.ok(!matchesStartedRun(base, 'Other', params, since));
    assert.ok(!matchesStartedRun({ ...base, runStart: '2024-05-01T09:59:59Z' }, 'Train', params, since));
    assert.ok(
      !matchesStartedRun(
        { ...base, invokedBy: { id: 'y', name: 'TR_Daily', invokedByType: 'ScheduleTrigger' } },
        'Train',
        params,
        since,
      ),
    );
  });

  it('treats only failures after the request was sent as ambiguous', () => {
    const e = (init: Partial<ConstructorParameters<typeof HttpError>[0]>) =>
      new HttpError({ method: 'POST', path: '/x', kind: 'server', attempts: 1, retryable: true, ...init });
    assert.ok(isAmbiguousStartFailure(e({ kind: 'server', status: 500 })));
    assert.ok(isAmbiguousStartFailure(e({ kind: 'timeout' })));
    assert.ok(isAmbiguousStartFailure(e({ kind: 'network', networkCode: 'ECONNRESET' })));
    assert.ok(!isAmbiguousStartFailure(e({ kind: 'network', networkCode: 'ECONNREFUSED' })));
    assert.ok(!isAmbiguousStartFailure(e({ kind: 'network', networkCode: 'ENOTFOUND', retryable: false })));
    assert.ok(!isAmbiguousStartFailure(e({ kind: 'rateLimited', status: 429 })));
    assert.ok(!isAmbiguousStartFailure(e({ kind: 'badRequest', status: 400, retryable: false })));
    assert.ok(!isAmbiguousStartFailure(e({ kind: 'aborted', retryable: false })));
    assert.ok(isAmbiguousStartFailure(e({ kind: 'aborted', retryable: false }), AbortSignal.abort()));
    assert.ok(!isAmbiguousStartFailure(new Error('x')));
  });

  it('returns at once without waiting', async () => {
    w.arm.scriptPipelineRun(FACTORY, 'Train', { status: 'Succeeded', durationMs: 60_000 });
    const { p } = run({ waitForCompletion: false });
    const r = await p;
    assert.ok(['Queued', 'InProgress'].includes(r.status));
  });

  it('fails clearly for an unknown pipeline or a missing parameter', async () => {
    await assert.rejects(run({ pipelineName: 'Nope' }).p, /start a run of pipeline Nope .*404/);
    await assert.rejects(run({ parameters: {} }).p, /Missing value for required parameter 'runDate'/);
  });

  it('reads run pages and poll delays', () => {
    assert.equal(
      runPageUrlOf({ activityName: 'a', status: 'Failed', output: { runOutput: { runPageUrl: 'u' } } }),
      'u',
    );
    assert.equal(runPageUrlOf({ activityName: 'a', status: 'Failed', output: null }), undefined);
    assert.equal(nextPollDelay(0), 2000);
    assert.equal(nextPollDelay(100_000), 10_000);
    assert.equal(nextPollDelay(10_000_000), 30_000);
  });
});
