import assert from 'node:assert/strict';
import { DeployInputError } from '../../../../src/databricks/deploy/errors';
import { createSelector } from '../../../../src/databricks/deploy/globs';

describe('deploy/globs', () => {
  const files = [
    'etl/load.py',
    'etl/tests/test_load.py',
    'README.md',
    'conf/dev.json',
    '.github/ci.yml',
    'a/.hidden.py',
  ];
  const pick = (inc: string[], exc: string[]) => files.filter((f) => createSelector(inc, exc).selects(f));

  it('includes everything but dot files by default', () => {
    assert.deepEqual(pick([], []), ['etl/load.py', 'etl/tests/test_load.py', 'README.md', 'conf/dev.json']);
  });

  it('applies include and exclude globs', () => {
    assert.deepEqual(pick(['**/*.py'], ['**/tests/**']), ['etl/load.py']);
    assert.deepEqual(pick(['etl/**', 'conf/*.json'], []), [
      'etl/load.py',
      'etl/tests/test_load.py',
      'conf/dev.json',
    ]);
  });

  it('treats a folder name as everything below it, with or without trailing slash or ./', () => {
    assert.deepEqual(pick(['etl'], ['etl/tests/']), ['etl/load.py']);
    assert.deepEqual(pick(['./conf'], []), ['conf/dev.json']);
  });

  it('ignores blank lines and comments and accepts backslashes', () => {
    assert.deepEqual(pick(['', '# only etl', 'etl\\**'], ['  ']), ['etl/load.py', 'etl/tests/test_load.py']);
  });

  it('lets an explicit pattern select dot files', () => {
    assert.deepEqual(pick(['.github/**'], []), ['.github/ci.yml']);
  });

  it('says whether anything below a folder might be selected', () => {
    const below = (inc: string[], exc: string[], dir: string) =>
      createSelector(inc, exc).mightSelectBelow(dir);
    assert.equal(below([], [], 'vendor'), true);
    assert.equal(below(['**/*.py'], [], 'vendor/lib'), true);
    assert.equal(below(['etl/**'], [], 'vendor'), false);
    assert.equal(below(['etl/**'], [], 'etl/sub'), true);
    assert.equal(below(['*.py'], [], 'vendor'), false);
    assert.equal(below([], ['vendor'], 'vendor'), false);
    assert.equal(below([], ['vendor/**'], 'vendor'), false);
    assert.equal(below([], ['vendor/*'], 'vendor'), false);
    assert.equal(below([], ['vendor/*.py'], 'vendor'), true, 'other files below may still be selected');
  });

  it('rejects absolute and negated patterns naming the input', () => {
    assert.throws(
      () => createSelector(['/etl/**'], []),
      (e: unknown) => e instanceof DeployInputError && e.input === 'include',
    );
    assert.throws(
      () => createSelector([], ['!x']),
      (e: unknown) => e instanceof DeployInputError && e.input === 'exclude',
    );
  });
});
