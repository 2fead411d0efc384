import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputReader } from '../../../src/pipeline/inputs';
import { fakeSource } from './fake-source';

describe('InputReader', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-'));
    fs.mkdirSync(path.join(dir, 'notebooks'));
    fs.writeFileSync(path.join(dir, 'notebooks', 'a.py'), '# Databricks notebook source\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const reader = (inputs: Record<string, string>) =>
    new InputReader(
      fakeSource({
        inputs,
        variables: { 'System.DefaultWorkingDirectory': dir, 'Build.SourcesDirectory': dir },
      }),
    );

  it('strings: trimmed, undefined when blank, required names the input', () => {
    const r = reader({ a: '  x  ', b: '   ' });
    assert.equal(r.getString('a'), 'x');
    assert.equal(r.getString('b'), undefined);
    assert.throws(() => r.getString('b', true), /^InputError: Input 'b' is required\.$/);
  });

  it('typed readers read through the source', () => {
    const r = reader({
      n: '5',
      flag: 'true',
      kv: 'a=1',
      j: '{"x":1}',
      list: 'p\nq',
      pick: 'AzureRM',
      params: '{"k":"v"}',
    });
    assert.equal(r.getInt('n', { min: 1, max: 10 }), 5);
    assert.equal(r.getInt('missing', { default: 7 }), 7);
    assert.equal(r.getBool('flag'), true);
    assert.equal(r.getBool('missing', true), true);
    assert.deepEqual(r.getKeyValueLines('kv'), { a: '1' });
    assert.deepEqual(r.getJsonObject('j'), { x: 1 });
    assert.deepEqual(r.getJson('j'), { x: 1 });
    assert.deepEqual(r.getMultiline('list'), ['p', 'q']);
    assert.equal(r.getPickList('pick', ['databricks', 'azureRM'] as const), 'azureRM');
    assert.deepEqual(r.getParameters('params'), { k: 'v' });
  });

  it('file paths resolve against the working directory and check existence and kind', () => {
    const r = reader({
      folder: 'notebooks',
      file: 'notebooks/a.py',
      missing: 'nope',
      abs: path.join(dir, 'notebooks'),
    });
    assert.equal(r.getFilePath('folder', { mustExist: true, kind: 'folder' }), path.join(dir, 'notebooks'));
    assert.equal(
      r.getFilePath('file', { mustExist: true, kind: 'file' }),
      path.join(dir, 'notebooks', 'a.py'),
    );
    assert.equal(r.getFilePath('abs', { kind: 'folder' }), path.join(dir, 'notebooks'));
    assert.equal(r.getFilePath('missing'), path.join(dir, 'nope'));
    assert.throws(
      () => r.getFilePath('missing', { mustExist: true, kind: 'folder' }),
      /Input 'missing' must be an existing folder, but '.*nope' was not found\./,
    );
    assert.throws(
      () => r.getFilePath('folder', { kind: 'file' }),
      /Input 'folder' must be a file, but '.*notebooks' is a folder\./,
    );
    assert.throws(
      () => r.getFilePath('file', { kind: 'folder' }),
      /Input 'file' must be a folder, but '.*a\.py' is a file\./,
    );
  });

  it('the default working directory the agent fills into an empty filePath counts as not given', () => {
    const r = reader({ p: dir, q: `${dir}/`, blank: '' });
    assert.equal(r.getFilePath('p'), undefined);
    assert.equal(r.getFilePath('q'), undefined);
    assert.equal(r.getFilePath('blank'), undefined);
    assert.throws(
      () => r.getFilePath('p', { required: true, kind: 'folder' }),
      /Input 'p' is required: give the path of a folder\./,
    );
  });
});
