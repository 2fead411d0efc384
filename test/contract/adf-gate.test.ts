/**
 * DataFactoryPipelineRunGate@1 is a server task: Azure DevOps runs only the
 * HttpRequest definition of its task.json. This test resolves that definition
 * as the server does (test/harness/gate-evaluator.ts), calls the emulated
 * Resource Manager with the bearer token the server would mint for the AzureRM
 * connection, and evaluates the success expression on the real responses.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decide, resolveHttpRequest, type GateDecision } from '../harness/gate-evaluator';
import { installArm, type ArmEmulator, type PipelineRunScript } from '../emulator/arm';
import { Emulator } from '../emulator/core';
import { call } from './raw-client';

const ROOT = path.join(__dirname, '..', '..');
const SUB = '22222222-3333-4444-5555-666666666666';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const APP = '12121212-3434-5656-7878-909090909090';
const RG = 'rg-ml-prod';
const FACTORY = 'adf-ml-prod';

const taskJson = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'tasks', 'DataFactoryPipelineRunGateV1', 'task.json'), 'utf8'),
) as {
  runsOn: string[];
  demands?: unknown;
  minimumAgentVersion?: unknown;
  inputs: { name: string; type: string }[];
  execution: Record<string, { Execute: Record<string, string> }>;
};

describe('DataFactoryPipelineRunGate@1 (server task definition against the emulator)', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let arm: ArmEmulator;
  let token: string;

  before(async () => {
    emu = await Emulator.create({ seed: 11 });
    arm = await installArm(emu, { runQueueMs: 10, cancelMs: 20 });
  });
  after(async () => emu?.stop());
  beforeEach(() => {
    emu.reset();
    arm.addSubscription(SUB, { tenantId: TENANT });
    arm.addResourceGroup(SUB, RG, 'westeurope');
    arm.grant(SUB, APP, 'Reader');
    token = arm.issueToken({ appId: APP, tenantId: TENANT });
    const f = arm.addFactory(SUB, RG, FACTORY);
    f.addObject('pipelines', 'Train', { activities: [{ name: 'Notebook', type: 'DatabricksNotebook' }] });
  });

  /** Starts a run with a scripted outcome straight in the emulator (the gate only reads). */
  function startRun(script: PipelineRunScript): string {
    const f = arm.factory(SUB, RG, FACTORY)!;
    f.scriptRun('Train', script, true);
    const r = f.createRun('Train', {});
    assert.ok(r.ok);
    return r.run.runId;
  }

  async function gate(
    inputs: Record<string, string>,
    bearer = token,
  ): Promise<GateDecision & { url: string; status: number }> {
    // The server fills $(endpoint.url) with the connection's Resource Manager URL (with its
    // trailing slash) and $(endpoint.subscriptionId) from the endpoint's data.
    const req = resolveHttpRequest(
      taskJson as never,
      { azureSubscription: 'arm-conn', 'endpoint.subscriptionId': SUB, ...inputs },
      { 'arm-conn': { url: `${arm.url}/` } },
    );
    assert.equal(req.endpointId, 'arm-conn');
    const res = await call(emu, req.method, req.url, {
      headers: { ...req.headers, Authorization: `Bearer ${bearer}` },
      ca: emu.caPem,
    });
    return { ...decide(req.expression, res.status, res.text), url: req.url, status: res.status };
  }

  async function settle(runId: string): Promise<void> {
    const f = arm.factory(SUB, RG, FACTORY)!;
    for (let i = 0; i < 400 && !f.run(runId)!.isTerminal(); i++) await new Promise((r) => setTimeout(r, 10));
  }

  it('is a valid server task: Server and ServerGate, one HttpRequest, no demands or minimum agent', () => {
    assert.deepEqual(taskJson.runsOn, ['Server', 'ServerGate']);
    assert.deepEqual(Object.keys(taskJson.execution), ['HttpRequest']);
    assert.equal(taskJson.demands, undefined);
    assert.equal(taskJson.minimumAgentVersion, undefined);
    assert.equal(
      taskJson.inputs.find((i) => i.name === 'azureSubscription')?.type,
      'connectedService:AzureRM',
    );
    assert.equal(taskJson.execution.HttpRequest.Execute.EndpointId, '$(azureSubscription)');
  });

  it('builds the Resource Manager URL of the pipeline run', async () => {
    const runId = startRun({ status: 'Succeeded', durationMs: 10 });
    const r = await gate({ resourceGroupName: RG, factoryName: FACTORY, runId });
    assert.equal(
      r.url,
      `${arm.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.DataFactory/factories/${FACTORY}/pipelineruns/${runId}?api-version=2018-06-01`,
    );
  });

  it('passes for a succeeded run, not while it is queued or in progress', async () => {
    const runId = startRun({ status: 'Succeeded', durationMs: 300 });
    const early = await gate({ resourceGroupName: RG, factoryName: FACTORY, runId });
    assert.equal(early.status, 200);
    assert.equal(early.succeeded, false, early.reason);
    await settle(runId);
    const done = await gate({ resourceGroupName: RG, factoryName: FACTORY, runId });
    assert.equal(done.succeeded, true, done.reason);
  });

  it('fails for failed and cancelled runs', async () => {
    const failed = startRun({
      status: 'Failed',
      durationMs: 10,
      activities: [{ activityName: 'Notebook', status: 'Failed', error: { message: 'boom' } }],
    });
    await settle(failed);
    assert.equal(
      (await gate({ resourceGroupName: RG, factoryName: FACTORY, runId: failed })).succeeded,
      false,
    );
    const cancelled = startRun({ status: 'Succeeded', durationMs: 5000 });
    arm.factory(SUB, RG, FACTORY)!.run(cancelled)!.cancel();
    await settle(cancelled);
    const r = await gate({ resourceGroupName: RG, factoryName: FACTORY, runId: cancelled });
    assert.equal(r.status, 200);
    assert.equal(r.succeeded, false);
  });

  it('fails for an unknown run, a wrong factory and a token without access', async () => {
    const missing = await gate({
      resourceGroupName: RG,
      factoryName: FACTORY,
      runId: '00000000-0000-0000-0000-000000000000',
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.succeeded, false);
    const runId = startRun({ status: 'Succeeded', durationMs: 5 });
    await settle(runId);
    const wrong = await gate({ resourceGroupName: RG, factoryName: 'adf-other', runId });
    assert.equal(wrong.status, 404);
    assert.equal(wrong.succeeded, false);
    const stranger = arm.issueToken({ appId: '99999999-9999-9999-9999-999999999999', tenantId: TENANT });
    const denied = await gate({ resourceGroupName: RG, factoryName: FACTORY, runId }, stranger);
    assert.equal(denied.status, 403);
    assert.equal(denied.succeeded, false);
  });
});
