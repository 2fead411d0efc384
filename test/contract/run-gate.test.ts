/**
 * DatabricksRunGate@1 is a server task: Azure DevOps runs no code of ours, only
 * the HttpRequest definition in task.json. This test resolves that definition as
 * the server does (test/harness/gate-evaluator.ts), sends the request to the
 * emulated workspace with the header the DatabricksWorkspace endpoint type
 * defines, and evaluates the success expression on the real responses.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isTerminal, JobsClient, type Run } from '../../src/databricks/jobs-client';
import { createHttpClient } from '../../src/http';
import { Emulator } from '../emulator/core';
import { installDatabricks, type Workspace } from '../emulator/databricks';
import { decide, renderTemplate, resolveHttpRequest, type GateDecision } from '../harness/gate-evaluator';
import { call } from './raw-client';

const ROOT = path.join(__dirname, '..', '..');
const PAT = 'dapi-gate-contract-0123456789abcdef';
const NOTEBOOK = '/Shared/tests/nightly';

interface TaskJson {
  runsOn: string[];
  demands?: unknown;
  minimumAgentVersion?: unknown;
  inputs: { name: string; type: string; defaultValue?: string; visibleRule?: string }[];
  execution: Record<string, { Execute: Record<string, string> }>;
}

const taskJson = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'tasks', 'DatabricksRunGateV1', 'task.json'), 'utf8'),
) as TaskJson;

/** The Authorization header Azure DevOps sends for a token-scheme DatabricksWorkspace connection. */
function endpointHeaders(token: string): Record<string, string> {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8')) as {
    contributions: {
      type: string;
      properties: {
        name?: string;
        authenticationSchemes?: { type: string; headers?: { name: string; value: string }[] }[];
      };
    }[];
  };
  const endpointType = manifest.contributions.find(
    (c) => c.type === 'ms.vss-endpoint.service-endpoint-type' && c.properties.name === 'DatabricksWorkspace',
  );
  assert.ok(endpointType, 'vss-extension.json contributes the DatabricksWorkspace endpoint type');
  const scheme = endpointType.properties.authenticationSchemes?.find(
    (s) => s.type === 'ms.vss-endpoint.endpoint-auth-scheme-token',
  );
  assert.ok(scheme, 'the endpoint type has a token scheme');
  // Without a headers override the server sends the raw token, which Databricks rejects.
  const headers = scheme.headers ?? [{ name: 'Authorization', value: '{{{endpoint.apitoken}}}' }];
  return Object.fromEntries(
    headers.map((h) => [h.name, renderTemplate(h.value, { 'endpoint.apitoken': token })]),
  );
}

describe('DatabricksRunGate@1 (server task definition against the emulator)', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let ws: Workspace;
  let jobs: JobsClient;

  before(async () => {
    emu = await Emulator.create({ seed: 7 });
    ws = await installDatabricks(emu).addWorkspace('gate', { pendingMs: 20, defaultDurationMs: 50 });
    ws.addPat(PAT);
    ws.addNotebook(NOTEBOOK, '# Databricks notebook source\nprint(1)\n');
    const http = createHttpClient({
      caCertificates: [emu.caPem],
      authorize: async () => ({ Authorization: `Bearer ${PAT}` }),
    });
    jobs = new JobsClient(http, ws.url);
  });

  after(async () => {
    await emu?.stop();
  });

  async function gate(
    inputs: Record<string, string>,
  ): Promise<GateDecision & { url: string; status: number }> {
    const req = resolveHttpRequest(
      taskJson as never,
      { databricksConnection: 'conn', ...inputs },
      { conn: { url: ws.url } },
    );
    const res = await call(emu, req.method, req.url, {
      headers: { ...req.headers, ...endpointHeaders(PAT) },
      ca: emu.caPem,
    });
    return { ...decide(req.expression, res.status, res.text), url: req.url, status: res.status };
  }

  async function submit(outcome: Parameters<Workspace['scriptRun']>[1]): Promise<number> {
    ws.scriptRun(NOTEBOOK, outcome, { once: true });
    return jobs.submitRun({
      run_name: 'gate contract',
      tasks: [{ task_key: 'nightly', notebook_task: { notebook_path: NOTEBOOK } }],
    });
  }

  async function runNow(jobId: number, outcome: Parameters<Workspace['scriptRun']>[1]): Promise<number> {
    ws.scriptRun(NOTEBOOK, outcome, { once: true });
    const res = await call(ws.url, 'POST', '/api/2.2/jobs/run-now', {
      bearer: PAT,
      json: { job_id: jobId },
      ca: emu.caPem,
    });
    assert.equal(res.status, 200, res.text);
    return res.json.run_id as number;
  }

  async function settle(runId: number): Promise<Run> {
    for (;;) {
      const run = await jobs.getRun(runId);
      if (isTerminal(run)) return run;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('follows the server-task rules', () => {
    assert.deepEqual(taskJson.runsOn, ['Server', 'ServerGate']);
    assert.equal(taskJson.demands, undefined);
    assert.equal(taskJson.minimumAgentVersion, undefined);
    assert.deepEqual(Object.keys(taskJson.execution), ['HttpRequest']);
    assert.equal(taskJson.execution.HttpRequest.Execute.EndpointId, '$(databricksConnection)');
    assert.equal(
      taskJson.inputs.find((i) => i.name === 'databricksConnection')?.type,
      'connectedService:DatabricksWorkspace',
    );
    // Helpers compare input macros quoted, the form Microsoft's AzureMonitorV1 uses
    // ({{#equals '$(filterType)' 'resource' 1}}): the server expands macros first.
    const helperArgs = [
      ...taskJson.execution.HttpRequest.Execute.EndpointUrl.matchAll(/\{\{#equals\s+(\S+)/g),
    ];
    assert.ok(helperArgs.length > 0);
    for (const m of helperArgs) assert.match(m[1], /^'\$\([^)]+\)'$/);
    // Every macro in the execution names an input (or the endpoint URL).
    const names = new Set(taskJson.inputs.map((i) => i.name));
    for (const v of Object.values(taskJson.execution.HttpRequest.Execute)) {
      for (const m of v.matchAll(/\$\(([^)]+)\)/g))
        assert.ok(names.has(m[1]) || m[1] === 'endpoint.url', `unknown macro $(${m[1]})`);
    }
  });

  it('passes for a successful run', async () => {
    const runId = await submit({ resultState: 'SUCCESS', durationMs: 30 });
    const run = await settle(runId);
    const d = await gate({ runId: String(runId) });
    assert.equal(d.url, `${ws.url}/api/2.2/jobs/runs/get?run_id=${runId}`);
    assert.equal(d.status, 200);
    assert.equal(d.succeeded, true, d.reason);
    // The optional tightening: ended at or after a given instant.
    assert.equal((await gate({ runId: String(runId), endedAfter: String(run.end_time) })).succeeded, true);
    assert.equal(
      (await gate({ runId: String(runId), endedAfter: String(run.end_time! + 1) })).succeeded,
      false,
    );
  });

  it('fails for a failed run', async () => {
    const runId = await submit({ resultState: 'FAILED', durationMs: 30, error: 'boom' });
    const run = await settle(runId);
    assert.equal(run.state?.result_state, 'FAILED');
    const d = await gate({ runId: String(runId) });
    assert.equal(d.status, 200);
    assert.equal(d.succeeded, false, d.reason);
  });

  it('fails (and is re-evaluated) while the run is still running', async () => {
    const runId = await submit({ durationMs: 600_000 });
    const d = await gate({ runId: String(runId) });
    assert.equal(d.status, 200);
    assert.equal(d.succeeded, false, d.reason);
    await jobs.cancelRun(runId);
  });

  it('fails for a run that does not exist', async () => {
    const d = await gate({ runId: '987654321' });
    assert.equal(d.status, 400);
    assert.equal(d.succeeded, false);
  });

  it('checks the latest completed run of a job', async () => {
    const settings = {
      name: 'nightly',
      tasks: [{ task_key: 'nightly', notebook_task: { notebook_path: NOTEBOOK } }],
    };
    const flaky = ws.addJob(settings);
    await settle(await runNow(flaky, { resultState: 'SUCCESS', durationMs: 20 }));
    await settle(await runNow(flaky, { resultState: 'FAILED', durationMs: 20 }));
    const d = await gate({ runSelector: 'jobId', jobId: String(flaky) });
    assert.equal(d.url, `${ws.url}/api/2.2/jobs/runs/list?job_id=${flaky}&completed_only=true&limit=1`);
    assert.equal(d.succeeded, false, 'the latest completed run failed');

    const green = ws.addJob(settings);
    await settle(await runNow(green, { resultState: 'FAILED', durationMs: 20 }));
    const last = await settle(await runNow(green, { resultState: 'SUCCESS', durationMs: 20 }));
    // A newer run still running does not hide the latest completed one.
    const running = await runNow(green, { durationMs: 600_000 });
    assert.equal((await gate({ runSelector: 'jobId', jobId: String(green) })).succeeded, true);
    assert.equal(
      (await gate({ runSelector: 'jobId', jobId: String(green), endedAfter: String(last.end_time! + 1) }))
        .succeeded,
      false,
    );
    await jobs.cancelRun(running);

    const neverCompleted = ws.addJob(settings);
    const only = await runNow(neverCompleted, { durationMs: 600_000 });
    assert.equal((await gate({ runSelector: 'jobId', jobId: String(neverCompleted) })).succeeded, false);
    await jobs.cancelRun(only);

    const noRuns = ws.addJob(settings);
    assert.equal((await gate({ runSelector: 'jobId', jobId: String(noRuns) })).succeeded, false);
  });
});
