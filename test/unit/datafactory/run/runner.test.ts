/**
 * runPipeline against the in-process emulator: success, a failed Databricks
 * activity (run page URL), a failure inside a child pipeline, a timeout and a
 * cancelled task (both cancel the ADF run), and fire-and-forget.
 */
import assert from 'node:assert/strict';
import { MemoryLogger } from '../../../../src/common/logger';
import {
  nextPollDelay,
  PipelineRunError,
  runPipeline,
  runPageUrlOf,
  type RunPipelineOptions,
} from '../../../../src/datafactory/run/runner';
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
