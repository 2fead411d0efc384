import assert from 'node:assert/strict';
import {
  parseManifest,
  sameEntries,
  serializeManifest,
  type DeployManifest,
} from '../../../../src/databricks/deploy/manifest';

const hash = 'a'.repeat(64);
const manifest: DeployManifest = {
  schema: 'databricks-deploy-manifest/v1',
  targetPath: '/Shared/sales',
  deployedAt: '2024-01-01T00:00:00.000Z',
  deployedBy: 'CI 1',
  entries: {
    'z/last': {
      kind: 'notebook',
      format: 'SOURCE',
      language: 'PYTHON',
      sha256: hash,
      size: 10,
      source: 'z/last.py',
      objectId: 7,
      modifiedAt: 1700,
    },
    'a/conf.json': {
      kind: 'file',
      format: 'AUTO',
      sha256: hash,
      size: 3,
      source: 'a/conf.json',
      remoteSize: 3,
    },
  },
};

describe('deploy/manifest', () => {
  it('round-trips and sorts entries so equal manifests are equal text', () => {
    const text = serializeManifest(manifest);
    assert.ok(text.indexOf('a/conf.json') < text.indexOf('z/last'));
    const parsed = parseManifest(text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.manifest, manifest);
    const reordered = {
      ...manifest,
      entries: { 'a/conf.json': manifest.entries['a/conf.json'], 'z/last': manifest.entries['z/last'] },
    };
    assert.equal(serializeManifest(reordered), text);
  });

  it('stores content hash, kind, language and size per path', () => {
    const doc = JSON.parse(serializeManifest(manifest));
    assert.deepEqual(doc.entries['z/last'], {
      kind: 'notebook',
      format: 'SOURCE',
      sha256: hash,
      size: 10,
      source: 'z/last.py',
      language: 'PYTHON',
      objectId: 7,
      modifiedAt: 1700,
    });
  });

  it('reports problems instead of throwing', () => {
    assert.equal(parseManifest('{').ok, false);
    assert.equal(parseManifest('[]').ok, false);
    assert.match((parseManifest('{"schema":"other"}') as { problem: string }).problem, /unknown schema/);
    const bad = JSON.parse(serializeManifest(manifest));
    bad.entries['z/last'].sha256 = 'nope';
    assert.match((parseManifest(JSON.stringify(bad)) as { problem: string }).problem, /sha256/);
    bad.entries['z/last'].sha256 = hash;
    bad.entries['z/last'].kind = 'thing';
    assert.match((parseManifest(JSON.stringify(bad)) as { problem: string }).problem, /kind/);
  });

  it('compares entries ignoring when and by whom', () => {
    assert.equal(sameEntries(manifest, { ...manifest, deployedAt: 'later', deployedBy: 'CI 2' }), true);
    const changed = {
      ...manifest,
      entries: { ...manifest.entries, 'a/conf.json': { ...manifest.entries['a/conf.json'], size: 4 } },
    };
    assert.equal(sameEntries(manifest, changed), false);
    assert.equal(sameEntries(manifest, { ...manifest, targetPath: '/Shared/other' }), false);
  });
});
