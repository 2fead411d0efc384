/**
 * WorkspaceClient against the emulated Workspace API over real HTTPS with the
 * shared HttpClient: request shapes, decoding, and how missing paths surface.
 */
import assert from 'node:assert/strict';
import * as http_ from 'node:http';
import type { AddressInfo } from 'node:net';
import { listTree } from '../../../../src/databricks/deploy/remote-tree';
import { WorkspaceClient } from '../../../../src/databricks/workspace-client';
import { closeHttpClient, createHttpClient } from '../../../../src/http/client';
import { isHttpError } from '../../../../src/http/errors';
import type { HttpClient } from '../../../../src/http/types';
import { Emulator } from '../../../emulator/core';
import { installDatabricks, type Workspace } from '../../../emulator/databricks';
import { parseMultipart } from '../../../emulator/multipart';

const PAT = 'dapi-unit-wsclient-0123456789abcdef';
const PY = '# Databricks notebook source\n';

describe('WorkspaceClient (against the emulator)', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let ws: Workspace;
  let http: HttpClient;
  let client: WorkspaceClient;

  before(async () => {
    emu = await Emulator.create();
    ws = await installDatabricks(emu).addWorkspace('unit');
    http = createHttpClient({
      caCertificates: [emu.caPem],
      retryBaseDelayMs: 10,
      authorize: async () => ({ Authorization: `Bearer ${PAT}` }),
    });
    client = new WorkspaceClient(http, ws.url + '/');
  });
  after(async () => {
    closeHttpClient(http);
    await emu.stop();
  });
  beforeEach(() => {
    emu.reset();
    ws.addPat(PAT);
  });

  it('imports a SOURCE notebook (JSON, base64) and exports it back', async () => {
    await client.mkdirs('/Shared/a');
    const text = '-- Databricks notebook source\nSELECT 1\n';
    await client.importObject({
      path: '/Shared/a/nb',
      format: 'SOURCE',
      language: 'SQL',
      content: Buffer.from(text),
      overwrite: false,
    });
    assert.equal(ws.language('/Shared/a/nb'), 'SQL');
    assert.deepEqual(emu.requests({ api: 'workspace.import' })[0].requestBody, {
      path: '/Shared/a/nb',
      format: 'SOURCE',
      content: Buffer.from(text).toString('base64'),
      overwrite: false,
      language: 'SQL',
    });
    const out = await client.exportObject('/Shared/a/nb', 'SOURCE');
    assert.equal(out.content.toString(), text);
  });

  it('sends multipart imports with the fields and the content part the API documents', async () => {
    // A plain local server records the exact request (the emulator's parser is exercised elsewhere).
    let captured: { contentType: string; body: Buffer } | undefined;
    const server = http_.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured = { contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const plain = createHttpClient({ retryBaseDelayMs: 10 });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const content = Buffer.from([0x23, 0x20, 0x00, 0xff, 0x0d, 0x0a]);
      await new WorkspaceClient(plain, url).importObject(
        { path: '/Shared/m/nb', format: 'SOURCE', language: 'PYTHON', content, overwrite: true },
        { transport: 'multipart' },
      );
      assert.ok(captured);
      assert.match(captured.contentType, /^multipart\/form-data; boundary=/);
      const parsed = parseMultipart(captured.body, captured.contentType);
      assert.deepEqual(parsed.fields, {
        path: '/Shared/m/nb',
        format: 'SOURCE',
        overwrite: 'true',
        language: 'PYTHON',
      });
      assert.equal(parsed.files.length, 1);
      assert.equal(parsed.files[0].name, 'content');
      assert.deepEqual(parsed.files[0].content, content);
    } finally {
      closeHttpClient(plain);
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('imports RAW workspace files byte for byte, including over an existing file', async () => {
    await client.mkdirs('/Shared/f');
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await client.importObject({ path: '/Shared/f/blob.bin', format: 'RAW', content: bytes, overwrite: true });
    await client.importObject({ path: '/Shared/f/blob.bin', format: 'RAW', content: bytes, overwrite: true });
    assert.equal(ws.objectType('/Shared/f/blob.bin'), 'FILE');
    assert.deepEqual((await client.exportObject('/Shared/f/blob.bin', 'SOURCE')).content, bytes);
  });

  it('lists folders (empty folders too) and reports what the API sends', async () => {
    ws.addNotebook('/Shared/l/nb', PY + 'x');
    ws.addFile('/Shared/l/f.txt', 'abc');
    ws.mkdirs('/Shared/l/empty');
    const objs = await client.list('/Shared/l');
    const nb = objs.find((o) => o.path === '/Shared/l/nb')!;
    assert.equal(nb.object_type, 'NOTEBOOK');
    assert.equal(nb.language, 'PYTHON');
    assert.equal(nb.object_id, ws.objectId('/Shared/l/nb'));
    assert.ok(nb.object_id! > 2 ** 32, 'int64 ids survive');
    const f = objs.find((o) => o.path === '/Shared/l/f.txt')!;
    assert.equal(f.size, 3);
    assert.equal(f.modified_at, ws.modifiedAt('/Shared/l/f.txt'));
    assert.deepEqual(await client.list('/Shared/l/empty'), []);
  });

  it('surfaces missing paths: undefined for the *IfExists/getStatus forms, false for delete, notFound otherwise', async () => {
    assert.equal(await client.listIfExists('/Shared/none'), undefined);
    assert.equal(await client.getStatus('/Shared/none'), undefined);
    assert.equal(await client.delete('/Shared/none', true), false);
    await assert.rejects(
      client.list('/Shared/none'),
      (e: unknown) => isHttpError(e, 'notFound') && /list \/Shared\/none/.test(e.message),
    );
    await assert.rejects(
      client.importObject({
        path: '/Shared/none/nb',
        format: 'SOURCE',
        language: 'PYTHON',
        content: Buffer.from(PY),
        overwrite: true,
      }),
      (e: unknown) => isHttpError(e, 'notFound'),
    );
  });

  it('accepts /Workspace paths as the same object', async () => {
    ws.addNotebook('/Shared/w/nb', PY);
    const st = await client.getStatus('/Workspace/Shared/w/nb');
    assert.equal(st?.path, '/Shared/w/nb');
  });

  it('deletes folders recursively and recognises Git folders in listings', async () => {
    ws.addNotebook('/Shared/d/x/nb', PY);
    ws.addRepo('/Shared/d/repo');
    ws.addRepo('/Shared/d/gitdir', { gitFolder: true });
    const tree = await listTree(client, '/Shared/d', { concurrency: 4 });
    assert.deepEqual(tree.gitFolders, ['gitdir', 'repo']);
    assert.deepEqual([...tree.objects.keys()].sort(), ['gitdir', 'repo', 'x', 'x/nb']);
    assert.equal(await client.delete('/Shared/d/x', true), true);
    assert.equal(ws.get('/Shared/d/x/nb'), undefined);
  });

  it('retries through injected faults (idempotent writes only)', async () => {
    await client.mkdirs('/Shared/r');
    emu.addFault({ kind: 'resetAfter', api: 'workspace.import', count: 1 });
    emu.addFault({ kind: '503', api: 'workspace.import', count: 1, retryAfter: 'none' });
    await client.importObject({
      path: '/Shared/r/nb',
      format: 'SOURCE',
      language: 'PYTHON',
      content: Buffer.from(PY + 'ok'),
      overwrite: true,
    });
    assert.equal(ws.content('/Shared/r/nb'), PY + 'ok');
    assert.equal(emu.requests({ api: 'workspace.import' }).length, 3);
  });
});
