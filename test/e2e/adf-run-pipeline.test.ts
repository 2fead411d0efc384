/**
 * DataFactoryRunPipeline@1 end to end: the bundled task against emulated Entra
 * ID and Data Factory: a run that succeeds, one that fails in a Databricks
 * notebook activity (run page printed), a timeout (run cancelled), a cancelled
 * task (also while createRun is in flight), fire-and-forget, a createRun that fails
 * ambiguously (the run is adopted or started once more: exactly one run), and bad inputs.
 */
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { installArm, type ArmEmulator } from '../emulator/arm';
import { Emulator } from '../emulator/core';
import { installEntra, type EntraPlugin } from '../emulator/entra';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type RunTaskOptions, type TaskRun } from '../harness/run-task';
import { armSecretEndpoint } from '../harness/arm-endpoint';

const TASK = 'DataFactoryRunPipelineV1';
const SUB = '44444444-5555-6666-7777-888888888888';
const RG = 'rg-ml-prod';
const FACTORY = 'adf-ml-prod';
const SECRET = 'e2e-adf-run-client-secret-abcdef012345';
const RUN_PAGE = 'https://adb-4444.4.azuredatabricks.net/?o=4444#job/12/run/34';

describe('DataFactoryRunPipeline@1 (e2e)', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let arm: ArmEmulator;
  let entra: EntraPlugin;
  let distDir: string;
  let clientId: string;

  before(async function () {
    this.timeout(180_000);
    const [built, e] = await Promise.all([buildOnce(TASKS_ROOT), Emulator.create({ seed: 31 })]);
    distDir = built.out;
    emu = e;
    entra = await installEntra(emu);
    arm = await installArm(emu, { runQueueMs: 20, cancelMs: 100 });
  });
  after(async () => emu?.stop());

  beforeEach(() => {
    emu.reset();
    arm.setOptions({ runQueueMs: 20, cancelMs: 100 });
    arm.addSubscription(SUB, { tenantId: entra.defaultTenantId });
    arm.addResourceGroup(SUB, RG, 'westeurope');
    clientId = crypto.randomUUID();
    entra.addApp({ tenantId: entra.defaultTenantId, clientId, secret: SECRET });
    arm.grant(SUB, clientId, 'Data Factory Contributor');
    const f = arm.addFactory(SUB, RG, FACTORY);
    f.addObject('pipelines', 'PL_Train', {
      parameters: { runDate: { type: 'string' }, epochs: { type: 'int', defaultValue: 5 } },
      activities: [
        { name: 'Prepare data', type: 'Copy' },
        { name: 'Train model', type: 'DatabricksNotebook', typeProperties: { notebookPath: '/ml/train' } },
      ],
    });
  });

  function run(inputs: Record<string, string>, extra: Partial<RunTaskOptions> = {}): Promise<TaskRun> {
    return runTask({
      task: TASK,
      distDir,
      inputs: {
        azureSubscription: 'arm-conn',
        resourceGroupName: RG,
        factoryName: FACTORY,
        pipelineName: 'PL_Train',
        ...inputs,
      },
      endpoints: {
        'arm-conn': armSecretEndpoint({
          armUrl: arm.url,
          tenantId: entra.defaultTenantId,
          authorityHost: entra.authorityHost,
          clientId,
          secret: SECRET,
          subscriptionId: SUB,
        }),
      },
      secrets: [SECRET],
      env: emu.env(),
      ...extra,
    });
  }

  const explain = (r: TaskRun) =>
    `${r.outcome}: ${r.result?.message}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`;
  const runs = () => [...arm.factory(SUB, RG, FACTORY)!.runs.values()];

  it('runs the pipeline with parameters, waits, and sets runId, status and durationMs', async () => {
    arm.scriptPipelineRun(FACTORY, 'PL_Train', {
      status: 'Succeeded',
      activities: [
        { activityName: 'Prepare data', status: 'Succeeded', durationMs: 100 },
        {
          activityName: 'Train model',
          status: 'Succeeded',
          durationMs: 200,
          output: { runPageUrl: RUN_PAGE },
        },
      ],
    });
    const r = await run({ parameters: '{"runDate": "2024-06-01", "epochs": 10}' });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    const [adfRun] = runs();
    assert.deepEqual(adfRun.parameters, { runDate: '2024-06-01', epochs: 10 });
    assert.equal(r.outputVariables.runId, adfRun.runId);
    assert.equal(r.outputVariables.status, 'Succeeded');
    assert.ok(Number(r.outputVariables.durationMs) >= 300);
    assert.match(r.stdout, /Databricks run of activity 'Train model': https:\/\/adb-4444/);
    assert.match(r.stdout, /Monitor: https:\/\/adf\.azure\.com\/en\/monitoring\/pipelineruns\//);
    r.assertNoSecrets();
  });

  it('fails on a failed Databricks activity, naming it with its error and run page', async () => {
    arm.scriptPipelineRun(FACTORY, 'PL_Train', {
      status: 'Failed',
      activities: [
        { activityName: 'Prepare data', status: 'Succeeded', durationMs: 50 },
        {
          activityName: 'Train model',
          status: 'Failed',
          durationMs: 100,
          error: {
            errorCode: '3204',
            message: 'Databricks execution failed: AssertionError: accuracy 0.41 < 0.8',
            failureType: 'UserError',
          },
          output: { runPageUrl: RUN_PAGE },
        },
      ],
    });
    const r = await run({ parameters: 'runDate=2024-06-01' });
    assert.equal(r.outcome, 'Failed');
    assert.match(
      r.result?.message ?? '',
      /run .* failed: Train model: 3204: Databricks execution failed: AssertionError: accuracy 0\.41 < 0\.8 \(Databricks run https:\/\/adb-4444/,
    );
    assert.ok(
      r.errors.some((e) => /Activity 'Train model' \(DatabricksNotebook\) failed/.test(e)),
      r.errors.join('\n'),
    );
    assert.equal(r.outputVariables.status, 'Failed');
    assert.equal(r.outputVariables.runId, runs()[0].runId);
  });

  it('cancels the Data Factory run when it exceeds timeoutMinutes', async () => {
    arm.scriptPipelineRun(FACTORY, 'PL_Train', { status: 'Succeeded', durationMs: 600_000 });
    const r = await run({ parameters: 'runDate=2024-06-01', timeoutMinutes: '0.02' });
    assert.equal(r.outcome, 'Failed');
    assert.match(
      r.result?.message ?? '',
      /did not finish within timeoutMinutes \(0\.02\); it was cancelled \(Cancelled\)/,
    );
    assert.equal(runs()[0].status(), 'Cancelled');
    assert.equal(r.outputVariables.status, 'Cancelled');
  });

  it('cancels the Data Factory run when the pipeline job is cancelled', async () => {
    arm.scriptPipelineRun(FACTORY, 'PL_Train', { status: 'Succeeded', durationMs: 600_000 });
    const r = await run(
      { parameters: 'runDate=2024-06-01' },
      { onStdoutLine: (line, control) => (/^Monitor: /.test(line) ? control.kill('SIGINT') : undefined) },
    );
    assert.equal(r.outcome, 'Cancelled', explain(r));
    assert.equal(emu.requests({ api: 'adf.pipelineruns.cancel' }).length, 1);
    await new Promise((res) => setTimeout(res, 150));
    assert.equal(runs()[0].status(), 'Cancelled');
  });

  it('cancels the Data Factory run when the job is cancelled while createRun is in flight', async () => {
    arm.scriptPipelineRun(FACTORY, 'PL_Train', { status: 'Succeeded', durationMs: 600_000 });
    emu.setLatency(800, 'adf.pipelines.createRun');
    const inFlight = () => emu.requests({ api: 'adf.pipelines.createRun' }).some((e) => e.status === 0);
    let sent = false;
    const r = await run(
      { parameters: 'runDate=2024-06-01' },
      {
        onStdoutLine: (_line, control) => {
          if (sent) return;
          sent = true;
          const timer = setInterval(() => {
            if (!inFlight()) return;
            clearInterval(timer);
            control.kill('SIGINT');
          }, 5);
        },
      },
    );
    assert.equal(r.outcome, 'Cancelled', explain(r));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(runs().length, 1);
    assert.ok(
      emu.requests({ api: 'adf.pipelineruns.cancel' }).some((e) => e.path.includes(runs()[0].runId)),
      'the run that started was cancelled',
    );
    assert.equal(runs()[0].status(), 'Cancelled');
  });

  for (const fault of ['resetAfter', '500'] as const) {
    it(`ends with exactly one run when createRun fails with ${fault === '500' ? 'a 500' : 'a reset after the service acted'}`, async () => {
      arm.scriptPipelineRun(FACTORY, 'PL_Train', { status: 'Succeeded', durationMs: 100 });
      emu.addFault({ kind: fault, api: 'adf.pipelines.createRun', count: 1 });
      const r = await run({ parameters: '{"runDate": "2024-06-01", "epochs": 10}' });
      assert.equal(r.outcome, 'Succeeded', explain(r));
      assert.equal(runs().length, 1, 'exactly one run');
      assert.equal(r.outputVariables.runId, runs()[0].runId);
      assert.equal(r.outputVariables.status, 'Succeeded');
      // Adopted after a reset (the service acted); started once more after a 500 (it did not).
      assert.equal(emu.requests({ api: 'adf.pipelines.createRun' }).length, fault === '500' ? 2 : 1);
      assert.ok(emu.requests({ api: 'adf.pipelineruns.query' }).length >= 1);
      r.assertNoSecrets();
    });
  }

  it('returns once the run is started when waitForCompletion is false', async () => {
    arm.scriptPipelineRun(FACTORY, 'PL_Train', { status: 'Succeeded', durationMs: 600_000 });
    const r = await run({ parameters: 'runDate=2024-06-01', waitForCompletion: 'false' });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    assert.ok(['Queued', 'InProgress'].includes(r.outputVariables.status));
    assert.equal(r.outputVariables.runId, runs()[0].runId);
  });

  describe('bad input fails with a message naming the input', () => {
    const cases: { name: string; inputs: Record<string, string>; re: RegExp }[] = [
      {
        name: 'parameters that are not JSON',
        inputs: { parameters: '{"runDate": ' },
        re: /Input 'parameters' is not valid JSON/,
      },
      {
        name: 'a parameters line without =',
        inputs: { parameters: 'runDate 2024' },
        re: /Input 'parameters' line 1 must look like key=value/,
      },
      {
        name: 'a negative timeout',
        inputs: { timeoutMinutes: '-1' },
        re: /Input 'timeoutMinutes' must be a number of minutes/,
      },
      {
        name: 'an unknown pipeline',
        inputs: { pipelineName: 'PL_Nope' },
        re: /start a run of pipeline PL_Nope .*404/,
      },
      {
        name: 'a missing required pipeline parameter',
        inputs: {},
        re: /Missing value for required parameter 'runDate'/,
      },
      { name: 'a bad factory name', inputs: { factoryName: 'my_factory' }, re: /Input 'factoryName'/ },
      {
        name: 'a pipeline name that climbs the URL',
        inputs: { pipelineName: '..' },
        re: /^Input 'pipelineName': '\.\.' is not a valid pipeline name/,
      },
      {
        name: 'a resource group name with a slash',
        inputs: { resourceGroupName: 'rg/../other' },
        re: /^Input 'resourceGroupName' must be a resource group name/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await run(c.inputs);
        assert.equal(r.outcome, 'Failed', explain(r));
        assert.match(r.result?.message ?? '', c.re);
        assert.equal(runs().length, 0);
        if (/^Input /.test(r.result?.message ?? ''))
          assert.equal(emu.requests({ api: /^adf\./ }).length, 0, 'no Data Factory request');
      });
    }
  });
});
