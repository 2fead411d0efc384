import assert from 'node:assert/strict';
import { DeployInputError } from '../../../../src/databricks/deploy/errors';
import {
  ancestorsRel,
  dangerousMirrorTarget,
  isStrictlyInside,
  joinWorkspacePath,
  normaliseWorkspacePath,
  relativeTo,
  workspaceLink,
} from '../../../../src/databricks/deploy/paths';

describe('deploy/paths', () => {
  it('normalises /Workspace prefixes, duplicate and trailing slashes, . and ..', () => {
    assert.equal(normaliseWorkspacePath('/Shared/sales', 'targetPath'), '/Shared/sales');
    assert.equal(normaliseWorkspacePath('/Workspace/Shared/sales/', 'targetPath'), '/Shared/sales');
    assert.equal(normaliseWorkspacePath('  //Shared//sales/./etl/../ ', 'targetPath'), '/Shared/sales');
    assert.equal(normaliseWorkspacePath('/Workspace', 'targetPath'), '/');
    assert.equal(normaliseWorkspacePath('/Workspace/', 'targetPath'), '/');
    // Only a whole first segment is the prefix.
    assert.equal(normaliseWorkspacePath('/Workspaces/x', 'targetPath'), '/Workspaces/x');
    assert.equal(normaliseWorkspacePath('/Shared/Workspace/x', 'targetPath'), '/Shared/Workspace/x');
  });

  it('rejects relative, empty, backslash and above-root paths naming the input', () => {
    for (const bad of ['Shared/x', '', '   ', '\\Shared\\x', '/..', '/Shared/../..']) {
      assert.throws(
        () => normaliseWorkspacePath(bad, 'targetPath'),
        (e: unknown) =>
          e instanceof DeployInputError && e.input === 'targetPath' && /'targetPath'/.test(e.message),
        bad,
      );
    }
  });

  it('refuses control characters, naming the input and showing them escaped', () => {
    for (const [bad, shown] of [
      ['/Shared/app\u001b[2J', '/Shared/app\\u001b[2J'],
      ['/Shared/a\nb', '/Shared/a\\u000ab'],
      ['/Shared/\u202eppa', '/Shared/\\u202eppa'],
    ]) {
      for (const input of ['targetPath', 'sourcePath']) {
        assert.throws(
          () => normaliseWorkspacePath(bad, input),
          (e: unknown) => {
            assert.ok(e instanceof DeployInputError);
            assert.equal(e.input, input);
            assert.ok(
              e.message.startsWith(`Input '${input}': "${shown}" contains a control character`),
              e.message,
            );
            return true;
          },
        );
      }
    }
  });

  it('refuses the dangerous mirror targets in every spelling', () => {
    const spellings = [
      '/',
      '/Workspace',
      '/Workspace/',
      '/Users',
      '/Users/',
      '/Workspace/Users',
      '/Shared',
      '/Shared/',
      '/Workspace/Shared/',
      '/Repos',
      '/Workspace/Repos',
      '/Users/someone@example.com',
      '/Workspace/Users/someone@example.com/',
      '/Repos/someone@example.com',
      '/Shared/sales/..',
      '/Workspace/Shared/sales/../',
      '/Users/me/project/../',
      '//Shared//',
    ];
    for (const s of spellings) {
      const p = normaliseWorkspacePath(s, 'targetPath');
      assert.ok(dangerousMirrorTarget(p), `${s} should be refused (normalised ${p})`);
    }
  });

  it('allows project folders', () => {
    for (const s of [
      '/Shared/sales',
      '/Workspace/Shared/sales',
      '/Users/me@example.com/project',
      '/Repos/me/repo',
      '/Projects',
    ]) {
      assert.equal(dangerousMirrorTarget(normaliseWorkspacePath(s, 'targetPath')), undefined, s);
    }
  });

  it('says why', () => {
    assert.equal(dangerousMirrorTarget('/'), 'it is the workspace root');
    assert.equal(dangerousMirrorTarget('/Users/a@b.c'), 'it is the home folder of a@b.c');
  });

  it('joins, relativises and checks containment', () => {
    assert.equal(joinWorkspacePath('/Shared/x', 'a/b'), '/Shared/x/a/b');
    assert.equal(joinWorkspacePath('/', 'a'), '/a');
    assert.equal(joinWorkspacePath('/Shared/x', ''), '/Shared/x');
    assert.equal(relativeTo('/Shared/x', '/Shared/x/a/b'), 'a/b');
    assert.equal(relativeTo('/Shared/x', '/Workspace/Shared/x/a'), 'a');
    assert.equal(relativeTo('/Shared/x', '/Shared/x'), '');
    assert.equal(relativeTo('/Shared/x', '/Shared/xy/a'), undefined);
    assert.equal(isStrictlyInside('/Shared/x', '/Shared/x/a'), true);
    assert.equal(isStrictlyInside('/Shared/x', '/Shared/x'), false);
    assert.equal(isStrictlyInside('/Shared/x', '/Shared/xy'), false);
    assert.equal(isStrictlyInside('/Shared/x', '/Shared/x/../y'), false);
    assert.deepEqual(ancestorsRel('a/b/c'), ['a', 'a/b']);
    assert.deepEqual(ancestorsRel('c'), []);
  });

  it('builds workspace links with encoded segments', () => {
    assert.equal(
      workspaceLink('https://adb-1.2.azuredatabricks.net/', '/Shared/sales/my notebook'),
      'https://adb-1.2.azuredatabricks.net/#workspace/Shared/sales/my%20notebook',
    );
  });
});
