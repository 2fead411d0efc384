import assert from 'node:assert/strict';
import { checkJupyter, classifyFile, extensionOf, firstLine } from '../../../src/databricks/notebook-format';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('notebook-format: classifyFile', () => {
  it('makes .py with the Python header a PYTHON SOURCE notebook without extension', () => {
    const c = classifyFile('load.py', b('# Databricks notebook source\nprint(1)\n'));
    assert.equal(c.kind, 'notebook');
    assert.equal(c.format, 'SOURCE');
    assert.equal(c.language, 'PYTHON');
    assert.equal(c.workspaceName, 'load');
    assert.match(c.rule, /\.py with header "# Databricks notebook source": PYTHON notebook/);
  });

  it('recognises the header of each language, including CRLF line ends', () => {
    assert.equal(classifyFile('q.sql', b('-- Databricks notebook source\r\nSELECT 1')).language, 'SQL');
    assert.equal(classifyFile('j.scala', b('// Databricks notebook source\n')).language, 'SCALA');
    assert.equal(classifyFile('a.r', b('# Databricks notebook source\n')).language, 'R');
    assert.equal(classifyFile('A.R', b('# Databricks notebook source\n')).workspaceName, 'A');
    assert.equal(classifyFile('x.PY', b('# Databricks notebook source')).kind, 'notebook');
  });

  it('accepts a UTF-8 byte order mark before the header', () => {
    const c = classifyFile(
      'bom.py',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b('# Databricks notebook source\n')]),
    );
    assert.equal(c.kind, 'notebook');
  });

  it('makes a source file without its header (or with another language header) a workspace file that keeps its name', () => {
    const helper = classifyFile('helpers.py', b('def f():\n  return 1\n'));
    assert.equal(helper.kind, 'file');
    assert.equal(helper.format, 'RAW');
    assert.equal(helper.workspaceName, 'helpers.py');
    assert.match(helper.rule, /without the notebook header/);
    // A SQL header in a .py file is not the Python header.
    assert.equal(classifyFile('x.py', b('-- Databricks notebook source\n')).kind, 'file');
    // The header must be the first line.
    assert.equal(classifyFile('y.py', b('\n# Databricks notebook source\n')).kind, 'file');
    // Trailing text on the header line is not the header.
    assert.equal(classifyFile('z.py', b('# Databricks notebook source!\n')).kind, 'file');
  });

  it('makes a valid .ipynb a JUPYTER notebook with its Databricks language', () => {
    const nb = {
      cells: [],
      metadata: { 'application/vnd.databricks.v1+notebook': { language: 'python' } },
      nbformat: 4,
      nbformat_minor: 0,
    };
    const c = classifyFile('explore.ipynb', b(JSON.stringify(nb)));
    assert.equal(c.kind, 'notebook');
    assert.equal(c.format, 'JUPYTER');
    assert.equal(c.language, 'PYTHON');
    assert.equal(c.workspaceName, 'explore');
  });

  it('takes the kernel language when there is no Databricks metadata', () => {
    const nb = { cells: [], metadata: { kernelspec: { language: 'scala' } }, nbformat: 4 };
    assert.equal(checkJupyter(b(JSON.stringify(nb))).language, 'SCALA');
  });

  it('makes an invalid .ipynb a RAW workspace file and says why', () => {
    const c = classifyFile('broken.ipynb', b('{"cells": [], "nbformat": 3, "metadata": {}}'));
    assert.equal(c.kind, 'file');
    assert.equal(c.format, 'RAW');
    assert.equal(c.workspaceName, 'broken.ipynb');
    assert.match(c.rule, /nbformat/);
    assert.match(classifyFile('n.ipynb', b('not json')).rule, /not valid JSON/);
    assert.match(classifyFile('n.ipynb', b('{"metadata":{},"nbformat":4}')).rule, /cells/);
  });

  it('keeps .designer.ipynb as a file with its full suffix', () => {
    const c = classifyFile('flow.designer.ipynb', b('{}'));
    assert.equal(c.kind, 'file');
    assert.equal(c.workspaceName, 'flow.designer.ipynb');
  });

  it('imports .dbc archives as DBC without the extension', () => {
    const c = classifyFile('archive.dbc', Buffer.from([0x50, 0x4b, 3, 4]));
    assert.deepEqual([c.kind, c.format, c.workspaceName], ['dbc', 'DBC', 'archive']);
  });

  it('makes everything else a RAW workspace file', () => {
    assert.deepEqual(
      [
        classifyFile('requirements.txt', b('pandas')).format,
        classifyFile('requirements.txt', b('')).workspaceName,
      ],
      ['RAW', 'requirements.txt'],
    );
    assert.equal(classifyFile('lib.zip', b('PK')).format, 'RAW');
    assert.equal(classifyFile('Makefile', b('all:')).rule, 'no extension: workspace file');
    assert.equal(classifyFile('.env', b('A=1')).workspaceName, '.env');
  });
});

describe('notebook-format: helpers', () => {
  it('extensionOf lower-cases and ignores leading dots', () => {
    assert.equal(extensionOf('A.SQL'), '.sql');
    assert.equal(extensionOf('.gitignore'), '');
    assert.equal(extensionOf('x.tar.gz'), '.gz');
  });

  it('firstLine reads at most 32 bytes', () => {
    assert.equal(firstLine(b('# Databricks notebook source\nx')), '# Databricks notebook source');
    assert.equal(firstLine(b('a'.repeat(40))), 'a'.repeat(32));
  });
});
