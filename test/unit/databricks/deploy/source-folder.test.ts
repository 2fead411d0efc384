import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../../../../src/common/logger';
import { DeployInputError } from '../../../../src/databricks/deploy/errors';
import { createSelector } from '../../../../src/databricks/deploy/globs';
import { scanFolder } from '../../../../src/databricks/deploy/source-folder';
import { PY } from './helpers';

/** Symbolic links in the source folder: followed inside it, refused when they lead out. */
describe('deploy/source-folder: symbolic links', function () {
  let tmp: string;
  let root: string;
  let outside: string;

  const write = (abs: string, text: string) => {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  };
  const scan = (include: string[] = [], exclude: string[] = [], from = root) => {
    const logger = new MemoryLogger();
    return scanFolder(from, createSelector(include, exclude), logger).then((s) => ({ ...s, logger }));
  };
  const sources = (s: { candidates: { source: string }[] }) => s.candidates.map((c) => c.source);
  const refusal = (re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof DeployInputError, String(e));
    assert.equal(e.input, 'sourceFolder');
    // One line names the input and the link, so the pipeline's result line says both.
    assert.match(e.message.split('\n')[0], re);
    return true;
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'source-folder-'));
    root = path.join(tmp, 'repo', 'notebooks');
    outside = path.join(tmp, 'outside');
    write(path.join(root, 'etl', 'load.py'), `${PY}print(1)\n`);
    write(path.join(outside, 'secret.py'), `${PY}print("outside")\n`);
    write(path.join(outside, 'lib', 'util.py'), `${PY}print("lib")\n`);
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('refuses a file link that leads out of the folder, naming sourceFolder and the link', async () => {
    fs.symlinkSync(path.join(outside, 'secret.py'), path.join(root, 'etl', 'linked.py'));
    await assert.rejects(scan(), refusal(/^Input 'sourceFolder':.*etl\/linked\.py.*outside/));
  });

  it('refuses a relative link climbing out with ..', async () => {
    fs.symlinkSync('../../../outside/secret.py', path.join(root, 'etl', 'linked.py'));
    await assert.rejects(scan(), refusal(/sourceFolder.*etl\/linked\.py/));
  });

  it('refuses a folder link that leads out of the folder', async () => {
    fs.symlinkSync(path.join(outside, 'lib'), path.join(root, 'lib'));
    await assert.rejects(scan(), refusal(/sourceFolder.*'lib'/));
  });

  it('refuses a chain of links that ends outside, even through a link inside', async () => {
    fs.symlinkSync(path.join(outside, 'secret.py'), path.join(root, 'hop.py'));
    fs.symlinkSync(path.join(root, 'hop.py'), path.join(root, 'etl', 'chain.py'));
    await assert.rejects(scan(), refusal(/etl\/chain\.py.*hop\.py|hop\.py.*etl\/chain\.py/));
  });

  it('lists every link that leads out, on one line', async () => {
    fs.symlinkSync(path.join(outside, 'secret.py'), path.join(root, 'a.py'));
    fs.symlinkSync(path.join(outside, 'lib'), path.join(root, 'b'));
    await assert.rejects(scan(), refusal(/2 symbolic links.*'a\.py'.*'b'/));
  });

  it('leaves alone links leading out that are excluded or not selected', async () => {
    fs.symlinkSync(path.join(outside, 'secret.py'), path.join(root, 'etl', 'linked.py'));
    fs.symlinkSync(path.join(outside, 'lib'), path.join(root, 'vendor'));
    const s = await scan([], ['etl/linked.py', 'vendor']);
    assert.deepEqual(sources(s), ['etl/load.py']);
    const only = await scan(['etl/load.py']);
    assert.deepEqual(sources(only), ['etl/load.py']);
    // A pattern that might select below the folder link is not enough to skip it.
    await assert.rejects(scan(['**/*.py'], ['etl/linked.py']), refusal(/sourceFolder.*'vendor'/));
  });

  it('follows file and folder links that stay inside the folder', async () => {
    write(path.join(root, 'shared', 'common.py'), `${PY}print("common")\n`);
    fs.symlinkSync(path.join(root, 'etl', 'load.py'), path.join(root, 'load_alias.py'));
    fs.symlinkSync('../shared', path.join(root, 'etl', 'shared_link'));
    const s = await scan();
    assert.deepEqual(sources(s), [
      'etl/load.py',
      'etl/shared_link/common.py',
      'load_alias.py',
      'shared/common.py',
    ]);
    const alias = s.candidates.find((c) => c.source === 'load_alias.py');
    assert.equal(alias?.content.toString(), `${PY}print(1)\n`);
  });

  it('skips a folder link that loops back on itself, without walking forever', async () => {
    fs.symlinkSync('..', path.join(root, 'etl', 'up'));
    fs.symlinkSync('.', path.join(root, 'self'));
    const s = await scan();
    assert.deepEqual(sources(s), ['etl/load.py']);
    assert.match(s.logger.text(), /etl\/up.*cycle/);
    assert.match(s.logger.text(), /self.*cycle/);
  });

  it('takes a source folder given through a link as the folder it points at', async () => {
    const viaLink = path.join(tmp, 'repo', 'nb-link');
    fs.symlinkSync(root, viaLink);
    fs.symlinkSync(path.join(root, 'etl', 'load.py'), path.join(root, 'alias.py'));
    const s = await scan([], [], viaLink);
    assert.deepEqual(sources(s), ['alias.py', 'etl/load.py']);
    fs.symlinkSync(path.join(outside, 'secret.py'), path.join(root, 'out.py'));
    await assert.rejects(scan([], [], viaLink), refusal(/sourceFolder.*out\.py/));
  });

  it('skips a broken link with a warning', async () => {
    fs.symlinkSync(path.join(root, 'missing.py'), path.join(root, 'broken.py'));
    const s = await scan();
    assert.deepEqual(sources(s), ['etl/load.py']);
    assert.match(s.logger.text(), /broken\.py: broken symbolic link/);
  });
});
