/**
 * DatabricksRunNotebook@1 end to end: the bundled task, run as the agent runs it,
 * against the emulated workspace (Jobs and Clusters APIs, OAuth, faults).
 */
import * as assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { Emulator } from '../emulator/core';
import { installDatabricks, type Workspace } from '../emulator/databricks';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type RunTaskOptions, type TaskRun } from '../harness/run-task';

const TASK = 'DatabricksRunNotebookV1';
const PAT = 'dapi-e2e-run-notebook-0123456789abcdef';
const SP = {
  clientId: '7d1c4f0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f',
  secret: 'dose-e2e-oauth-secret-fedcba9876543210',
};
const SMOKE = '/Shared/tests/smoke_test';
const MODEL = '/Shared/tests/model_test';
const SOURCE = '# Databricks notebook source\nprint("hello")\n';

const smokeExit = JSON.stringify({
  tests: [
    { name: 'spark answers', status: 'passed', duration: 0.4 },
    { name: 'table has rows', status: 'passed', duration: 1.2 },
    { name: 'optional', status: 'skipped', message: 'no table given' },
  ],
  metrics: { accuracy: 0.93, row_count: 1200 },
});

describe('DatabricksRunNotebook@1 (e2e)', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let ws: Workspace;
  let distDir: string;
  let buildSeq = 5000;

  before(async function () {
    this.timeout(120_000);
    const [built, e] = await Promise.all([buildOnce(TASKS_ROOT), Emulator.create({ seed: 4 })]);
    distDir = built.out;
    emu = e;
    ws = await installDatabricks(emu).addWorkspace('runs');
  });

  after(async () => {
    await emu?.stop();
  });

  beforeEach(() => {
    emu.reset();
    ws.addPat(PAT);
    ws.addNotebook(SMOKE, SOURCE);
    ws.addNotebook(MODEL, SOURCE);
  });

  function run(inputs: Record<string, string>, extra: Partial<RunTaskOptions> = {}): Promise<TaskRun> {
    return runTask({
      task: TASK,
      distDir,
      inputs: { authType: 'databricks', databricksConnection: 'dbx', ...inputs },
      endpoints: { dbx: { url: ws.url, scheme: 'Token', parameters: { apitoken: PAT } } },
      // A fresh pipeline run per test, so idempotency tokens never meet across tests.
      variables: { 'Build.BuildId': String(++buildSeq) },
      secrets: [PAT, SP.secret],
      env: emu.env(),
      ...extra,
    });
  }

  function explain(r: TaskRun): string {
    return `${r.outcome}: ${r.result?.message}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`;
  }

  it('runs a notebook with JSON tests and metrics, publishes JUnit and sets the outputs', async () => {
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 400 });
    const r = await run({
      notebookPath: SMOKE,
      parameters: 'environment=test\nquote="it\'s" & $(notAMacro)\npath=C:\\data\\x',
      assertions: 'metrics.accuracy >= 0.9',
      testRunTitle: 'Smoke tests',
    });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    const [dbRun] = ws.runs();
    assert.equal(ws.runs().length, 1);
    // Parameters reach the notebook exactly as written: no shell, no quoting.
    assert.deepEqual(dbRun.tasks[0].baseParameters, {
      environment: 'test',
      quote: `"it's" & $(notAMacro)`,
      path: 'C:\\data\\x',
    });
    assert.match(dbRun.idempotencyToken ?? '', /^azdo-[0-9a-f]{59}$/);
    assert.equal(dbRun.run_name, 'data-platform 20250601.1 (Build / Job)');
    const out = r.outputVariables;
    assert.equal(out.runId, String(dbRun.run_id));
    assert.match(out.runPageUrl, new RegExp(`#job/\\d+/run/${dbRun.run_id}$`));
    assert.equal(out.resultState, 'SUCCESS');
    assert.equal(out.notebookOutput, smokeExit);
    assert.equal(out.testsPassed, '3'); // two tests and one assertion
    assert.equal(out.testsFailed, '0');
    assert.equal(r.publishedTestResults.length, 1);
    const pub = r.publishedTestResults[0];
    assert.equal(pub.type, 'JUnit');
    assert.equal(pub.properties.runTitle, 'Smoke tests');
    const xml = pub.files[0].content ?? '';
    assert.equal(XMLValidator.validate(xml), true);
    assert.match(
      xml,
      /<testcase name="table has rows" classname="\/Shared\/tests\/smoke_test" time="1.200"\/>/,
    );
    assert.match(xml, /<skipped message="no table given"\/>/);
    const summary = r.summaries[0]?.content ?? '';
    assert.match(summary, /\*\*SUCCESS\*\*/);
    assert.match(summary, /\| accuracy \| 0\.93 \|/);
    assert.match(summary, /✅ `metrics.accuracy >= 0.9`: actual 0\.93/);
    // The run page is logged before the run ends.
    const pageLine = r.stdoutLines.findIndex((l) => l.startsWith('Run page: '));
    const endLine = r.stdoutLines.findIndex((l) => /TERMINATED SUCCESS/.test(l));
    assert.ok(pageLine >= 0 && pageLine < endLine, 'run page logged first');
    // The end of the run is noticed within 2 s + 5% of its duration.
    const endTime = Number(dbRun.json.end_time);
    const startTime = Number(dbRun.json.start_time);
    const lastPoll = emu.requests({ api: 'jobs.runs.get' }).at(-1)!;
    const overhead = lastPoll.time + lastPoll.durationMs - endTime;
    assert.ok(overhead <= 2000 + 0.05 * (endTime - startTime), `overhead ${overhead} ms`);
    // Output only for the task run, never the parent.
    const outputs = emu.requests({ api: 'jobs.runs.get-output' });
    assert.deepEqual(
      outputs.map((e) => new URLSearchParams(e.query).get('run_id')),
      [String(dbRun.tasks[0].run_id)],
    );
    r.assertNoSecrets();
  });

  it('fails on a failed test and shows it in the Tests tab', async () => {
    const exit = JSON.stringify({
      tests: [
        { name: 'loads', status: 'passed' },
        {
          name: 'row count',
          status: 'failed',
          message: 'expected 10 rows, got 0',
          details: 'AssertionError: 0 != 10',
        },
      ],
    });
    ws.scriptRun(SMOKE, { exitValue: exit, durationMs: 200 });
    const r = await run({ notebookPath: SMOKE });
    assert.equal(r.outcome, 'Failed', explain(r));
    assert.equal(
      r.result?.message,
      'Test row count in /Shared/tests/smoke_test failed: expected 10 rows, got 0',
    );
    assert.equal(r.outputVariables.resultState, 'SUCCESS');
    assert.equal(r.outputVariables.testsPassed, '1');
    assert.equal(r.outputVariables.testsFailed, '1');
    assert.match(
      r.publishedTestResults[0].files[0].content ?? '',
      /<failure message="expected 10 rows, got 0" type="AssertionError">AssertionError: 0 != 10<\/failure>/,
    );
  });

  it('fails when an assertion does not hold, naming it and the actual value', async () => {
    ws.scriptRun(MODEL, { exitValue: '{"accuracy": 0.82, "rows_scored": 1500}', durationMs: 200 });
    const r = await run({ notebookPath: MODEL, assertions: 'metrics.accuracy >= 0.9\nrows_scored > 1000' });
    assert.equal(r.outcome, 'Failed', explain(r));
    assert.equal(r.result?.message, 'Assertion does not hold: metrics.accuracy >= 0.9: actual value is 0.82');
    assert.equal(r.outputVariables.testsPassed, '2'); // the run and one assertion
    assert.equal(r.outputVariables.testsFailed, '1');
  });

  it('when the output cannot be read, says so with the HTTP error instead of blaming the assertions', async () => {
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 200 });
    // Longer than the client's retries last (Retry-After 0 keeps them quick).
    emu.addFault({ kind: '503', api: 'jobs.runs.get-output', count: 30, retryAfter: 0 });
    const r = await run({ notebookPath: SMOKE, assertions: 'metrics.accuracy >= 0.9' });
    assert.equal(r.outcome, 'Failed', explain(r));
    const message = r.result?.message ?? '';
    assert.match(
      message,
      /^Notebook \/Shared\/tests\/smoke_test succeeded, but its output could not be read: .*runs\/get-output.* 503\b.*Its exit value \(tests, metrics, notebookOutput\) is unknown and assertions on it were not evaluated\.$/,
    );
    assert.doesNotMatch(`${message}\n${r.stdout}`, /Assertion does not hold|not a JSON object/);
    assert.match(
      r.stdout,
      /Assertion NOT EVALUATED: metrics\.accuracy >= 0\.9: not evaluated: the output of smoke_test could not be read/,
    );
    assert.equal(r.outputVariables.resultState, 'SUCCESS');
    assert.equal(r.outputVariables.notebookOutput, '');
    assert.equal(ws.runs().length, 1);
    const xml = r.publishedTestResults[0].files[0].content ?? '';
    assert.match(
      xml,
      /<testcase name="smoke_test run"[^>]*>\s*<error message="The run succeeded, but its output could not be read/,
    );
  });

  it('reports a failed run with its state message, error and trace, and still sets the outputs', async () => {
    ws.scriptRun(SMOKE, {
      resultState: 'FAILED',
      durationMs: 200,
      error: "KeyError: 'customer_id'",
      errorTrace:
        'Traceback (most recent call last):\n  File "<command-1>", line 12, in <module>\n    df["customer_id"]\nKeyError: \'customer_id\'',
    });
    const r = await run({ notebookPath: SMOKE });
    assert.equal(r.outcome, 'Failed', explain(r));
    assert.match(
      r.result?.message ?? '',
      /^Notebook \/Shared\/tests\/smoke_test TERMINATED FAILED: .+ Error: KeyError: 'customer_id'$/,
    );
    const errors = r.errors.join('\n');
    assert.match(errors, /Trace:/);
    assert.match(errors, /File "<command-1>", line 12, in <module>/);
    assert.equal(r.outputVariables.resultState, 'FAILED');
    assert.match(r.outputVariables.runId, /^\d+$/);
    assert.notEqual(r.outputVariables.runPageUrl, '');
    assert.equal(r.outputVariables.testsFailed, '1');
    const xml = r.publishedTestResults[0].files[0].content ?? '';
    assert.match(xml, /<testcase name="smoke_test run"/);
    assert.match(xml, /KeyError: &apos;customer_id&apos;/);
  });

  it('cancels the run at the timeout and fails', async () => {
    ws.scriptRun(SMOKE, { durationMs: 120_000 });
    const r = await run({ notebookPath: SMOKE, timeoutMinutes: '0.04' });
    assert.equal(r.outcome, 'Failed', explain(r));
    assert.match(
      r.result?.message ?? '',
      /did not finish within the timeout of 2s \(timeoutMinutes\) and was cancelled/,
    );
    assert.equal(r.outputVariables.resultState, 'TIMEDOUT');
    const [dbRun] = ws.runs();
    assert.equal(dbRun.cancelRequests.length, 1);
    assert.equal(emu.requests({ api: 'jobs.runs.cancel' }).length, 1);
    assert.equal(dbRun.state.result_state, 'CANCELED');
    assert.ok(r.durationMs < 15_000, `took ${r.durationMs} ms`);
  });

  it('cancels the Databricks run when the pipeline is cancelled (SIGTERM)', async () => {
    ws.scriptRun(SMOKE, { durationMs: 120_000 });
    const r = await run(
      { notebookPath: SMOKE },
      {
        onStdoutLine: (line, control) => {
          if (line.startsWith('Run page: ')) setTimeout(() => control.kill('SIGTERM'), 300);
        },
      },
    );
    assert.equal(r.outcome, 'Cancelled', explain(r));
    const [dbRun] = ws.runs();
    assert.equal(dbRun.cancelRequests.length, 1);
    assert.equal(r.outputVariables.runId, String(dbRun.run_id));
    assert.equal(r.outputVariables.resultState, 'CANCELED');
    assert.match(r.stdout, /pipeline was cancelled: cancelling Databricks run/);
  });

  it('starts a terminated existing cluster, waits for it, then runs on it', async () => {
    ws.addCluster({
      cluster_id: '0123-456789-abcdefgh',
      cluster_name: 'tests',
      state: 'TERMINATED',
      startMs: 800,
    });
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 200 });
    const r = await run({
      notebookPath: SMOKE,
      cluster: 'existing',
      existingClusterId: '0123-456789-abcdefgh',
    });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    assert.equal(emu.requests({ api: 'clusters.start' }).length, 1);
    const start = emu.requests({ api: 'clusters.start' })[0].seq;
    const submit = emu.requests({ api: 'jobs.runs.submit' })[0].seq;
    assert.ok(start < submit, 'cluster started before the run was submitted');
    assert.match(r.stdout, /Cluster tests \(0123-456789-abcdefgh\) is TERMINATED/);
    assert.match(r.stdout, /Cluster tests \(0123-456789-abcdefgh\) is RUNNING/);
    assert.equal(ws.runs()[0].tasks[0].existingClusterId, '0123-456789-abcdefgh');
  });

  it('runs several notebooks as parallel tasks of one run', async () => {
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 1500 });
    ws.scriptRun(MODEL, { exitValue: '{"metrics": {"accuracy": 0.95}}', durationMs: 1500 });
    const started = Date.now();
    const r = await run({
      notebookPath: `${SMOKE}\n${MODEL}`,
      assertions: '[model_test] metrics.accuracy >= 0.9\nmetrics.accuracy > 0.5',
    });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    assert.ok(Date.now() - started < 9000, 'tasks ran in parallel');
    const runs = ws.runs();
    assert.equal(runs.length, 1);
    assert.deepEqual(
      runs[0].tasks.map((t) => [t.task_key, t.notebookPath]),
      [
        ['smoke_test', SMOKE],
        ['model_test', MODEL],
      ],
    );
    assert.ok(runs[0].tasks.every((t) => !(t.spec.depends_on as unknown[] | undefined)?.length));
    const outputIds = emu
      .requests({ api: 'jobs.runs.get-output' })
      .map((e) => Number(new URLSearchParams(e.query).get('run_id')));
    assert.deepEqual(outputIds.sort(), runs[0].tasks.map((t) => t.run_id).sort());
    assert.deepEqual(JSON.parse(r.outputVariables.notebookOutput), {
      smoke_test: smokeExit,
      model_test: '{"metrics": {"accuracy": 0.95}}',
    });
    assert.equal(r.outputVariables.testsPassed, '6'); // 2 smoke tests, model run, 3 assertion checks
  });

  it('survives 10% injected faults and a reset after runs/submit with exactly one run', async () => {
    // The first submit reaches the server, which starts the run, but the answer is lost.
    emu.addFault({ kind: 'resetAfter', api: 'jobs.runs.submit', count: 1 });
    emu.addRandomFaults(0.1, { api: /^jobs\./, kinds: ['429', '500', '503', 'resetBefore', 'resetAfter'] });
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 2500 });
    const r = await run({ notebookPath: SMOKE });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    const runs = ws.runs();
    assert.equal(runs.length, 1, 'exactly one run exists');
    assert.ok(runs[0].submitRequests >= 2, `submit requests: ${runs[0].submitRequests}`);
    assert.equal(r.outputVariables.runId, String(runs[0].run_id));
    assert.ok(emu.journal.filter((e) => e.fault).length >= 2, 'faults were injected');
  });

  it('keeps polling across OAuth token expiry', async () => {
    ws.addServicePrincipal(SP);
    ws.setTokenTtl(1);
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 3000 });
    const r = await run(
      { notebookPath: SMOKE },
      {
        endpoints: {
          dbx: {
            url: ws.url,
            scheme: 'UsernamePassword',
            parameters: { username: SP.clientId, password: SP.secret },
          },
        },
      },
    );
    assert.equal(r.outcome, 'Succeeded', explain(r));
    assert.ok(emu.requests({ api: 'oidc.token' }).length >= 2, 'the token was refreshed');
    const rejected = emu.journal.filter(
      (e) => e.api.startsWith('jobs.') && (e.status === 401 || e.status === 403),
    );
    assert.deepEqual(rejected, []);
    r.assertNoSecrets();
  });

  it('replaces an OAuth token revoked server-side mid-run and keeps polling', async () => {
    ws.addServicePrincipal(SP);
    ws.scriptRun(SMOKE, { exitValue: smokeExit, durationMs: 2500 });
    // Record the tokens the workspace hands out, to revoke them while the run is polled.
    const minted: string[] = [];
    const issue = emu.tokens.issue.bind(emu.tokens);
    emu.tokens.issue = (claims, ttl) => {
      const t = issue(claims, ttl);
      minted.push(t.token);
      return t;
    };
    let revoked = 0;
    try {
      const r = await run(
        { notebookPath: SMOKE },
        {
          endpoints: {
            dbx: {
              url: ws.url,
              scheme: 'UsernamePassword',
              parameters: { username: SP.clientId, password: SP.secret },
            },
          },
          onStdoutLine: (line) => {
            if (line.startsWith('Run page: ')) {
              revoked = minted.length;
              for (const t of minted) emu.tokens.revoke(t);
            }
          },
        },
      );
      assert.equal(r.outcome, 'Succeeded', explain(r));
      assert.ok(revoked >= 1, 'a token was revoked mid-run');
      const rejected = emu.journal.filter((e) => e.api.startsWith('jobs.') && e.status === 403);
      assert.ok(rejected.length >= 1, 'the revoked token was used once');
      assert.ok(emu.requests({ api: 'oidc.token' }).length >= 2, 'a new token was fetched');
      for (const e of rejected) {
        const next = emu.journal.find((j) => j.seq > e.seq && j.api === e.api);
        assert.equal(next?.status, 200, 'the rejected call was resent and succeeded');
      }
      r.assertNoSecrets();
    } finally {
      emu.tokens.issue = issue;
    }
  });

  describe('bad inputs', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'malformed parameters',
        { notebookPath: SMOKE, parameters: '{"env": "test",}' },
        /^Input 'parameters' is not valid JSON: .* at line 1, column 16\.$/,
      ],
      [
        'a parameter line without =',
        { notebookPath: SMOKE, parameters: 'env=test\noops' },
        /^Input 'parameters' line 2 must look like key=value/,
      ],
      [
        'bad cluster JSON',
        {
          notebookPath: SMOKE,
          cluster: 'new',
          newClusterJson: '{\n  "spark_version": "15.4.x-scala2.12",\n  "num_workers": 2,\n}',
        },
        /^Input 'newClusterJson' is not valid JSON: .* at line 4, column 1\.$/,
      ],
      [
        'a cluster spec without spark_version',
        { notebookPath: SMOKE, cluster: 'new', newClusterJson: '{"num_workers": 1}' },
        /^Input 'newClusterJson' must give spark_version/,
      ],
      [
        'an empty notebook path',
        { notebookPath: '  \n ' },
        /^Input 'notebookPath' is empty: give one workspace notebook path per line/,
      ],
      [
        'a relative notebook path',
        { notebookPath: 'tests/smoke' },
        /^Input 'notebookPath': "tests\/smoke" is not an absolute workspace path/,
      ],
      [
        'a bad assertion',
        { notebookPath: SMOKE, assertions: 'metrics.accuracy => 0.9' },
        /^Input 'assertions' line 1, column 18: write >= rather than =>/,
      ],
      [
        'a bad timeout',
        { notebookPath: SMOKE, timeoutMinutes: '-5' },
        /^Input 'timeoutMinutes' must be a number of minutes greater than 0/,
      ],
      [
        'a missing cluster id',
        { notebookPath: SMOKE, cluster: 'existing' },
        /^Input 'existingClusterId' is required when cluster is 'existing'/,
      ],
      [
        'an unknown cluster id',
        { notebookPath: SMOKE, cluster: 'existing', existingClusterId: '9999-000000-nosuchcl' },
        /^Input 'existingClusterId': cluster '9999-000000-nosuchcl' does not exist in https:\/\/127\.0\.0\.1:\d+\. Check the cluster id/,
      ],
    ];
    for (const [name, inputs, message] of cases) {
      it(`fails clearly on ${name}`, async () => {
        const r = await run(inputs);
        assert.equal(r.outcome, 'Failed', explain(r));
        assert.match(r.result?.message ?? '', message);
        assert.equal(ws.runs().length, 0, 'nothing was submitted');
        r.assertNoSecrets();
      });
    }
  });
});
