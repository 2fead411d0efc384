/**
 * DatabricksDeployNotebooks@1 end to end: the bundled task, run as the agent
 * runs it, against emulated workspaces. Checks the workspace state, the request
 * journal, outputs, summary, manifest artifact and the messages of bad input.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Emulator } from '../emulator/core';
import { installDatabricks, type Workspace } from '../emulator/databricks';
import { bodyToDbcEntry } from '../emulator/databricks/notebook-format';
import { writeZip } from '../emulator/databricks/zip';
import { installDevops, type DevopsPlugin } from '../emulator/devops';
import { installEntra, type EntraPlugin } from '../emulator/entra';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type EndpointSpec, type RunTaskOptions, type TaskRun } from '../harness/run-task';

const TASK = 'DatabricksDeployNotebooksV1';
const PAT = 'dapi-e2e-deploy-0123456789abcdef0123';
const DEV_PAT = 'dapi-e2e-dev-0123456789abcdef01234567';
const T = '/Shared/sales';
const PY = '# Databricks notebook source\n';
const SQL = '-- Databricks notebook source\n';

const SOURCE: Record<string, string> = {
  'etl/load.py': PY + 'print("load")\n',
  'etl/transform.sql': SQL + 'SELECT 1\n',
  'etl/lib/helpers.py': 'def helper():\n    return 1\n',
  'reports/daily.scala': '// Databricks notebook source\nprintln("daily")\n',
  'reports/explore.ipynb': JSON.stringify({
    cells: [{ cell_type: 'code', source: ['print(1)'], metadata: {}, outputs: [], execution_count: null }],
    metadata: { 'application/vnd.databricks.v1+notebook': { language: 'python' } },
    nbformat: 4,
    nbformat_minor: 0,
  }),
  'requirements.txt': 'pandas==2.2.0\n',
};

/** Workspace path → expected content (notebooks without extension). */
const EXPECTED_TREE = [
  'etl/lib/helpers.py',
  'etl/load',
  'etl/transform',
  'reports/daily',
  'reports/explore',
  'requirements.txt',
];

describe('DatabricksDeployNotebooks@1 (e2e)', function () {
  this.timeout(120_000);

  let emu: Emulator;
  let prod: Workspace;
  let dev: Workspace;
  let entra: EntraPlugin;
  let devops: DevopsPlugin;
  let distDir: string;
  let src: string;

  before(async () => {
    const built = await buildOnce(TASKS_ROOT);
    distDir = built.out;
    emu = await Emulator.create({ seed: 42 });
    const dbx = installDatabricks(emu);
    entra = await installEntra(emu);
    devops = await installDevops(emu);
    prod = await dbx.addWorkspace('prod');
    dev = await dbx.addWorkspace('dev');
  });

  after(async () => {
    await emu?.stop();
  });

  beforeEach(() => {
    emu.reset();
    prod.addPat(PAT);
    dev.addPat(DEV_PAT);
    src = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-deploy-src-'));
    writeTree(src, SOURCE);
  });

  afterEach(() => {
    fs.rmSync(src, { recursive: true, force: true });
  });

  function writeTree(root: string, files: Record<string, string | Buffer>): void {
    for (const [rel, content] of Object.entries(files)) {
      const abs = path.join(root, ...rel.split('/'));
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    }
  }

  const patEndpoint = (ws: Workspace, token: string): EndpointSpec => ({
    url: ws.url,
    scheme: 'Token',
    parameters: { apitoken: token },
  });

  function deploy(
    inputs: Record<string, string> = {},
    extra: Partial<RunTaskOptions> = {},
  ): Promise<TaskRun> {
    return runTask({
      task: TASK,
      distDir,
      inputs: {
        authType: 'databricks',
        databricksConnection: 'prod-conn',
        sourceType: 'folder',
        sourceFolder: src,
        targetPath: T,
        include: '**',
        mode: 'merge',
        skipUnchanged: 'true',
        replaceTokens: 'false',
        dryRun: 'false',
        concurrency: '8',
        ...inputs,
      },
      endpoints: {
        'prod-conn': patEndpoint(prod, PAT),
        'dev-conn': patEndpoint(dev, DEV_PAT),
        ...extra.endpoints,
      },
      secrets: [PAT, DEV_PAT, ...(extra.secrets ?? [])],
      env: { ...emu.env(), ...extra.env },
      ...omit(extra, ['endpoints', 'secrets', 'env']),
    });
  }

  function omit<T extends object>(o: T, keys: (keyof T)[]): Partial<T> {
    const out = { ...o };
    for (const k of keys) delete out[k];
    return out;
  }

  /** Relative paths and contents under targetPath, manifest excluded; folders omitted. */
  function tree(ws: Workspace, root = T): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of ws.paths({ under: root })) {
      const type = ws.objectType(p);
      if (type === 'DIRECTORY' || p.endsWith('/.deploy-manifest.json')) continue;
      out[p.slice(root.length + 1)] = ws.content(p) ?? '';
    }
    return out;
  }

  function assertMatchesSource(ws: Workspace, files: Record<string, string>): void {
    const t = tree(ws);
    const expected = Object.keys(files)
      .map((rel) => rel.replace(/\.(py|sql|scala|ipynb)$/, (ext) => (isNotebook(files[rel], ext) ? '' : ext)))
      .sort();
    assert.deepEqual(Object.keys(t).sort(), expected);
    for (const [rel, content] of Object.entries(files)) {
      if (rel.endsWith('.ipynb')) continue;
      const wsRel = rel.replace(/\.(py|sql|scala)$/, (ext) => (isNotebook(content, ext) ? '' : ext));
      assert.equal(t[wsRel], content, wsRel);
    }
  }

  function isNotebook(content: string, ext: string): boolean {
    return ext === '.ipynb' || /^(#|--|\/\/) Databricks notebook source/.test(content);
  }

  const journal = (ws: Workspace, api?: string) => emu.requests({ host: ws.hostName, api });

  it('first deploy: notebooks, files, folders once each; outputs, summary and manifest artifact', async () => {
    const run = await deploy();
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.deepEqual(Object.keys(tree(prod)).sort(), EXPECTED_TREE);
    assertMatchesSource(prod, SOURCE);
    assert.equal(prod.language(`${T}/etl/transform`), 'SQL');
    assert.equal(prod.language(`${T}/reports/daily`), 'SCALA');
    assert.equal(prod.objectType(`${T}/etl/lib/helpers.py`), 'FILE');
    assert.equal(prod.objectType(`${T}/reports/explore`), 'NOTEBOOK');
    assert.equal(prod.objectType(`${T}/.deploy-manifest.json`), 'FILE');

    const mkdirs = journal(prod, 'workspace.mkdirs').map((e) => (e.requestBody as { path: string }).path);
    assert.deepEqual(mkdirs, [T, `${T}/etl`, `${T}/reports`, `${T}/etl/lib`]);
    const writes = emu.writes({ host: prod.hostName });
    assert.equal(
      (writes.at(-1)?.requestBody as { path: string }).path,
      `${T}/.deploy-manifest.json`,
      'manifest last',
    );

    assert.deepEqual(
      {
        imported: run.outputVariables.importedCount,
        unchanged: run.outputVariables.unchangedCount,
        deleted: run.outputVariables.deletedCount,
      },
      { imported: '6', unchanged: '0', deleted: '0' },
    );
    const manifestPath = run.outputVariables.manifestPath;
    assert.match(manifestPath, /Shared_sales\.deploy-manifest\.json$/);
    const artifact = run.uploads.find((u) => u.kind === 'artifact');
    assert.ok(artifact, 'manifest uploaded as an artifact');
    assert.equal(artifact.properties.artifactname, 'databricks-deploy-manifests');
    const manifest = JSON.parse(artifact.content ?? '{}');
    assert.equal(manifest.entries['etl/load'].language, 'PYTHON');
    assert.equal(
      manifest.entries['etl/load'].sha256,
      crypto.createHash('sha256').update(SOURCE['etl/load.py']).digest('hex'),
    );
    assert.equal(manifest.entries['etl/load'].objectId, prod.objectId(`${T}/etl/load`));

    assert.equal(run.summaries.length, 1);
    const summary = run.summaries[0].content ?? '';
    assert.match(summary, /\| Created \| 6 \|/);
    assert.ok(summary.includes(`](${prod.url}/#workspace/Shared/sales/etl/load)`), summary);
    assert.match(summary, /Time taken: /);
    assert.match(
      run.stdout,
      /etl\/load\.py → etl\/load: \.py with header "# Databricks notebook source": PYTHON notebook/,
    );
    assert.match(
      run.stdout,
      /etl\/lib\/helpers\.py → etl\/lib\/helpers\.py: \.py without the notebook header/,
    );
    assert.match(run.stdout, /Total: 6 created, 0 updated, 0 unchanged, 0 deleted in /);
    assert.ok(run.groups.some((g) => /^Plan for \/Shared\/sales \(merge\): 6 to create/.test(g.title)));
  });

  it('redeploy with no change sends no import requests', async () => {
    await deploy();
    emu.clearJournal();
    const run = await deploy({ mode: 'mirror' });
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.deepEqual(journal(prod, 'workspace.import'), []);
    assert.deepEqual(emu.writes({ host: prod.hostName }), []);
    assert.equal(run.outputVariables.importedCount, '0');
    assert.equal(run.outputVariables.unchangedCount, '6');
  });

  for (const mode of ['merge', 'mirror'] as const) {
    it(`a changed and a removed notebook in ${mode} mode`, async () => {
      await deploy({ mode });
      writeTree(src, { 'etl/load.py': PY + 'print("load v2")\n' });
      fs.rmSync(path.join(src, 'reports/daily.scala'));
      emu.clearJournal();
      const run = await deploy({ mode });
      assert.equal(run.outcome, 'Succeeded', run.stdout);
      assert.equal(prod.content(`${T}/etl/load`), PY + 'print("load v2")\n');
      const imports = journal(prod, 'workspace.import').map((e) => (e.requestBody as { path: string }).path);
      assert.deepEqual(imports, [`${T}/etl/load`, `${T}/.deploy-manifest.json`]);
      assert.equal(run.outputVariables.importedCount, '1');
      if (mode === 'merge') {
        assert.ok(prod.get(`${T}/reports/daily`), 'merge keeps the removed notebook');
        assert.equal(run.outputVariables.deletedCount, '0');
      } else {
        assert.equal(prod.get(`${T}/reports/daily`), undefined, 'mirror deletes it');
        assert.equal(run.outputVariables.deletedCount, '1');
        const { 'reports/daily.scala': _gone, ...rest } = SOURCE;
        assertMatchesSource(prod, { ...rest, 'etl/load.py': PY + 'print("load v2")\n' });
      }
    });
  }

  it('dry run prints the plan and writes nothing', async () => {
    prod.addNotebook(`${T}/stale`, PY + 'old');
    emu.clearJournal();
    const run = await deploy({ dryRun: 'true', mode: 'mirror' });
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.deepEqual(emu.writes({ host: prod.hostName }), []);
    assert.match(run.stdout, /create {5}\/Shared\/sales\/etl\/load/);
    assert.match(run.stdout, /delete {5}\/Shared\/sales\/stale/);
    assert.ok(
      run.groups.some((g) =>
        /^Dry run: plan for \/Shared\/sales \(mirror\): 6 to create, 0 to update, 0 unchanged, 1 to delete/.test(
          g.title,
        ),
      ),
    );
    assert.equal(run.outputVariables.importedCount, '6');
    assert.equal(run.outputVariables.deletedCount, '1');
    assert.equal(run.outputVariables.manifestPath, '');
    assert.match(run.summaries[0].content ?? '', /Nothing was changed \(dry run\)/);
  });

  it('reports drift (edited by hand in the workspace) and overwrites it', async () => {
    await deploy();
    prod.edit(`${T}/etl/load`, PY + 'print("hotfix in prod")\n');
    const run = await deploy();
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.ok(
      run.warnings.some((w) => /Drift: \/Shared\/sales\/etl\/load was edited in the workspace/.test(w)),
      run.warnings.join('\n'),
    );
    assert.equal(prod.content(`${T}/etl/load`), SOURCE['etl/load.py']);
    assert.match(run.summaries[0].content ?? '', /#### Drift/);
  });

  it('detects a hand-edited notebook where the workspace lists notebooks without timestamps', async () => {
    // The documented list response has created_at/modified_at for files only.
    prod.configure({ notebookTimestamps: false });
    await deploy();
    emu.clearJournal();
    const idle = await deploy();
    assert.equal(idle.outcome, 'Succeeded', idle.stdout);
    assert.deepEqual(emu.writes({ host: prod.hostName }), [], 'an idle redeploy writes nothing');
    assert.ok(
      journal(prod, 'workspace.list').some((e) => /notebooks_modified_after=\d+/.test(e.query)),
      'notebook edits are looked for with notebooks_modified_after',
    );

    prod.edit(`${T}/etl/transform`, SQL + 'SELECT "hotfix in prod"\n');
    emu.clearJournal();
    const run = await deploy();
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.ok(
      run.warnings.some((w) =>
        /Drift: \/Shared\/sales\/etl\/transform was edited in the workspace after the last deploy/.test(w),
      ),
      run.warnings.join('\n'),
    );
    assert.equal(prod.content(`${T}/etl/transform`), SOURCE['etl/transform.sql'], 'overwritten');
    assert.deepEqual(
      journal(prod, 'workspace.import').map((e) => (e.requestBody as { path: string }).path),
      [`${T}/etl/transform`, `${T}/.deploy-manifest.json`],
    );
    const again = await deploy();
    assert.equal(again.outputVariables.importedCount, '0');
    assert.equal(again.warnings.filter((w) => /Drift/.test(w)).length, 0);
  });

  it('updates a DBC archive without deleting it before the new one is proven', async () => {
    const archive = (text: string) =>
      writeZip([{ name: 'job.python', content: bodyToDbcEntry(text, 'PYTHON', 'job', 1) }]);
    writeTree(src, { 'archives/job.dbc': archive('print("v1")') });
    assert.equal((await deploy()).outcome, 'Succeeded');
    assert.match(prod.content(`${T}/archives/job`) ?? '', /print\("v1"\)/);

    writeTree(src, { 'archives/job.dbc': archive('print("v2")') });
    emu.clearJournal();
    const run = await deploy();
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.match(prod.content(`${T}/archives/job`) ?? '', /print\("v2"\)/);
    assert.equal(prod.get(`${T}/archives/.deploy-staging.job`), undefined, 'staging copy removed');
    const writes = emu
      .writes({ host: prod.hostName })
      .map((e) => `${e.api} ${(e.requestBody as { path: string }).path}`);
    const staged = writes.indexOf(`workspace.import ${T}/archives/.deploy-staging.job`);
    assert.ok(
      staged >= 0 && staged < writes.indexOf(`workspace.delete ${T}/archives/job`),
      writes.join('\n'),
    );
  });

  it('promotes a folder from a second workspace', async () => {
    dev.addNotebook('/Shared/dev-sales/etl/load', PY + 'print("from dev")\n', 'PYTHON');
    dev.addNotebook('/Shared/dev-sales/etl/q', SQL + 'SELECT 2\n', 'SQL');
    dev.addFile('/Shared/dev-sales/conf/settings.yml', 'env: dev\n');
    const run = await deploy({
      sourceType: 'workspace',
      sourceConnection: 'dev-conn',
      sourcePath: '/Workspace/Shared/dev-sales',
      sourceFolder: '',
    });
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.deepEqual(tree(prod), {
      'conf/settings.yml': 'env: dev\n',
      'etl/load': PY + 'print("from dev")\n',
      'etl/q': SQL + 'SELECT 2\n',
    });
    assert.equal(prod.language(`${T}/etl/q`), 'SQL');
    assert.equal(
      prod.get(`${T}/conf/settings.yml`)?.importFormat,
      'RAW',
      'workspace files are copied as RAW',
    );
    assert.deepEqual(emu.writes({ host: dev.hostName }), [], 'the source workspace is only read');
  });

  it('authenticates with an Azure Resource Manager connection using workload identity federation', async () => {
    const tenantId = entra.defaultTenantId;
    const clientId = crypto.randomUUID();
    const sc = devops.addServiceConnection({ name: 'azure-wif' });
    entra.addApp({
      tenantId,
      clientId,
      federated: { issuer: devops.issuer, subject: devops.subjectFor(sc.name) },
    });
    prod.addEntraPrincipal(clientId);
    const run = await deploy(
      { authType: 'azureRM', azureSubscription: sc.id, workspaceUrl: prod.url, databricksConnection: '' },
      {
        endpoints: {
          [sc.id]: {
            url: 'https://management.azure.com/',
            scheme: 'WorkloadIdentityFederation',
            parameters: { serviceprincipalid: clientId, tenantid: tenantId },
            data: {
              activeDirectoryAuthority: entra.authorityHost,
              subscriptionId: '00000000-0000-4000-8000-000000000001',
              environment: 'AzureCloud',
            },
          },
        },
        variables: { 'System.OidcRequestUri': devops.oidcRequestUri },
        systemAccessToken: devops.issueAccessToken(),
      },
    );
    assert.equal(run.outcome, 'Succeeded', run.stdout + run.stderr);
    assertMatchesSource(prod, SOURCE);
    assert.ok(journal(prod, 'workspace.import').every((e) => e.authScheme === 'Bearer'));
    assert.ok(entra.issued.some((t) => t.via === 'federated' && t.clientId === clientId));
  });

  it('with 10% injected faults the task succeeds and the workspace matches the source exactly', async () => {
    prod.addNotebook(`${T}/stale/old`, PY + 'old');
    prod.addFile(`${T}/stale.txt`, 'x');
    emu.addRandomFaults(0.1, { host: prod.hostName });
    const run = await deploy({ mode: 'mirror' });
    emu.clearFaults();
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    const faults = journal(prod).filter((e) => e.fault && e.fault !== 'rateLimit');
    assert.ok(faults.length > 0, 'some faults fired');
    assertMatchesSource(prod, SOURCE);
    // And the next run sees no drift and changes nothing.
    emu.clearJournal();
    const again = await deploy({ mode: 'mirror' });
    assert.equal(again.outputVariables.importedCount, '0');
    assert.equal(again.warnings.filter((w) => /Drift/.test(w)).length, 0);
  });

  it('a permanent failure midway: the rest is imported, nothing deleted, every failure listed', async () => {
    await deploy({ mode: 'mirror' });
    prod.addNotebook(`${T}/stale`, PY + 'old');
    writeTree(src, { 'etl/big.py': PY + 'x'.repeat(5000), 'etl/load.py': PY + 'v2\n' });
    const manifestBefore = prod.content(`${T}/.deploy-manifest.json`);
    // The workspace rejects this one file for good.
    prod.importSizeLimit = 4000;
    const run = await deploy({ mode: 'mirror' });
    assert.equal(run.outcome, 'Failed');
    assert.match(
      run.result?.message ?? '',
      /^1 operation\(s\) failed; no deletes were run: \/Shared\/sales\/etl\/big \(create\): .*400 MAX_NOTEBOOK_SIZE_EXCEEDED/,
    );
    assert.equal(prod.content(`${T}/etl/load`), PY + 'v2\n', 'the others were imported');
    assert.ok(prod.get(`${T}/stale`), 'nothing deleted');
    assert.equal(prod.content(`${T}/.deploy-manifest.json`), manifestBefore, 'manifest unchanged');
    assert.equal(run.outputVariables.manifestPath, '');
    assert.match(run.summaries[0].content ?? '', /\*\*Failed\*\*/);
  });

  it('a cancelled run stops, deletes nothing, writes no manifest and reports Cancelled', async () => {
    prod.addNotebook(`${T}/stale`, PY + 'old');
    emu.setLatency(300, 'workspace.import');
    const run = await deploy(
      { mode: 'mirror', concurrency: '1' },
      {
        onStdoutLine: (line, control) => {
          if (/^Plan for /.test(line.replace(/^##\[group\]/, ''))) control.kill('SIGTERM');
        },
      },
    );
    assert.equal(run.outcome, 'Cancelled', run.stdout);
    assert.ok(prod.get(`${T}/stale`), 'nothing deleted');
    assert.equal(prod.get(`${T}/.deploy-manifest.json`), undefined);
    assert.ok(journal(prod, 'workspace.import').length < 6, 'stopped early');
  });

  it('replaces tokens from pipeline variables, masking secret values', async () => {
    const secret = 'S3cret-Value-For-Prod!';
    writeTree(src, { 'etl/load.py': PY + 'env = "#{Environment}#"\nkey = "#{Storage.Key}#"\n' });
    const run = await deploy(
      { replaceTokens: 'true' },
      { variables: { Environment: 'prod' }, secretVariables: { 'Storage.Key': secret } },
    );
    assert.equal(run.outcome, 'Succeeded', run.stdout);
    assert.equal(prod.content(`${T}/etl/load`), PY + `env = "prod"\nkey = "${secret}"\n`);
    assert.ok(run.secretsSet.includes(secret), 'registered with the agent');
    // The harness fails the run on any leak of the secret into logs, summaries or files.
    run.assertNoSecrets();
  });

  describe('bad input fails before any change, with a message naming the input', () => {
    const cases: {
      name: string;
      inputs: () => Record<string, string>;
      setup?: () => void;
      message: RegExp;
    }[] = [
      {
        name: 'missing folder',
        inputs: () => ({ sourceFolder: path.join(src, 'nope') }),
        message: /Input 'sourceFolder': the folder '.*nope' does not exist\./,
      },
      {
        name: 'empty selection',
        inputs: () => ({ include: '**/*.java' }),
        message:
          /No files selected: 6 file\(s\) in '.*' but none matches include \[\*\*\/\*\.java\]\. Check the 'include' and 'exclude' inputs\./,
      },
      {
        name: 'conflicting names',
        inputs: () => ({}),
        setup: () => writeTree(src, { 'etl/load.sql': SQL + 'SELECT 3\n' }),
        message:
          /workspace path\(s\) would receive more than one source .* etl\/load: etl\/load\.py \(notebook \(PYTHON\)\) and etl\/load\.sql \(notebook \(SQL\)\)/s,
      },
      {
        name: 'dangerous mirror target',
        inputs: () => ({ mode: 'mirror', targetPath: '/Workspace/Users/someone@example.com/' }),
        message:
          /Input 'targetPath': mirror mode refuses '\/Workspace\/Users\/someone@example\.com\/' because it is the home folder of someone@example\.com/,
      },
      {
        name: 'bad URL',
        inputs: () => ({
          authType: 'azureRM',
          azureSubscription: 'arm',
          workspaceUrl: 'https://example.com',
        }),
        message: /Input 'workspaceUrl' must be an Azure Databricks workspace URL/,
      },
      {
        name: 'over-size file',
        inputs: () => ({}),
        setup: () => writeTree(src, { 'data/huge.csv': Buffer.alloc(10 * 1024 * 1024 + 1, 'a') }),
        message:
          /1 file\(s\) exceed the workspace import limit of 10485760 bytes; nothing was changed\. .*data\/huge\.csv \(10485761 bytes\)/s,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        c.setup?.();
        emu.clearJournal();
        const run = await deploy(c.inputs(), {
          endpoints: {
            arm: {
              url: 'https://management.azure.com/',
              scheme: 'ServicePrincipal',
              parameters: {
                serviceprincipalid: crypto.randomUUID(),
                tenantid: entra.defaultTenantId,
                authenticationType: 'spnKey',
                serviceprincipalkey: 'not-used-secret',
              },
              data: { activeDirectoryAuthority: entra.authorityHost },
            },
          },
        });
        assert.equal(run.outcome, 'Failed');
        assert.match(run.result?.message ?? '', c.message);
        assert.deepEqual(emu.writes({ host: prod.hostName }), []);
      });
    }
  });
});
