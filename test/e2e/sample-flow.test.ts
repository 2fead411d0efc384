/**
 * `npm start` headless: samples/azure-pipelines.yml run step by step with the bundled
 * tasks against the emulator (scripts/sample-pipeline.ts), then the final state of every
 * emulated environment checked: notebooks deployed with tokens replaced, factory objects
 * with the environment's overrides, notebook and pipeline runs recorded, and prod never
 * touched after the scripted model-test failure in test.
 */
import * as assert from 'node:assert/strict';
import { startEmulator, type FullEmulator } from '../emulator/index';
import type { Workspace } from '../emulator/databricks';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import {
  formatTable,
  runSampleFlow,
  unexpectedOutcomes,
  type SampleFlowResult,
  type StepResult,
} from '../../scripts/sample-pipeline';

const FOLDER = '/Shared/churn';
const DEPLOYED = [
  'conf/env',
  'conf/settings.json',
  'features/customer_features',
  'ingest/ingest_orders',
  'lib/quality.py',
  'scoring/score_customers',
  'tests/model_test',
  'tests/smoke_test',
];

describe('sample pipeline (npm start, headless)', function () {
  this.timeout(120_000);
  let full: FullEmulator;
  let result: SampleFlowResult;
  const lines: string[] = [];

  before(async function () {
    this.timeout(180_000);
    const [built, emulator] = await Promise.all([buildOnce(TASKS_ROOT), startEmulator({ seed: 11 })]);
    full = emulator;
    result = await runSampleFlow({ distDir: built.out, emulator: full, log: (l) => lines.push(l) });
  });

  after(async () => {
    await full?.stop();
  });

  const env = (name: string) => {
    const e = result.env.environments.get(name);
    assert.ok(e, `environment ${name}`);
    return e;
  };
  const step = (stage: string, name: string): StepResult => {
    const s = result.steps.find((x) => x.stage === stage && x.step === name);
    assert.ok(
      s,
      `step ${stage} › ${name}; have ${result.steps.map((x) => `${x.stage} › ${x.step}`).join(', ')}`,
    );
    return s;
  };
  const tree = (ws: Workspace) =>
    ws
      .paths({ under: FOLDER })
      .filter((p) => ws.objectType(p) !== 'DIRECTORY' && !p.includes('.deploy-manifest'))
      .map((p) => p.slice(FOLDER.length + 1));

  it('runs every stage as scripted, with every task built', () => {
    const explain = `\n${lines.slice(-80).join('\n')}`;
    assert.deepEqual(
      result.stages.map((s) => `${s.name} ${s.outcome}`),
      ['Build Succeeded', 'Dev Succeeded', 'Test Failed', 'Prod Skipped'],
      explain,
    );
    assert.deepEqual(unexpectedOutcomes(result), [], explain);
    assert.deepEqual(
      result.steps.filter((s) => s.outcome === 'Not built').map((s) => s.step),
      [],
    );
    // Every step of Build, Dev and Test ran, except what follows the failing model test.
    for (const s of result.steps.filter((x) => x.stage !== 'Prod')) {
      if (s.stage === 'Test' && s.step === 'Model tests') assert.equal(s.outcome, 'Failed');
      else assert.equal(s.outcome, 'Succeeded', `${s.stage} › ${s.step}: ${s.note ?? ''}`);
    }
    const table = formatTable(result, 'dist/x.vsix').join('\n');
    assert.match(table, /Test › deploy_test › Model tests\s+\S*Failed/);
    assert.match(table, /Extension: dist\/x\.vsix/);
  });

  it('exports the ARM templates in Build and publishes them with the notebooks', () => {
    const build = step('Build', 'Validate the factory and export its ARM templates');
    assert.equal(build.outputs.resourceCount, '9');
    assert.equal(build.outputs.parameterCount, '12');
    assert.match(step('Build', 'Publish the ARM templates').note ?? '', /artifact adf \(2 files\)/);
    assert.match(step('Build', 'Publish the notebooks').note ?? '', /artifact notebooks \(8 files\)/);
  });

  for (const name of ['dev', 'test']) {
    it(`deploys the notebooks to ${name} with the stage's token values`, () => {
      const ws = env(name).workspace;
      assert.deepEqual(tree(ws).sort(), DEPLOYED);
      assert.equal(ws.language(`${FOLDER}/features/customer_features`), 'SQL');
      assert.equal(ws.language(`${FOLDER}/scoring/score_customers`), 'SCALA');
      assert.equal(ws.objectType(`${FOLDER}/lib/quality.py`), 'FILE');
      const conf = ws.content(`${FOLDER}/conf/env`) ?? '';
      assert.match(conf, new RegExp(`ENVIRONMENT = "${name}"`));
      assert.match(conf, new RegExp(`CATALOG = "churn_${name}"`));
      assert.match(conf, new RegExp(`STORAGE_ACCOUNT = "stchurn${name}"`));
      for (const p of DEPLOYED) assert.doesNotMatch(ws.content(`${FOLDER}/${p}`) ?? '', /#\{[A-Za-z_]/, p);
    });

    it(`deploys the factory to ${name} with its overrides and the trigger started`, () => {
      const f = env(name).factory();
      assert.ok(f);
      const snap = f.snapshot();
      assert.deepEqual(Object.keys(snap.pipelines ?? {}).sort(), ['PL_Daily_Churn', 'PL_Score_Customers']);
      assert.deepEqual(Object.keys(snap.datasets ?? {}).sort(), [
        'DS_Bronze_Orders_Parquet',
        'DS_Landing_Orders_Csv',
      ]);
      assert.deepEqual(Object.keys(snap.linkedServices ?? {}).sort(), [
        'LS_ADLS',
        'LS_Databricks',
        'LS_KeyVault',
      ]);
      assert.equal(f.triggerRuntimeState('TR_Daily_0200'), 'Started');
      const typeProps = (kind: string, n: string) =>
        (snap[kind][n] as { typeProperties: Record<string, unknown> }).typeProperties;
      assert.equal(
        typeProps('linkedServices', 'LS_KeyVault').baseUrl,
        `https://kv-churn-${name}.vault.azure.net/`,
      );
      assert.equal(
        typeProps('linkedServices', 'LS_ADLS').url,
        `https://stchurn${name}.dfs.core.windows.net/`,
      );
      assert.equal(
        typeProps('linkedServices', 'LS_Databricks').domain,
        name === 'dev' ? 'https://adb-1111111111111111.11.azuredatabricks.net' : env(name).workspace.url,
      );
      const gp = JSON.stringify(snap.globalParameters ?? {});
      assert.match(gp, new RegExp(`"environment":\\{"type":"string","value":"${name}"\\}`), gp);
    });
  }

  it('records the notebook runs: tests pass in dev, the model test fails in test', () => {
    const runs = (name: string) =>
      env(name)
        .workspace.runs()
        .map((r) => `${String(r.tasks[0]?.notebookPath)} ${String(r.state.result_state)}`);
    assert.deepEqual(runs('dev'), [
      `${FOLDER}/tests/smoke_test SUCCESS`,
      `${FOLDER}/tests/model_test SUCCESS`,
    ]);
    assert.deepEqual(runs('test'), [
      `${FOLDER}/tests/smoke_test SUCCESS`,
      `${FOLDER}/tests/model_test FAILED`,
    ]);
    const smoke = step('Dev', 'Smoke tests');
    assert.equal(smoke.run?.publishedTestResults[0]?.properties.runTitle, 'Smoke tests (dev)');
    assert.equal(smoke.outputs.testsPassed, '4');
    const model = step('Test', 'Model tests');
    assert.equal(model.outputs.resultState, 'FAILED');
    assert.equal(model.outputs.runId, String(env('test').workspace.runs()[1].run_id));
  });

  it('records the pipeline runs of the daily churn pipeline in dev and test', () => {
    for (const name of ['dev', 'test']) {
      const runs = [...(env(name).factory()?.runs.values() ?? [])].map((r) => r.toJson());
      assert.equal(runs.length, 1, name);
      assert.equal(runs[0].pipelineName, 'PL_Daily_Churn');
      assert.equal(runs[0].status, 'Succeeded');
      assert.deepEqual(runs[0].parameters, { runDate: '2025-06-01' });
      assert.equal(
        step(name === 'dev' ? 'Dev' : 'Test', 'Run the daily churn pipeline').outputs.runId,
        runs[0].runId,
      );
    }
  });

  it('the prod gate fails on the failed model test and prod is never touched', () => {
    assert.equal(step('Prod', 'Daily churn pipeline in test succeeded').outcome, 'Succeeded');
    const gate = step('Prod', 'Model tests in test succeeded');
    assert.equal(gate.outcome, 'Failed');
    assert.match(gate.note ?? '', /^gate: expression is false/);
    for (const s of result.steps.filter((x) => x.job === 'deploy_prod')) assert.equal(s.outcome, 'Not run');
    const prod = env('prod');
    assert.deepEqual(prod.workspace.paths({ under: FOLDER }), []);
    assert.deepEqual(prod.workspace.runs(), []);
    assert.deepEqual(full.emu.writes({ host: prod.workspace.hostName }), []);
    assert.deepEqual(Object.keys(prod.factory()?.snapshot() ?? {}), []);
    const prodArmWrites = full.emu
      .writes({ host: 'management' })
      .filter((e) => /rg-churn-prod/i.test(e.path));
    assert.deepEqual(prodArmWrites, []);
  });

  it('notices when the flow does not end as scripted', () => {
    const changed = (edit: (s: StepResult) => StepResult): SampleFlowResult => ({
      ...result,
      steps: result.steps.map((s) => edit({ ...s })),
    });
    const prodRan = changed((s) => (s.job === 'deploy_prod' && s.task ? { ...s, outcome: 'Succeeded' } : s));
    assert.match(unexpectedOutcomes(prodRan).join('\n'), /^Prod ran Deploy notebooks, Deploy the factory$/m);
    const modelPassed = changed((s) =>
      s.stage === 'Test' && s.step === 'Model tests' ? { ...s, outcome: 'Succeeded' } : s,
    );
    assert.match(unexpectedOutcomes(modelPassed).join('\n'), /model test in test did not fail as scripted/);
    const smokeFailed = changed((s) =>
      s.stage === 'Dev' && s.step === 'Smoke tests' ? { ...s, outcome: 'Failed', note: 'boom' } : s,
    );
    assert.deepEqual(unexpectedOutcomes(smokeFailed), ['Dev › deploy_dev › Smoke tests failed: boom']);
  });

  it('prints each step as an agent log and ##vso commands readably', () => {
    const text = lines.join('\n');
    assert.match(text, /│ ##\[section\]Starting: Deploy notebooks/);
    assert.match(text, /│ \[output variable\] runId = \d+/);
    assert.match(text, /│ \[test results\] JUnit "Model tests \(test\)"/);
    assert.match(text, /│ \[error\] Notebook \/Shared\/churn\/tests\/model_test TERMINATED FAILED/);
    assert.doesNotMatch(text, /##vso\[/);
  });
});
