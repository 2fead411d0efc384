/**
 * DataFactoryBuildArmTemplate@1 end to end: the bundled task, run as the agent
 * runs it, over the sample factory folders in test/fixtures/adf. Offline: the
 * task makes no network call.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type TaskRun } from '../harness/run-task';

const TASK = 'DataFactoryBuildArmTemplateV1';
const FIXTURES = path.resolve(__dirname, '../fixtures/adf');

function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyDir(path.join(from, e.name), path.join(to, e.name));
    else fs.copyFileSync(path.join(from, e.name), path.join(to, e.name));
  }
}

describe('DataFactoryBuildArmTemplate@1 (e2e)', function () {
  this.timeout(60_000);
  let distDir: string;

  before(async function () {
    this.timeout(120_000);
    distDir = (await buildOnce(TASKS_ROOT)).out;
  });

  function explain(r: TaskRun): string {
    return `${r.outcome}: ${r.result?.message}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`;
  }

  /** Copies a fixture into a fresh "repository" (as adf/) and runs the task against it. */
  async function runOn(fixture: string, inputs: Record<string, string> = {}) {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-e2e-repo-'));
    copyDir(path.join(FIXTURES, fixture), path.join(repo, 'adf'));
    const r = await runTask({
      task: TASK,
      distDir,
      inputs: { factoryFolder: 'adf', outputFolder: '', ...inputs },
      sourcesDirectory: repo,
      keepWorkFolder: true,
    });
    return { r, repo, staging: r.env.BUILD_ARTIFACTSTAGINGDIRECTORY };
  }

  it('exports the sample factory: files identical to the golden export, outputs, summary', async () => {
    const { r, staging, repo } = await runOn('sample-factory');
    try {
      assert.equal(r.outcome, 'Succeeded', explain(r));
      r.assertNoSecrets();
      const out = path.join(staging, 'adf');
      assert.equal(r.outputVariables.templateFile, path.join(out, 'ARMTemplateForFactory.json'));
      assert.equal(r.outputVariables.parametersFile, path.join(out, 'ARMTemplateParametersForFactory.json'));
      assert.equal(r.outputVariables.resourceCount, '28');
      assert.equal(r.outputVariables.parameterCount, '23');
      for (const f of ['ARMTemplateForFactory.json', 'ARMTemplateParametersForFactory.json']) {
        assert.equal(
          fs.readFileSync(path.join(out, f), 'utf8'),
          fs.readFileSync(path.join(FIXTURES, 'golden', 'default', f), 'utf8'),
          f,
        );
      }
      assert.equal(r.summaries.length, 1);
      assert.match(r.summaries[0].content ?? '', /## Data Factory ARM template: adf-sample-dev/);
      assert.match(r.summaries[0].content ?? '', /\| linked service \| 7 \|/);
      assert.deepEqual(r.issues, []);
      assert.ok(r.groups.some((g) => g.title.startsWith('Validate ')));
      assert.match(r.result?.message ?? '', /Exported 28 resources and 23 parameters/);
    } finally {
      r.cleanup();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('fails on an invalid factory with one annotation per problem, each with file, line and column', async () => {
    const { r, repo } = await runOn('invalid-factory');
    try {
      assert.equal(r.outcome, 'Failed', explain(r));
      assert.match(r.result?.message ?? '', /found 23 error\(s\); each is annotated with its file and line/);
      // Plus one error issue without a file: the task's result message.
      const errors = r.issues.filter((i) => i.type === 'error' && i.properties.sourcepath);
      const warnings = r.issues.filter((i) => i.type === 'warning');
      assert.equal(errors.length, 23);
      assert.equal(warnings.length, 3);
      const refs = errors.find((i) => i.message.includes("references dataset 'DS_Missing'"));
      assert.ok(refs, 'the unresolved dataset is annotated');
      assert.equal(refs.properties.sourcepath, path.join(repo, 'adf', 'pipeline', 'PL_Refs.json'));
      assert.equal(refs.properties.linenumber, '19');
      assert.equal(refs.properties.columnnumber, '24');
      const json = errors.find((i) => i.message.includes('invalid JSON'));
      assert.equal(json?.properties.linenumber, '3');
      assert.equal(r.outputVariables.templateFile, undefined);
      assert.match(r.summaries[0]?.content ?? '', /Validation ❌ failed \(23 error\(s\), 3 warning\(s\)\)/);
    } finally {
      r.cleanup();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('custom definition, linked templates always, explicit output folder and factory name', async () => {
    const def = path.join(FIXTURES, 'definitions', 'every-syntax-form.json');
    const { r, repo } = await runOn('sample-factory', {
      parametersDefinitionFile: def,
      linkedTemplates: 'always',
      outputFolder: 'out/arm',
      factoryName: 'adf-sample-dev',
    });
    try {
      assert.equal(r.outcome, 'Succeeded', explain(r));
      const out = path.join(repo, 'out', 'arm');
      assert.equal(r.outputVariables.parameterCount, '46');
      assert.equal(
        fs.readFileSync(path.join(out, 'ARMTemplateForFactory.json'), 'utf8'),
        fs.readFileSync(
          path.join(FIXTURES, 'golden', 'custom-definition', 'ARMTemplateForFactory.json'),
          'utf8',
        ),
      );
      assert.deepEqual(fs.readdirSync(path.join(out, 'linkedTemplates')).sort(), [
        'ArmTemplateParameters_master.json',
        'ArmTemplate_0.json',
        'ArmTemplate_1.json',
        'ArmTemplate_master.json',
      ]);
    } finally {
      r.cleanup();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('validateOnly writes nothing and still reports the counts', async () => {
    const { r, staging, repo } = await runOn('sample-factory', { validateOnly: 'true' });
    try {
      assert.equal(r.outcome, 'Succeeded', explain(r));
      assert.equal(r.outputVariables.templateFile, '');
      assert.equal(r.outputVariables.resourceCount, '28');
      assert.equal(fs.existsSync(path.join(staging, 'adf')), false);
    } finally {
      r.cleanup();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('bad inputs fail fast with a message naming the input', async () => {
    const missing = await runOn('sample-factory', { factoryFolder: 'no-such-folder' });
    try {
      assert.equal(missing.r.outcome, 'Failed');
      assert.match(
        missing.r.result?.message ?? '',
        /Input 'factoryFolder' must be the factory's git root folder/,
      );
    } finally {
      missing.r.cleanup();
      fs.rmSync(missing.repo, { recursive: true, force: true });
    }
    const pick = await runOn('sample-factory', { linkedTemplates: 'sometimes' });
    try {
      assert.equal(pick.r.outcome, 'Failed');
      assert.match(pick.r.result?.message ?? '', /linkedTemplates/);
    } finally {
      pick.r.cleanup();
      fs.rmSync(pick.repo, { recursive: true, force: true });
    }
  });
});
