import assert from 'node:assert/strict';
import { planCounts, planDeploy } from '../../../../src/databricks/deploy/planner';
import { items, manifestOf, PY, remoteTree } from './helpers';

const T = '/Shared/t';
const merge = { targetPath: T, mode: 'merge' as const, skipUnchanged: true };
const mirror = { ...merge, mode: 'mirror' as const };

describe('deploy/planner', () => {
  const src = items({
    'a/nb1.py': PY + '1',
    'a/b/nb2.py': PY + '2',
    'top.py': PY + 't',
    'a/conf.json': '{}',
  });

  it('first deploy into a missing folder: every folder once, parents first, all created', () => {
    const plan = planDeploy(src, remoteTree([], T, false), undefined, merge);
    assert.deepEqual(plan.mkdirs, ['/Shared/t', '/Shared/t/a', '/Shared/t/a/b']);
    assert.deepEqual(
      plan.imports.map((i) => [i.path, i.action, i.reason]),
      [
        ['/Shared/t/a/b/nb2', 'create', 'new'],
        ['/Shared/t/a/conf.json', 'create', 'new'],
        ['/Shared/t/a/nb1', 'create', 'new'],
        ['/Shared/t/top', 'create', 'new'],
      ],
    );
    assert.deepEqual(planCounts(plan), { create: 4, update: 0, unchanged: 0, delete: 0, mkdirs: 3 });
  });

  it('without a manifest, existing objects are updated and missing folders created', () => {
    const remote = remoteTree([{ rel: 'a', type: 'DIRECTORY' }, { rel: 'a/nb1' }, { rel: 'top' }]);
    const plan = planDeploy(src, remote, undefined, merge);
    assert.deepEqual(plan.mkdirs, ['/Shared/t/a/b']);
    const byPath = Object.fromEntries(plan.imports.map((i) => [i.item.rel, `${i.action}:${i.reason}`]));
    assert.deepEqual(byPath, {
      'a/b/nb2': 'create:new',
      'a/conf.json': 'create:new',
      'a/nb1': 'update:not in the last manifest',
      top: 'update:not in the last manifest',
    });
  });

  const deployed = remoteTree([
    { rel: 'a', type: 'DIRECTORY' },
    { rel: 'a/b', type: 'DIRECTORY' },
    { rel: 'a/nb1', objectId: 1, modifiedAt: 100 },
    { rel: 'a/b/nb2', objectId: 2, modifiedAt: 100 },
    { rel: 'top', objectId: 3, modifiedAt: 100 },
    { rel: 'a/conf.json', type: 'FILE', objectId: 4, modifiedAt: 100, size: 2 },
    { rel: '.deploy-manifest.json', type: 'FILE' },
  ]);
  const ids: Record<string, { objectId: number; modifiedAt: number; remoteSize?: number }> = {
    'a/nb1': { objectId: 1, modifiedAt: 100 },
    'a/b/nb2': { objectId: 2, modifiedAt: 100 },
    top: { objectId: 3, modifiedAt: 100 },
    'a/conf.json': { objectId: 4, modifiedAt: 100, remoteSize: 2 },
  };

  it('redeploy with no change: nothing to do', () => {
    const plan = planDeploy(src, deployed, manifestOf(src, ids), mirror);
    assert.deepEqual(planCounts(plan), { create: 0, update: 0, unchanged: 4, delete: 0, mkdirs: 0 });
    assert.deepEqual(plan.drift, []);
  });

  it('skipUnchanged off re-imports everything', () => {
    const plan = planDeploy(src, deployed, manifestOf(src, ids), { ...merge, skipUnchanged: false });
    assert.equal(plan.imports.length, 4);
    assert.ok(plan.imports.every((i) => i.action === 'update' && i.reason === 'skipUnchanged is off'));
  });

  it('a changed notebook is updated; a renamed language too', () => {
    const changed = items({
      'a/nb1.py': PY + 'CHANGED',
      'a/b/nb2.py': PY + '2',
      'top.py': PY + 't',
      'a/conf.json': '{}',
    });
    const plan = planDeploy(changed, deployed, manifestOf(src, ids), merge);
    assert.deepEqual(
      plan.imports.map((i) => [i.item.rel, i.reason]),
      [['a/nb1', 'content changed']],
    );

    const relang = items({
      'a/nb1.sql': '-- Databricks notebook source\n',
      'a/b/nb2.py': PY + '2',
      'top.py': PY + 't',
      'a/conf.json': '{}',
    });
    const m = manifestOf(src, ids);
    m.entries['a/nb1'].sha256 = relang.find((i) => i.rel === 'a/nb1')!.sha256;
    const p2 = planDeploy(relang, deployed, m, merge);
    assert.match(p2.imports[0].reason, /was notebook \(PYTHON\) \(SOURCE\), now notebook \(SQL\)/);
  });

  it('detects drift from modified_at, object id, size and deletion and overwrites it', () => {
    const remote = remoteTree([
      { rel: 'a', type: 'DIRECTORY' },
      { rel: 'a/b', type: 'DIRECTORY' },
      { rel: 'a/nb1', objectId: 1, modifiedAt: 999 },
      { rel: 'top', objectId: 33, modifiedAt: 100 },
      { rel: 'a/conf.json', type: 'FILE', objectId: 4, modifiedAt: 100, size: 50 },
    ]);
    const plan = planDeploy(src, remote, manifestOf(src, ids), merge);
    const drift = Object.fromEntries(plan.drift.map((d) => [d.rel, d.what]));
    assert.match(drift['a/nb1'], /edited in the workspace at 1970-01-01T00:00:00\.999Z/);
    assert.match(drift.top, /replaced in the workspace \(object id 3 → 33\)/);
    assert.match(drift['a/conf.json'], /size 2 → 50/);
    assert.equal(drift['a/b/nb2'], 'deleted in the workspace since the last deploy');
    const actions = Object.fromEntries(plan.imports.map((i) => [i.item.rel, `${i.action}:${i.reason}`]));
    assert.deepEqual(actions, {
      'a/b/nb2': 'create:missing in the workspace',
      'a/conf.json': 'update:changed in the workspace',
      'a/nb1': 'update:changed in the workspace',
      top: 'update:changed in the workspace',
    });
    assert.equal(plan.unchanged.length, 0);
  });

  it('does not call it drift when the API reports no timestamps', () => {
    const remote = remoteTree([
      { rel: 'a', type: 'DIRECTORY' },
      { rel: 'a/b', type: 'DIRECTORY' },
      { rel: 'a/nb1' },
      { rel: 'a/b/nb2' },
      { rel: 'top' },
      { rel: 'a/conf.json', type: 'FILE' },
    ]);
    const plan = planDeploy(src, remote, manifestOf(src, ids), merge);
    assert.equal(plan.drift.length, 0);
    assert.equal(plan.unchanged.length, 4);
  });

  it('mirror deletes what is not in the source, whole folders at once, never the manifest or Git folders', () => {
    const remote = remoteTree([
      ...[...deployed.objects.values()],
      { rel: 'old', type: 'DIRECTORY' },
      { rel: 'old/x' },
      { rel: 'old/y/z', type: 'FILE' },
      { rel: 'a/gone' },
      { rel: 'repo', type: 'REPO', gitFolder: true },
      { rel: 'mixed', type: 'DIRECTORY' },
      { rel: 'mixed/repo2', type: 'DIRECTORY', gitFolder: true },
      { rel: 'mixed/stale', type: 'FILE' },
    ]);
    const plan = planDeploy(src, remote, manifestOf(src, ids), mirror);
    assert.deepEqual(
      plan.deletes.map((d) => [d.path, d.recursive]),
      [
        ['/Shared/t/old', true],
        ['/Shared/t/a/gone', false],
        ['/Shared/t/mixed/stale', false],
      ],
    );
    assert.deepEqual(plan.skippedGitFolders, ['mixed/repo2', 'repo']);
  });

  it('merge never deletes', () => {
    const remote = remoteTree([...[...deployed.objects.values()], { rel: 'a/gone' }]);
    assert.equal(planDeploy(src, remote, undefined, merge).deletes.length, 0);
  });

  it('blocks when a folder is needed where a notebook is, or a notebook where a folder is, or inside a Git folder', () => {
    const one = items({ 'a/nb.py': PY });
    assert.match(
      planDeploy(one, remoteTree([{ rel: 'a', type: 'NOTEBOOK' }]), undefined, merge).blockers[0],
      /\/Shared\/t\/a is a notebook in the workspace but the source needs a folder/,
    );
    assert.match(
      planDeploy(
        one,
        remoteTree([
          { rel: 'a', type: 'DIRECTORY' },
          { rel: 'a/nb', type: 'DIRECTORY' },
        ]),
        undefined,
        merge,
      ).blockers[0],
      /\/Shared\/t\/a\/nb: the workspace has a directory where the source has a notebook \(PYTHON\)/,
    );
    assert.match(
      planDeploy(one, remoteTree([{ rel: 'a', type: 'REPO', gitFolder: true }]), undefined, merge)
        .blockers[0],
      /Git folder/,
    );
  });

  it('DBC archives own what they expanded into', () => {
    const list = items({ 'arch.dbc': 'PK' });
    const remote = remoteTree([{ rel: 'arch', type: 'DIRECTORY' }, { rel: 'arch/inner' }]);
    const plan = planDeploy(list, remote, manifestOf(list), mirror);
    assert.equal(plan.deletes.length, 0);
    assert.equal(plan.unchanged.length, 1);
  });
});
