import assert from 'node:assert/strict';
import { clearSecretsForTest, redact } from '../../../../src/common/secrets';
import { DeployInputError } from '../../../../src/databricks/deploy/errors';
import { prepareItems } from '../../../../src/databricks/deploy/prepare';
import { candidate, items, PY, sha256 } from './helpers';

describe('deploy/prepare', () => {
  afterEach(() => clearSecretsForTest());

  it('maps source paths to workspace paths, dropping notebook extensions only', () => {
    const list = items({
      'etl/load.py': PY + 'x',
      'etl/helpers.py': 'def f(): pass',
      'reports/q.sql': '-- Databricks notebook source\nSELECT 1',
      'requirements.txt': 'pandas',
    });
    assert.deepEqual(
      list.map((i) => [i.rel, i.kind, i.format, i.language ?? '-']),
      [
        ['etl/helpers.py', 'file', 'RAW', '-'],
        ['etl/load', 'notebook', 'SOURCE', 'PYTHON'],
        ['reports/q', 'notebook', 'SOURCE', 'SQL'],
        ['requirements.txt', 'file', 'RAW', '-'],
      ],
    );
    const load = list.find((i) => i.rel === 'etl/load')!;
    assert.equal(load.sha256, sha256(Buffer.from(PY + 'x')));
    assert.equal(load.size, PY.length + 1);
  });

  it('fails on two sources mapping to one workspace path, naming both', () => {
    assert.throws(
      () => items({ 'a.py': PY, 'a.sql': '-- Databricks notebook source\n', 'b.py': PY }),
      (e: unknown) =>
        e instanceof DeployInputError &&
        e.input === 'sourceFolder' &&
        /a: a\.py \(notebook \(PYTHON\)\) and a\.sql \(notebook \(SQL\)\)/.test(e.message),
    );
  });

  it('fails when a notebook and a folder would share a name, or a file uses the manifest name', () => {
    assert.throws(
      () => items({ 'x.py': PY, 'x/y.py': PY }),
      /x: x\.py \(notebook \(PYTHON\)\) and the folder holding x\/y\.py/,
    );
    assert.throws(() => items({ '.deploy-manifest.json': '{}' }), /reserved for the deploy manifest/);
  });

  it('fails before anything on content over the limit, naming every file', () => {
    assert.throws(
      () =>
        prepareItems(
          [
            candidate('big.py', PY + 'x'.repeat(100)),
            candidate('ok.py', PY),
            candidate('huge.bin', 'y'.repeat(200)),
          ],
          {
            sourceInput: 'sourceFolder',
            replaceTokens: false,
            maxBytes: 100,
          },
        ),
      (e: unknown) => {
        assert.ok(e instanceof DeployInputError);
        assert.equal(e.input, 'sourceFolder');
        // One line that names the source input, the input that leaves files out, and the files.
        assert.match(
          e.message,
          /^Input 'sourceFolder': 2 file\(s\) exceed the workspace import limit of 100 bytes; nothing was changed\. .*'exclude'.*: big\.py \(129 bytes\), huge\.bin \(200 bytes\)\.$/,
        );
        return true;
      },
    );
  });

  it('refuses source names with control characters, naming the input and the files escaped', () => {
    assert.throws(
      () => items({ 'etl/load.py': PY, 'etl/evil\u001b[2J.py': PY, 'etl/a\nb.txt': 'x', 'ok.txt': 'y' }),
      (e: unknown) => {
        assert.ok(e instanceof DeployInputError);
        assert.equal(e.input, 'sourceFolder');
        assert.match(
          e.message,
          /^Input 'sourceFolder': 2 file\(s\) have control characters in their names.*: etl\/a\\u000ab\.txt, etl\/evil\\u001b\[2J\.py\.$/,
        );
        return true;
      },
    );
  });

  it('names the workspace source input when the source is a workspace folder', () => {
    assert.throws(
      () =>
        prepareItems(
          [
            candidate('big.py', PY + 'x'.repeat(100)),
            candidate('a.py', PY),
            candidate('a.sql', '-- Databricks notebook source\n'),
          ],
          {
            sourceInput: 'sourcePath',
            replaceTokens: false,
            maxBytes: 100,
          },
        ),
      (e: unknown) => {
        assert.ok(e instanceof DeployInputError);
        assert.equal(e.input, 'sourcePath');
        assert.match(
          e.message,
          /^Input 'sourcePath': 1 workspace path\(s\) would receive more than one source/,
        );
        assert.match(e.message, /\nInput 'sourcePath': 1 file\(s\) exceed .*big\.py \(129 bytes\)/);
        return true;
      },
    );
  });

  it('replaces tokens in notebooks only and hashes the replaced content', () => {
    const lookup = (n: string) => (n === 'env' ? { value: 'prod', secret: false } : undefined);
    const [cfg, nb] = prepareItems(
      [candidate('nb.py', PY + 'env="#{env}#"'), candidate('cfg.txt', '#{env}#')],
      {
        sourceInput: 'sourceFolder',
        replaceTokens: true,
        lookup,
      },
    );
    assert.equal(nb.content.toString(), PY + 'env="prod"');
    assert.equal(nb.tokensReplaced, 1);
    assert.equal(nb.sha256, sha256(Buffer.from(PY + 'env="prod"')));
    assert.equal(cfg.content.toString(), '#{env}#');
  });

  it('fails listing every missing variable and where it is used', () => {
    assert.throws(
      () =>
        prepareItems([candidate('a.py', PY + '#{one}# #{two}#'), candidate('b.py', PY + '#{two}#')], {
          sourceInput: 'sourceFolder',
          replaceTokens: true,
          lookup: () => undefined,
        }),
      (e: unknown) =>
        e instanceof DeployInputError &&
        e.input === 'replaceTokens' &&
        /2 token\(s\) have no pipeline variable: one, two/.test(e.message) &&
        /#\{two\}#: a\.py, b\.py/.test(e.message),
    );
  });

  it('registers secret values used in notebooks and never puts them in item metadata', () => {
    const [nb] = prepareItems([candidate('a.py', PY + 'pw="#{pw}#"')], {
      sourceInput: 'sourceFolder',
      replaceTokens: true,
      lookup: () => ({ value: 'hunter2-secret', secret: true }),
    });
    assert.equal(redact(nb.content.toString()), PY + 'pw="***"');
    assert.ok(!JSON.stringify({ ...nb, content: undefined }).includes('hunter2-secret'));
  });

  it('escapes values inside Jupyter notebooks so they stay valid JSON', () => {
    const ipynb = JSON.stringify({ cells: [{ source: ['x = "#{v}#"'] }], metadata: {}, nbformat: 4 });
    const [nb] = prepareItems([candidate('n.ipynb', ipynb)], {
      sourceInput: 'sourceFolder',
      replaceTokens: true,
      lookup: () => ({ value: 'a"b', secret: false }),
    });
    assert.equal(JSON.parse(nb.content.toString()).cells[0].source[0], 'x = "a"b"');
  });
});
