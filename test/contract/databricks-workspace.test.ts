/**
 * Contract tests of the emulated Databricks Workspace API 2.0 against the shapes,
 * status codes and error bodies in shared/reference/api-contracts.md section 1.
 */
import assert from 'node:assert/strict';
import { Emulator } from '../emulator/core';
import { installDatabricks, type Workspace } from '../emulator/databricks';
import { readZip, writeZip } from '../emulator/databricks/zip';
import { rawClient } from './raw-client';

const PAT = 'dapi0123456789abcdef0123456789abcdef';
const PY_HEADER = '# Databricks notebook source';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('contract: Databricks Workspace API 2.0 (emulator)', function () {
  let emu: Emulator;
  let ws: Workspace;
  let api: ReturnType<typeof rawClient>;

  before(async () => {
    emu = await Emulator.create({ seed: 7 });
    ws = await installDatabricks(emu).addWorkspace('wsapi');
    ws.addPat(PAT, 'dev@example.com');
    api = rawClient(ws, { bearer: PAT });
  });
  after(async () => emu.stop());
  beforeEach(() => emu.reset());

  const importJson = (body: Record<string, unknown>) =>
    api('POST', '/api/2.0/workspace/import', { json: body });
  const status = (path: string) => api('GET', '/api/2.0/workspace/get-status', { query: { path } });

  describe('root folders and get-status', () => {
    it('has /, /Users, /Shared, /Repos and a home folder per user', async () => {
      for (const p of ['/', '/Users', '/Shared', '/Repos', '/Users/dev@example.com']) {
        const r = await status(p);
        assert.equal(r.status, 200, p);
        assert.equal(r.json.object_type, 'DIRECTORY');
        assert.equal(r.json.path, p);
        assert.equal(typeof r.json.object_id, 'number');
        assert.ok(r.json.object_id > 2 ** 32, 'object ids exceed 32 bits like real ones');
        assert.equal(r.json.resource_id, String(r.json.object_id));
      }
    });

    it('answers 404 RESOURCE_DOES_NOT_EXIST for a missing path', async () => {
      const r = await status('/Shared/nope');
      assert.equal(r.status, 404);
      assert.deepEqual(r.json, {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: "Path (/Shared/nope) doesn't exist.",
      });
    });

    it('treats /Workspace/x and /x as the same object and answers without the prefix', async () => {
      assert.equal(
        (await api('POST', '/api/2.0/workspace/mkdirs', { json: { path: '/Workspace/Shared/a' } })).status,
        200,
      );
      const r = await status('/Shared/a');
      assert.equal(r.status, 200);
      const r2 = await status('/Workspace/Shared/a/');
      assert.equal(r2.json.path, '/Shared/a');
      assert.equal(r2.json.object_id, r.json.object_id);
    });

    it('rejects relative paths with 400 INVALID_PARAMETER_VALUE', async () => {
      const r = await status('Shared/x');
      assert.equal(r.status, 400);
      assert.equal(r.json.error_code, 'INVALID_PARAMETER_VALUE');
    });
  });

  describe('import', () => {
    it('imports SOURCE with a language as a notebook at exactly the path (JSON body)', async () => {
      const r = await importJson({
        path: '/Shared/etl.py',
        format: 'SOURCE',
        language: 'PYTHON',
        content: b64(`${PY_HEADER}\nprint(1)\n`),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {});
      const s = await status('/Shared/etl.py');
      assert.equal(s.json.object_type, 'NOTEBOOK', 'no extension is stripped for SOURCE');
      assert.equal(s.json.language, 'PYTHON');
      assert.equal(typeof s.json.modified_at, 'number');
      assert.equal(ws.content('/Shared/etl.py'), `${PY_HEADER}\nprint(1)\n`);
    });

    it('adds the header on export when the imported SOURCE had none', async () => {
      await importJson({ path: '/Shared/q', format: 'SOURCE', language: 'SQL', content: b64('SELECT 1') });
      const e = await api('GET', '/api/2.0/workspace/export', { query: { path: '/Shared/q' } });
      assert.equal(e.status, 200);
      assert.equal(e.json.file_type, 'sql');
      assert.equal(
        Buffer.from(e.json.content, 'base64').toString(),
        '-- Databricks notebook source\nSELECT 1',
      );
    });

    it('imports multipart/form-data with a file part "content"', async () => {
      const r = await api('POST', '/api/2.0/workspace/import', {
        multipart: {
          fields: { path: '/Shared/mp', format: 'SOURCE', language: 'SCALA', overwrite: 'true' },
          files: [
            { name: 'content', filename: 'mp.scala', content: '// Databricks notebook source\nprintln(1)' },
          ],
        },
      });
      assert.equal(r.status, 200);
      assert.equal(ws.language('/Shared/mp'), 'SCALA');
      assert.equal(ws.content('/Shared/mp'), '// Databricks notebook source\nprintln(1)');
      assert.equal(ws.get('/Shared/mp')?.importFormat, 'SOURCE');
    });

    it('answers 400 RESOURCE_ALREADY_EXISTS without overwrite and replaces in place with it', async () => {
      await importJson({ path: '/Shared/n', language: 'PYTHON', content: b64('a = 1') });
      const before = ws.get('/Shared/n');
      const r = await importJson({ path: '/Shared/n', language: 'PYTHON', content: b64('a = 2') });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, {
        error_code: 'RESOURCE_ALREADY_EXISTS',
        message: 'Path (/Shared/n) already exists.',
      });
      const ok = await importJson({
        path: '/Shared/n',
        language: 'PYTHON',
        content: b64('a = 2'),
        overwrite: true,
      });
      assert.equal(ok.status, 200);
      const after = ws.get('/Shared/n');
      assert.equal(after?.object_id, before?.object_id, 'overwrite keeps the object id');
      assert.ok((after?.modified_at ?? 0) > (before?.modified_at ?? 0));
      assert.equal(after?.text, `${PY_HEADER}\na = 2`);
    });

    it('answers 404 when the parent folder is missing (no implicit mkdirs)', async () => {
      const r = await importJson({ path: '/Shared/missing/x', language: 'PYTHON', content: b64('1') });
      assert.equal(r.status, 404);
      assert.deepEqual(r.json, {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: 'The parent folder (/Shared/missing) does not exist.',
      });
    });

    it('reads SOURCE without a language as a zip: a plain file is rejected, a zip of notebooks becomes a folder', async () => {
      const bad = await importJson({ path: '/Shared/z', format: 'SOURCE', content: b64(`${PY_HEADER}\n1`) });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(bad.json.message, /The zip file may not be valid or may be an unsupported version\./);
      const zip = writeZip([
        { name: 'pkg/a.py', content: Buffer.from(`${PY_HEADER}\nprint("a")`) },
        { name: 'pkg/sub/b.sql', content: Buffer.from('-- Databricks notebook source\nSELECT 2') },
        { name: 'pkg/readme.txt', content: Buffer.from('ignored') },
      ]);
      const ok = await importJson({ path: '/Shared/z', content: b64(zip) });
      assert.equal(ok.status, 200);
      assert.deepEqual(ws.paths({ under: '/Shared/z' }), [
        '/Shared/z',
        '/Shared/z/a',
        '/Shared/z/sub',
        '/Shared/z/sub/b',
      ]);
      assert.equal(ws.language('/Shared/z/sub/b'), 'SQL');
    });

    it('AUTO: a headed .py becomes a notebook without its extension; anything else a FILE keeping its name', async () => {
      await importJson({ path: '/Shared/nb.py', format: 'AUTO', content: b64(`${PY_HEADER}\nx = 1`) });
      await importJson({ path: '/Shared/mod.py', format: 'AUTO', content: b64('def f():\n    return 1\n') });
      await importJson({ path: '/Shared/noext', format: 'AUTO', content: b64(`${PY_HEADER}\nx = 1`) });
      await importJson({ path: '/Shared/requirements.txt', format: 'AUTO', content: b64('pandas==2.2\n') });
      assert.equal(ws.objectType('/Shared/nb'), 'NOTEBOOK');
      assert.equal(ws.get('/Shared/nb.py'), undefined);
      assert.equal(ws.objectType('/Shared/mod.py'), 'FILE');
      assert.equal(ws.objectType('/Shared/noext'), 'FILE');
      assert.equal(ws.content('/Shared/requirements.txt'), 'pandas==2.2\n');
      const s = await status('/Shared/mod.py');
      assert.equal(s.json.size, 22);
      assert.equal(typeof s.json.created_at, 'number');
      assert.equal(s.json.language, undefined, 'files have no language');
    });

    it('AUTO and JUPYTER: .ipynb becomes a notebook with the language from its metadata (default PYTHON)', async () => {
      const nb = (lang?: string) =>
        JSON.stringify({
          cells: [
            { cell_type: 'markdown', source: ['# Title'] },
            { cell_type: 'code', source: ['x = 1\n', 'print(x)'] },
          ],
          metadata: lang ? { 'application/vnd.databricks.v1+notebook': { language: lang } } : {},
          nbformat: 4,
          nbformat_minor: 2,
        });
      assert.equal(
        (await importJson({ path: '/Shared/s.ipynb', format: 'AUTO', content: b64(nb('scala')) })).status,
        200,
      );
      assert.equal(ws.language('/Shared/s'), 'SCALA');
      assert.equal(
        (await importJson({ path: '/Shared/j', format: 'JUPYTER', content: b64(nb()) })).status,
        200,
      );
      assert.equal(ws.language('/Shared/j'), 'PYTHON');
      assert.equal(
        ws.content('/Shared/j'),
        `${PY_HEADER}\n# MAGIC %md\n# MAGIC # Title\n\n# COMMAND ----------\n\nx = 1\nprint(x)`,
      );
      const e = await api('GET', '/api/2.0/workspace/export', {
        query: { path: '/Shared/j', format: 'JUPYTER' },
      });
      assert.equal(e.json.file_type, 'ipynb');
      const back = JSON.parse(Buffer.from(e.json.content, 'base64').toString());
      assert.equal(back.nbformat, 4);
      assert.deepEqual(
        back.cells.map((c: { cell_type: string }) => c.cell_type),
        ['markdown', 'code'],
      );
      const bad = await importJson({
        path: '/Shared/k',
        format: 'JUPYTER',
        content: b64('{"not":"a notebook"}'),
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error_code, 'INVALID_PARAMETER_VALUE');
    });

    it('DBC: accepts an archive, rejects non-archives and overwrite', async () => {
      const entry = JSON.stringify({
        version: 'NotebookV1',
        name: 'd',
        language: 'python',
        commands: [{ command: 'print(1)', position: 1 }],
      });
      const dbc = writeZip([{ name: 'd.python', content: Buffer.from(entry) }]);
      assert.equal((await importJson({ path: '/Shared/d', format: 'DBC', content: b64(dbc) })).status, 200);
      assert.equal(ws.objectType('/Shared/d'), 'NOTEBOOK');
      assert.equal(ws.content('/Shared/d'), `${PY_HEADER}\nprint(1)`);
      const notZip = await importJson({ path: '/Shared/e', format: 'DBC', content: b64('hello') });
      assert.equal(notZip.status, 400);
      assert.equal(notZip.json.error_code, 'INVALID_PARAMETER_VALUE');
      const ow = await importJson({ path: '/Shared/d2', format: 'DBC', content: b64(dbc), overwrite: true });
      assert.equal(ow.status, 400);
      assert.equal(
        ow.json.message,
        'For DBC format, overwrite is not supported since it may contain a directory.',
      );
    });

    it('RAW keeps a file as-is, including a .zip', async () => {
      const zip = writeZip([{ name: 'a.py', content: Buffer.from(`${PY_HEADER}\n1`) }]);
      assert.equal(
        (await importJson({ path: '/Shared/lib.zip', format: 'RAW', content: b64(zip) })).status,
        200,
      );
      assert.equal(ws.objectType('/Shared/lib.zip'), 'FILE');
      assert.deepEqual(ws.get('/Shared/lib.zip')?.content, zip);
    });

    it('enforces the 10 MB decoded size limit with MAX_NOTEBOOK_SIZE_EXCEEDED (limit configurable)', async () => {
      assert.equal(ws.importSizeLimit, 10485760);
      ws.importSizeLimit = 100;
      const r = await importJson({ path: '/Shared/big', language: 'PYTHON', content: b64('x'.repeat(101)) });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, {
        error_code: 'MAX_NOTEBOOK_SIZE_EXCEEDED',
        message: 'File size imported is 101 bytes), exceeded max size (100 bytes)',
      });
      assert.equal(
        (await importJson({ path: '/Shared/ok', language: 'PYTHON', content: b64('x'.repeat(100)) })).status,
        200,
      );
    });

    it('validates format and language (case-sensitive enums) and the body', async () => {
      const f = await importJson({
        path: '/Shared/f',
        format: 'source',
        language: 'PYTHON',
        content: b64('1'),
      });
      assert.equal(f.status, 400);
      assert.equal(f.json.error_code, 'INVALID_PARAMETER_VALUE');
      const l = await importJson({ path: '/Shared/f', language: 'python', content: b64('1') });
      assert.equal(l.status, 400);
      const p = await importJson({ language: 'PYTHON', content: b64('1') });
      assert.equal(p.status, 400);
      assert.equal(p.json.message, 'Missing required field: path');
      const m = await api('POST', '/api/2.0/workspace/import', {
        body: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(m.status, 400);
      assert.equal(m.json.error_code, 'MALFORMED_REQUEST');
    });

    it('can reproduce the AUTO file overwrite quirk of databricks/cli#3386 when asked', async () => {
      ws.configure({ autoFileOverwriteBug: true });
      await importJson({ path: '/Shared/file.txt', format: 'AUTO', content: b64('1') });
      const r = await importJson({
        path: '/Shared/file.txt',
        format: 'AUTO',
        content: b64('2'),
        overwrite: true,
      });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, {
        error_code: 'RESOURCE_ALREADY_EXISTS',
        message: "Node named 'file.txt' already exists",
      });
    });
  });

  describe('export', () => {
    it('exports SOURCE by default, raw bytes with direct_download, and 404 for a missing path', async () => {
      ws.addNotebook('/Shared/ex', 'print(2)');
      const r = await api('GET', '/api/2.0/workspace/export', {
        query: { path: '/Workspace/Shared/ex', direct_download: true },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.equal(r.text, `${PY_HEADER}\nprint(2)`);
      const h = await api('GET', '/api/2.0/workspace/export', {
        query: { path: '/Shared/ex', format: 'HTML' },
      });
      assert.equal(h.json.file_type, 'html');
      const missing = await api('GET', '/api/2.0/workspace/export', { query: { path: '/Shared/none' } });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('exports files as-is (SOURCE/AUTO/RAW) and rejects notebook-only formats for them', async () => {
      ws.addFile('/Shared/conf.json', '{"a":1}');
      for (const format of ['SOURCE', 'AUTO', 'RAW']) {
        const r = await api('GET', '/api/2.0/workspace/export', {
          query: { path: '/Shared/conf.json', format },
        });
        assert.equal(Buffer.from(r.json.content, 'base64').toString(), '{"a":1}');
      }
      const j = await api('GET', '/api/2.0/workspace/export', {
        query: { path: '/Shared/conf.json', format: 'JUPYTER' },
      });
      assert.equal(j.status, 400);
    });

    it('exports a folder as a zip (SOURCE) or DBC archive', async () => {
      ws.addNotebook('/Shared/pkg/a', 'print(1)');
      ws.addFile('/Shared/pkg/b.txt', 'b');
      const r = await api('GET', '/api/2.0/workspace/export', {
        query: { path: '/Shared/pkg', format: 'SOURCE' },
      });
      assert.equal(r.json.file_type, 'zip');
      const names = readZip(Buffer.from(r.json.content, 'base64')).map((e) => e.name);
      assert.deepEqual(names.sort(), ['pkg/a.py', 'pkg/b.txt']);
      const d = await api('GET', '/api/2.0/workspace/export', {
        query: { path: '/Shared/pkg', format: 'DBC' },
      });
      assert.equal(d.json.file_type, 'dbc');
    });
  });

  describe('list', () => {
    it('lists objects with the documented fields', async () => {
      ws.addNotebook('/Shared/l/nb', 'x = 1', 'R');
      ws.addFile('/Shared/l/f.txt', 'hello');
      ws.mkdirs('/Shared/l/dir');
      const r = await api('GET', '/api/2.0/workspace/list', { query: { path: '/Shared/l' } });
      assert.equal(r.status, 200);
      const byPath = Object.fromEntries(r.json.objects.map((o: { path: string }) => [o.path, o]));
      assert.deepEqual(Object.keys(byPath).sort(), ['/Shared/l/dir', '/Shared/l/f.txt', '/Shared/l/nb']);
      assert.equal(byPath['/Shared/l/dir'].object_type, 'DIRECTORY');
      assert.equal(byPath['/Shared/l/nb'].object_type, 'NOTEBOOK');
      assert.equal(byPath['/Shared/l/nb'].language, 'R');
      assert.equal(typeof byPath['/Shared/l/nb'].modified_at, 'number');
      assert.equal(byPath['/Shared/l/f.txt'].object_type, 'FILE');
      assert.equal(byPath['/Shared/l/f.txt'].size, 5);
      for (const o of r.json.objects) assert.equal(typeof o.object_id, 'number');
    });

    it('answers {} for an empty folder, the object itself for a non-folder, and 404 for a missing path', async () => {
      ws.mkdirs('/Shared/empty');
      const e = await api('GET', '/api/2.0/workspace/list', { query: { path: '/Shared/empty' } });
      assert.deepEqual(e.json, {});
      ws.addNotebook('/Shared/one', '1');
      const o = await api('GET', '/api/2.0/workspace/list', { query: { path: '/Shared/one' } });
      assert.equal(o.json.objects.length, 1);
      assert.equal(o.json.objects[0].path, '/Shared/one');
      const m = await api('GET', '/api/2.0/workspace/list', { query: { path: '/Shared/zzz' } });
      assert.equal(m.status, 404);
      assert.deepEqual(m.json, {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: "Path (/Shared/zzz) doesn't exist.",
      });
    });

    it('filters notebooks with notebooks_modified_after, and timestamps can be turned off for notebooks', async () => {
      ws.addNotebook('/Shared/t/old', '1');
      const cut = ws.modifiedAt('/Shared/t/old') as number;
      ws.addNotebook('/Shared/t/new', '2');
      const r = await api('GET', '/api/2.0/workspace/list', {
        query: { path: '/Shared/t', notebooks_modified_after: cut },
      });
      assert.deepEqual(
        r.json.objects.map((o: { path: string }) => o.path),
        ['/Shared/t/new'],
      );
      ws.configure({ notebookTimestamps: false });
      const s = await status('/Shared/t/new');
      assert.equal(s.json.modified_at, undefined);
    });

    it('drift: a manual edit bumps modified_at', async () => {
      ws.addNotebook('/Shared/prod/nb', 'v1');
      const before = ws.modifiedAt('/Shared/prod/nb') as number;
      ws.edit('/Shared/prod/nb', 'v1 edited by hand');
      const s = await status('/Shared/prod/nb');
      assert.ok(s.json.modified_at > before);
      assert.equal(ws.content('/Shared/prod/nb'), `${PY_HEADER}\nv1 edited by hand`);
    });

    it('shows Repos as REPO and git folders as DIRECTORY with directory_info.is_git_folder', async () => {
      ws.addRepo('/Repos/dev@example.com/project');
      ws.addNotebook('/Repos/dev@example.com/project/nb', '1');
      ws.addRepo('/Shared/app/gitfolder', { gitFolder: true });
      const r = await api('GET', '/api/2.0/workspace/list', { query: { path: '/Repos/dev@example.com' } });
      assert.equal(r.json.objects[0].object_type, 'REPO');
      const g = await status('/Shared/app/gitfolder');
      assert.equal(g.json.object_type, 'DIRECTORY');
      assert.deepEqual(g.json.directory_info, { is_git_folder: true });
      const plain = await status('/Shared/app');
      assert.equal(plain.json.directory_info, undefined);
    });
  });

  describe('mkdirs and delete', () => {
    it('mkdirs works like mkdir -p and fails over a non-folder', async () => {
      const r = await api('POST', '/api/2.0/workspace/mkdirs', { json: { path: '/Shared/a/b/c' } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {});
      assert.equal(
        (await api('POST', '/api/2.0/workspace/mkdirs', { json: { path: '/Shared/a/b' } })).status,
        200,
      );
      ws.addNotebook('/Shared/a/nb', '1');
      const bad = await api('POST', '/api/2.0/workspace/mkdirs', { json: { path: '/Shared/a/nb/sub' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error_code, 'RESOURCE_ALREADY_EXISTS');
      assert.match(bad.json.message, /already exists and it is not a folder/);
    });

    it('deletes objects; non-empty folders need recursive; missing paths are 404', async () => {
      ws.addNotebook('/Shared/d/x', '1');
      const ne = await api('POST', '/api/2.0/workspace/delete', { json: { path: '/Shared/d' } });
      assert.equal(ne.status, 400);
      assert.deepEqual(ne.json, {
        error_code: 'DIRECTORY_NOT_EMPTY',
        message: 'Folder (/Shared/d) is not empty',
      });
      assert.equal(
        (await api('POST', '/api/2.0/workspace/delete', { json: { path: '/Shared/d', recursive: true } }))
          .status,
        200,
      );
      assert.equal(ws.get('/Shared/d'), undefined);
      assert.equal(ws.get('/Shared/d/x'), undefined);
      ws.addNotebook('/Shared/single', '1');
      assert.equal(
        (await api('POST', '/api/2.0/workspace/delete', { json: { path: '/Workspace/Shared/single' } }))
          .status,
        200,
      );
      const m = await api('POST', '/api/2.0/workspace/delete', { json: { path: '/Shared/single' } });
      assert.equal(m.status, 404);
      assert.equal(m.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('refuses to delete system folders', async () => {
      const r = await api('POST', '/api/2.0/workspace/delete', {
        json: { path: '/Shared', recursive: true },
      });
      assert.equal(r.status, 403);
      assert.equal(ws.objectType('/Shared'), 'DIRECTORY');
    });
  });

  describe('error code style', () => {
    it('sends integer error codes equal to the status in legacy mode', async () => {
      ws.legacyIntegerErrorCodes = true;
      const r = await status('/Shared/missing');
      assert.equal(r.status, 404);
      assert.equal(r.json.error_code, 404);
      emu.reset();
      assert.equal(ws.legacyIntegerErrorCodes, false, 'reset restores the options');
    });

    it('journals every call under the documented api names', async () => {
      await api('POST', '/api/2.0/workspace/mkdirs', { json: { path: '/Shared/j' } });
      await importJson({ path: '/Shared/j/a', language: 'PYTHON', content: b64('1') });
      await status('/Shared/j/a');
      await api('GET', '/api/2.0/workspace/list', { query: { path: '/Shared/j' } });
      await api('GET', '/api/2.0/workspace/export', { query: { path: '/Shared/j/a' } });
      await api('POST', '/api/2.0/workspace/delete', { json: { path: '/Shared/j', recursive: true } });
      assert.deepEqual(
        emu.requests({ host: ws.hostName }).map((e) => e.api),
        [
          'workspace.mkdirs',
          'workspace.import',
          'workspace.get-status',
          'workspace.list',
          'workspace.export',
          'workspace.delete',
        ],
      );
      assert.equal(emu.writes({ host: ws.hostName }).length, 3);
    });
  });
});
