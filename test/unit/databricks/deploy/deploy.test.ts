import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../../../../src/common/logger';
import { clearSecretsForTest } from '../../../../src/common/secrets';
import {
  deployNotebooks,
  failureMessage,
  type DeployNotebooksOptions,
} from '../../../../src/databricks/deploy/deploy';
import { DeployInputError } from '../../../../src/databricks/deploy/errors';
import { parseManifest } from '../../../../src/databricks/deploy/manifest';
import { WorkspaceClient } from '../../../../src/databricks/workspace-client';
import { FakeWorkspace, type FakeCall } from './fake-workspace';
import { PY } from './helpers';

const T = '/Shared/sales';

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

describe('deploy/deploy (against an in-memory workspace)', () => {
  let dir: string;
  let fake: FakeWorkspace;
  let logger: MemoryLogger;

  const baseFiles = {
    'etl/load.py': PY + 'print("load")\n',
    'etl/transform.sql': '-- Databricks notebook source\nSELECT 1\n',
    'etl/lib/helpers.py': 'def f():\n    return 1\n',
    'reports/daily.scala': '// Databricks notebook source\nprintln(1)\n',
    'requirements.txt': 'pandas\n',
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-unit-'));
    writeTree(dir, baseFiles);
    fake = new FakeWorkspace();
    logger = new MemoryLogger();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    clearSecretsForTest();
  });

  const run = (over: Partial<DeployNotebooksOptions> = {}) =>
    deployNotebooks({
      workspace: new WorkspaceClient(fake, fake.url),
      source: { type: 'folder', folder: dir },
      targetPath: T,
      mode: 'merge',
      skipUnchanged: true,
      replaceTokens: false,
      dryRun: false,
      concurrency: 4,
      logger,
      requestCount: () => fake.stats.requests,
      ...over,
    });
  const ops = (calls: FakeCall[]) => calls.map((c) => `${c.op} ${c.path}`);

  it('first deploy: folders once each, parents first, then imports, manifest last', async () => {
    const r = await run();
    assert.equal(r.failures.length, 0);
    assert.equal(r.created.length, 5);
    const writes = fake.writes();
    const mkdirs = writes.filter((c) => c.op === 'mkdirs').map((c) => c.path);
    assert.deepEqual(mkdirs, [T, `${T}/etl`, `${T}/reports`, `${T}/etl/lib`]);
    const firstImport = writes.findIndex((c) => c.op === 'import');
    assert.ok(
      writes.slice(firstImport).every((c) => c.op === 'import'),
      'no mkdirs after imports began',
    );
    assert.deepEqual(writes.at(-1), {
      op: 'import',
      path: `${T}/.deploy-manifest.json`,
      transport: 'json',
      format: 'RAW',
      overwrite: true,
    });
    assert.deepEqual(fake.tree(T), [
      `${T}/.deploy-manifest.json`,
      `${T}/etl`,
      `${T}/etl/lib`,
      `${T}/etl/lib/helpers.py`,
      `${T}/etl/load`,
      `${T}/etl/transform`,
      `${T}/reports`,
      `${T}/reports/daily`,
      `${T}/requirements.txt`,
    ]);
    assert.equal(fake.objects.get(`${T}/etl/load`)!.language, 'PYTHON');
    assert.equal(fake.objects.get(`${T}/etl/transform`)!.language, 'SQL');
    assert.equal(fake.objects.get(`${T}/etl/lib/helpers.py`)!.format, 'RAW');
    const manifest = parseManifest(fake.text(`${T}/.deploy-manifest.json`)!);
    assert.ok(manifest.ok);
    assert.deepEqual(Object.keys(manifest.manifest.entries).sort(), [
      'etl/lib/helpers.py',
      'etl/load',
      'etl/transform',
      'reports/daily',
      'requirements.txt',
    ]);
    assert.equal(manifest.manifest.entries['etl/load'].objectId, fake.objects.get(`${T}/etl/load`)!.id);
    assert.equal(
      manifest.manifest.entries['etl/load'].modifiedAt,
      fake.objects.get(`${T}/etl/load`)!.modified,
    );
    assert.equal(r.manifestWritten, true);
    assert.match(
      logger.text(),
      /etl\/load\.py → etl\/load: \.py with header "# Databricks notebook source": PYTHON notebook/,
    );
    assert.match(logger.text(), /Total: 5 created, 0 updated, 0 unchanged, 0 deleted in .* \(\d+ requests\)/);
    assert.match(r.summaryMarkdown, /\| Created \| 5 \|/);
    assert.match(
      r.summaryMarkdown,
      /\[\/Shared\/sales\/etl\/load\]\(https:\/\/adb-1\.1\.azuredatabricks\.net\/#workspace\/Shared\/sales\/etl\/load\) \(created\)/,
    );
  });

  it('redeploy with no change: only reads, no writes at all', async () => {
    await run();
    fake.calls.length = 0;
    const r = await run({ mode: 'mirror' });
    assert.deepEqual(fake.writes(), []);
    assert.equal(r.unchanged, 5);
    assert.equal(r.manifestWritten, false);
    // One listing per folder plus the manifest read (and get-status of the target in mirror mode).
    assert.deepEqual(ops(fake.calls).sort(), [
      `export ${T}/.deploy-manifest.json`,
      `get-status ${T}`,
      `list ${T}`,
      `list ${T}/etl`,
      `list ${T}/etl/lib`,
      `list ${T}/reports`,
    ]);
  });

  it('a changed and a removed notebook in merge mode: update, keep the removed one', async () => {
    await run();
    writeTree(dir, { 'etl/load.py': PY + 'print("v2")\n' });
    fs.rmSync(path.join(dir, 'reports/daily.scala'));
    fake.calls.length = 0;
    const r = await run();
    assert.deepEqual(r.updated, [`${T}/etl/load`]);
    assert.deepEqual(r.deleted, []);
    assert.equal(fake.text(`${T}/etl/load`), PY + 'print("v2")\n');
    assert.ok(fake.objects.has(`${T}/reports/daily`));
    assert.deepEqual(ops(fake.writes()), [`import ${T}/etl/load`, `import ${T}/.deploy-manifest.json`]);
  });

  it('a changed and a removed notebook in mirror mode: update, then delete, then the manifest', async () => {
    await run({ mode: 'mirror' });
    writeTree(dir, { 'etl/load.py': PY + 'print("v2")\n' });
    fs.rmSync(path.join(dir, 'reports'), { recursive: true });
    fake.put(`${T}/stray/old`, { type: 'NOTEBOOK', language: 'PYTHON', content: Buffer.from(PY) });
    fake.calls.length = 0;
    const r = await run({ mode: 'mirror' });
    assert.deepEqual(r.deleted.sort(), [`${T}/reports`, `${T}/stray`]);
    assert.deepEqual(ops(fake.writes()), [
      `import ${T}/etl/load`,
      `delete ${T}/reports`,
      `delete ${T}/stray`,
      `import ${T}/.deploy-manifest.json`,
    ]);
    assert.ok(!fake.objects.has(`${T}/reports/daily`));
    assert.ok(fake.objects.has(`${T}/.deploy-manifest.json`));
  });

  it('dry run: prints the plan and changes nothing', async () => {
    fake.put(`${T}/stray`, { type: 'FILE', content: Buffer.from('x') });
    const r = await run({ dryRun: true, mode: 'mirror' });
    assert.deepEqual(fake.writes(), []);
    assert.equal(r.created.length, 5);
    assert.deepEqual(r.deleted, [`${T}/stray`]);
    assert.match(
      logger.text(),
      /group: Dry run: plan for \/Shared\/sales \(mirror\): 5 to create, 0 to update, 0 unchanged, 1 to delete/,
    );
    assert.match(logger.text(), /delete {5}\/Shared\/sales\/stray/);
    assert.match(r.summaryMarkdown, /Nothing was changed \(dry run\)/);
    assert.equal(r.manifestText, undefined);
  });

  it('reports drift (a hand edit in the workspace) and overwrites it', async () => {
    await run();
    fake.edit(`${T}/etl/load`, 'edited by hand');
    const r = await run();
    assert.deepEqual(
      r.plan.drift.map((d) => d.path),
      [`${T}/etl/load`],
    );
    assert.deepEqual(r.updated, [`${T}/etl/load`]);
    assert.equal(fake.text(`${T}/etl/load`), baseFiles['etl/load.py']);
    assert.match(
      logger.text(),
      /warn: Drift: \/Shared\/sales\/etl\/load was edited in the workspace at .*; it will be overwritten/,
    );
    assert.match(r.summaryMarkdown, /#### Drift/);
    // The manifest now records the new modification time, so the next run is quiet.
    const again = await run();
    assert.equal(again.plan.drift.length, 0);
    assert.equal(again.updated.length, 0);
  });

  it('detects notebook edits where the listing has no modified_at for notebooks', async () => {
    fake.notebookTimestamps = false;
    await run();
    fake.calls.length = 0;
    // An idle redeploy: one extra listing per folder holding notebooks, nothing written.
    const idle = await run();
    assert.equal(idle.plan.drift.length, 0);
    assert.deepEqual(fake.writes(), []);
    const manifestModified = fake.objects.get(`${T}/.deploy-manifest.json`)!.modified;
    assert.deepEqual(
      fake.calls
        .filter((c) => c.modifiedAfter !== undefined)
        .map((c) => [c.path, c.modifiedAfter])
        .sort(),
      [
        [`${T}/etl`, manifestModified],
        [`${T}/reports`, manifestModified],
      ],
    );

    fake.edit(`${T}/reports/daily`, 'edited by hand');
    const r = await run();
    assert.deepEqual(
      r.plan.drift.map((d) => d.path),
      [`${T}/reports/daily`],
    );
    assert.match(r.plan.drift[0].what, /edited in the workspace after the last deploy/);
    assert.deepEqual(r.updated, [`${T}/reports/daily`]);
    assert.equal(fake.text(`${T}/reports/daily`), baseFiles['reports/daily.scala']);
    // The manifest is rewritten even though no entry changed, so its time moves past the repair.
    assert.ok(fake.objects.get(`${T}/.deploy-manifest.json`)!.modified > manifestModified);
    const again = await run();
    assert.equal(again.plan.drift.length, 0);
    assert.equal(again.updated.length, 0);
  });

  it('re-creates an object deleted in the workspace even though its hash matches', async () => {
    await run();
    fake.objects.delete(`${T}/reports/daily`);
    const r = await run();
    assert.deepEqual(r.created, [`${T}/reports/daily`]);
    assert.equal(r.plan.drift[0].what, 'deleted in the workspace since the last deploy');
  });

  it('one failed import: the rest finish, nothing is deleted, the manifest is not written', async () => {
    await run({ mode: 'mirror' });
    writeTree(dir, {
      'etl/load.py': PY + 'v2',
      'etl/new.py': PY + 'new',
      'reports/daily.scala': '// Databricks notebook source\nv2',
    });
    fs.rmSync(path.join(dir, 'requirements.txt'));
    const manifestBefore = fake.text(`${T}/.deploy-manifest.json`);
    fake.failWhen((c) => c.op === 'import' && c.path === `${T}/etl/new`, {
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
      message: 'Bad notebook.',
      kind: 'badRequest',
    });
    const r = await run({ mode: 'mirror' });
    assert.deepEqual(
      r.failures.map((f) => f.path),
      [`${T}/etl/new`],
    );
    assert.match(r.failures[0].message, /400 INVALID_PARAMETER_VALUE: Bad notebook/);
    assert.deepEqual(r.updated.sort(), [`${T}/etl/load`, `${T}/reports/daily`]);
    assert.equal(r.deletesWithheld, true);
    assert.ok(fake.objects.has(`${T}/requirements.txt`), 'nothing deleted');
    assert.equal(fake.text(`${T}/.deploy-manifest.json`), manifestBefore);
    assert.match(
      failureMessage(r),
      /1 operation\(s\) failed; no deletes were run:\n {2}\/Shared\/sales\/etl\/new \(create\): /,
    );
    assert.match(r.summaryMarkdown, /Mirror deletes were \*\*not\*\* run/);
    // A rerun after the cause is gone converges.
    const again = await runWithoutFailures();
    assert.equal(again.failures.length, 0);
    assert.ok(!fake.objects.has(`${T}/requirements.txt`));
  });

  async function runWithoutFailures() {
    const fresh = new FakeWorkspace();
    for (const [p, o] of fake.objects) fresh.objects.set(p, o);
    fake = fresh;
    return run({ mode: 'mirror' });
  }

  it('a failed folder blocks only the imports below it', async () => {
    fake.failWhen((c) => c.op === 'mkdirs' && c.path === `${T}/reports`);
    const r = await run();
    assert.deepEqual(
      r.failures.map((f) => [f.path, f.operation]),
      [
        [`${T}/reports`, 'create folder'],
        [`${T}/reports/daily`, 'create'],
      ],
    );
    assert.match(r.failures[1].message, /folder \/Shared\/sales\/reports could not be created/);
    assert.equal(r.created.length, 4);
    assert.equal(r.manifestText, undefined);
  });

  it('recreates a folder removed between listing and import', async () => {
    await run();
    writeTree(dir, { 'etl/load.py': PY + 'v3' });
    // The listing still shows etl; the import finds it gone once.
    let removed = false;
    const original = fake.request.bind(fake);
    fake.request = async (req) => {
      if (!removed && req.url.endsWith('/import')) {
        removed = true;
        for (const p of [...fake.objects.keys()]) if (p.startsWith(`${T}/etl`)) fake.objects.delete(p);
      }
      return original(req);
    };
    const r = await run();
    assert.equal(r.failures.length, 0);
    assert.equal(fake.text(`${T}/etl/load`), PY + 'v3');
  });

  it('updates files with a RAW overwrite and never deletes one to make room', async () => {
    await run();
    writeTree(dir, { 'requirements.txt': 'pandas==2\n' });
    fake.calls.length = 0;
    assert.equal((await run()).failures.length, 0);
    assert.deepEqual(
      fake.writes().map((c) => [c.op, c.path, c.format, c.overwrite]),
      [
        ['import', `${T}/requirements.txt`, 'RAW', true],
        ['import', `${T}/.deploy-manifest.json`, 'RAW', true],
      ],
    );
    // A service that refuses the overwrite gets a failure, not a delete-and-reimport.
    fake.fileOverwriteBug = true;
    writeTree(dir, { 'requirements.txt': 'pandas==3\n' });
    fake.calls.length = 0;
    const r = await run();
    assert.deepEqual(
      r.failures.map((f) => [f.path, f.operation]),
      [[`${T}/requirements.txt`, 'update']],
    );
    assert.match(r.failures[0].message, /RESOURCE_ALREADY_EXISTS/);
    assert.ok(!fake.calls.some((c) => c.op === 'delete'), 'nothing deleted');
    assert.equal(fake.text(`${T}/requirements.txt`), 'pandas==2\n', 'the old file is still there');
  });

  it('sends large content as multipart', async () => {
    writeTree(dir, { 'big.py': PY + 'x'.repeat(2000) });
    await run({ multipartThreshold: 1000 });
    const big = fake.calls.find((c) => c.op === 'import' && c.path === `${T}/big`)!;
    assert.equal(big.transport, 'multipart');
    assert.equal(fake.text(`${T}/big`), PY + 'x'.repeat(2000));
  });

  it('skipUnchanged false re-imports everything', async () => {
    await run();
    const r = await run({ skipUnchanged: false });
    assert.equal(r.updated.length, 5);
  });

  describe('DBC archives (no overwrite for DBC)', () => {
    const STAGE = `${T}/.deploy-staging.arch`;

    it('an update is staged first and swapped in only after every other import succeeded', async () => {
      writeTree(dir, { 'arch.dbc': Buffer.from('PK-v1') });
      await run();
      writeTree(dir, { 'arch.dbc': Buffer.from('PK-v2'), 'etl/load.py': PY + 'v2' });
      fake.calls.length = 0;
      const r = await run({ mode: 'mirror' });
      assert.equal(r.failures.length, 0);
      assert.deepEqual(r.updated.sort(), [`${T}/arch`, `${T}/etl/load`]);
      const seq = ops(fake.calls.filter((c) => c.op !== 'list' && c.op !== 'get-status'));
      const firstDeleteOfOld = seq.indexOf(`delete ${T}/arch`);
      assert.ok(firstDeleteOfOld > seq.indexOf(`import ${STAGE}`), 'staged before anything is removed');
      assert.ok(firstDeleteOfOld > seq.indexOf(`import ${T}/etl/load`), 'after the other imports');
      assert.deepEqual(seq.slice(firstDeleteOfOld - 1), [
        `export ${T}/arch`,
        `delete ${T}/arch`,
        `import ${T}/arch`,
        `delete ${STAGE}`,
        `import ${T}/.deploy-manifest.json`,
      ]);
      assert.equal(fake.calls.find((c) => c.op === 'export' && c.path === `${T}/arch`)!.format, 'DBC');
      assert.equal(fake.calls.find((c) => c.op === 'import' && c.path === `${T}/arch`)!.overwrite, false);
      assert.equal(fake.text(`${T}/arch`), 'PK-v2');
      assert.ok(!fake.objects.has(STAGE));
      assert.ok(fake.objects.has(`${T}/arch/inner`), 'mirror keeps what the archive expanded into');
    });

    it('when another import fails, the old archive is kept and the staged copy removed', async () => {
      writeTree(dir, { 'arch.dbc': Buffer.from('PK-v1') });
      await run();
      writeTree(dir, { 'arch.dbc': Buffer.from('PK-v2'), 'etl/load.py': PY + 'v2' });
      fake.failWhen((c) => c.op === 'import' && c.path === `${T}/etl/load`, {
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
        kind: 'badRequest',
      });
      fake.calls.length = 0;
      const r = await run();
      assert.deepEqual(
        r.failures.map((f) => f.path),
        [`${T}/etl/load`],
      );
      assert.deepEqual(r.dbcUpdatesWithheld, [`${T}/arch`]);
      assert.ok(!r.updated.includes(`${T}/arch`));
      assert.equal(fake.text(`${T}/arch`), 'PK-v1', 'the previous archive is untouched');
      assert.ok(!fake.calls.some((c) => c.op === 'delete' && c.path === `${T}/arch`));
      assert.ok(!fake.objects.has(STAGE), 'no staging copy left behind');
      assert.match(failureMessage(r), /DBC archives were not replaced/);
      assert.match(logger.text(), /DBC archive update\(s\) withheld .*\/Shared\/sales\/arch/);
    });

    it('when the final import fails, the backup is put back', async () => {
      writeTree(dir, { 'arch.dbc': Buffer.from('PK-v1') });
      await run();
      writeTree(dir, { 'arch.dbc': Buffer.from('PK-v2') });
      let finalImports = 0;
      fake.failWhen((c) => c.op === 'import' && c.path === `${T}/arch` && ++finalImports === 1, {
        status: 400,
        code: 'INVALID_STATE',
        kind: 'badRequest',
      });
      const r = await run();
      assert.deepEqual(
        r.failures.map((f) => [f.path, f.operation]),
        [[`${T}/arch`, 'replace archive']],
      );
      assert.match(r.failures[0].message, /INVALID_STATE.*the previous archive was put back/);
      assert.equal(fake.text(`${T}/arch`), 'PK-v1');
      assert.equal(r.manifestText, undefined);
    });
  });

  it('skips Git folders inside targetPath in mirror mode with a warning', async () => {
    fake.put(`${T}/myrepo`, { type: 'REPO' });
    fake.put(`${T}/myrepo/code`, { type: 'NOTEBOOK', language: 'PYTHON' });
    const r = await run({ mode: 'mirror' });
    assert.equal(r.deleted.length, 0);
    assert.ok(fake.objects.has(`${T}/myrepo/code`));
    assert.ok(
      !fake.calls.some((c) => c.op === 'list' && c.path === `${T}/myrepo`),
      'never lists inside a Git folder',
    );
    assert.match(logger.text(), /warn: Skipping Git folder \/Shared\/sales\/myrepo/);
  });

  it('refuses a target that is a Git folder in mirror mode', async () => {
    fake.put(T, { type: 'REPO' });
    await assert.rejects(run({ mode: 'mirror' }), /is a Git folder \(Repo\)/);
    assert.deepEqual(fake.writes(), []);
  });

  it('replaces tokens, registers secret values and never logs them or the content', async () => {
    writeTree(dir, { 'etl/load.py': PY + 'env = "#{env}#"\npw = "#{db.password}#"\n' });
    const lookup = (n: string) =>
      n === 'env'
        ? { value: 'prod', secret: false }
        : n === 'db.password'
          ? { value: 'Very$ecretValue', secret: true }
          : undefined;
    const r = await run({ replaceTokens: true, lookupVariable: lookup });
    assert.equal(fake.text(`${T}/etl/load`), PY + 'env = "prod"\npw = "Very$ecretValue"\n');
    const everything = logger.text() + r.summaryMarkdown + (r.manifestText ?? '');
    assert.ok(!everything.includes('Very$ecretValue'));
    assert.ok(!everything.includes('pw = '));
    assert.match(logger.text(), /2 token\(s\) replaced/);
  });

  it('fails on unknown tokens before any request', async () => {
    writeTree(dir, { 'etl/load.py': PY + '#{missing1}# #{missing2}#' });
    await assert.rejects(run({ replaceTokens: true, lookupVariable: () => undefined }), /missing1, missing2/);
    assert.equal(fake.calls.length, 0);
  });

  it('fails on bad input before any request, naming the input', async () => {
    const cases: [Partial<DeployNotebooksOptions>, string, RegExp][] = [
      [{ source: { type: 'folder', folder: path.join(dir, 'nope') } }, 'sourceFolder', /does not exist/],
      [
        { include: ['**/*.java'] },
        'include',
        /No files selected: 5 file\(s\) .* none matches include \[\*\*\/\*\.java\]/,
      ],
      [
        { mode: 'mirror', targetPath: '/Workspace/Shared/' },
        'targetPath',
        /mirror mode refuses '\/Workspace\/Shared\/' because it is the top-level \/Shared folder/,
      ],
      [
        { mode: 'mirror', targetPath: '/Users/someone@example.com/' },
        'targetPath',
        /home folder of someone@example\.com/,
      ],
      [{ targetPath: 'Shared/x' }, 'targetPath', /must be an absolute workspace path/],
      [{ concurrency: 0 }, 'concurrency', /from 1 to 32/],
    ];
    for (const [over, input, message] of cases) {
      await assert.rejects(
        run(over),
        (e: unknown) => e instanceof DeployInputError && e.input === input && message.test(e.message),
        input,
      );
    }
    writeTree(dir, { 'etl/load.sql': '-- Databricks notebook source\n' });
    await assert.rejects(
      run(),
      /etl\/load: etl\/load\.py \(notebook \(PYTHON\)\) and etl\/load\.sql \(notebook \(SQL\)\)/,
    );
    assert.equal(fake.calls.length, 0);
  });

  it('refuses an empty folder and a target that is a notebook', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-empty-'));
    try {
      await assert.rejects(run({ source: { type: 'folder', folder: empty } }), /has no files to deploy/);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
    fake.put(T, { type: 'NOTEBOOK', language: 'PYTHON' });
    await assert.rejects(run(), /Input 'targetPath': \/Shared\/sales is a notebook, not a folder/);
    assert.deepEqual(fake.writes(), []);
  });

  it('ignores a manifest written for another folder', async () => {
    await run();
    const text = fake
      .text(`${T}/.deploy-manifest.json`)!
      .replace('"targetPath": "/Shared/sales"', '"targetPath": "/Shared/other"');
    fake.objects.get(`${T}/.deploy-manifest.json`)!.content = Buffer.from(text);
    const r = await run();
    assert.equal(r.updated.length, 5);
    assert.match(logger.text(), /Ignoring the manifest .* written for \/Shared\/other/);
  });

  it('stops starting work when cancelled', async () => {
    const ac = new AbortController();
    const original = fake.request.bind(fake);
    fake.request = async (req) => {
      if (req.url.endsWith('/import')) ac.abort();
      return original(req);
    };
    const r = await run({ signal: ac.signal, concurrency: 1 });
    assert.ok(r.failures.some((f) => f.message === 'cancelled'));
    assert.equal(r.manifestText, undefined);
  });

  it('promotes from another workspace (list + export), then plans and applies the same way', async () => {
    const source = new FakeWorkspace('https://adb-2.2.azuredatabricks.net');
    source.put('/Shared/dev/etl/load', {
      type: 'NOTEBOOK',
      language: 'PYTHON',
      content: Buffer.from(PY + 'dev'),
    });
    source.put('/Shared/dev/etl/conf.yml', { type: 'FILE', content: Buffer.from('a: 1') });
    source.put('/Shared/dev/repo', { type: 'REPO' });
    const r = await run({
      source: {
        type: 'workspace',
        client: new WorkspaceClient(source, source.url),
        path: '/Workspace/Shared/dev',
      },
    });
    assert.equal(r.failures.length, 0);
    assert.deepEqual(r.created.sort(), [`${T}/etl/conf.yml`, `${T}/etl/load`]);
    assert.equal(fake.text(`${T}/etl/load`), PY + 'dev');
    assert.equal(fake.objects.get(`${T}/etl/load`)!.language, 'PYTHON');
    assert.equal(fake.text(`${T}/etl/conf.yml`), 'a: 1');
    assert.equal(fake.objects.get(`${T}/etl/conf.yml`)!.format, 'RAW', 'workspace files are copied as RAW');
    assert.deepEqual(
      source.calls
        .filter((c) => c.op === 'export')
        .map((c) => [c.path, c.format])
        .sort(),
      [
        ['/Shared/dev/etl/conf.yml', 'SOURCE'],
        ['/Shared/dev/etl/load', 'SOURCE'],
      ],
    );
    assert.deepEqual(source.writes(), []);
    assert.match(logger.text(), /Skipping Git folder \/Shared\/dev\/repo/);
  });

  it('refuses to promote into a folder overlapping the source in the same workspace', async () => {
    await assert.rejects(
      run({ source: { type: 'workspace', client: new WorkspaceClient(fake, fake.url), path: '/Shared' } }),
      /overlaps the source folder/,
    );
  });
});
