import assert from 'node:assert/strict';
import { MemoryLogger } from '../../../../src/common/logger';
import { planDeploy } from '../../../../src/databricks/deploy/planner';
import { formatDuration, logPlan, summaryMarkdown } from '../../../../src/databricks/deploy/summary';
import { items, PY, remoteTree } from './helpers';

const T = '/Shared/t';

describe('deploy/summary', () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 120; i++) files[`nb_${String(i).padStart(3, '0')}.py`] = PY + i;
  files['my [odd] (name)_x.py'] = PY;
  const plan = planDeploy(items(files), remoteTree([{ rel: 'stale', type: 'FILE' }]), undefined, {
    targetPath: T,
    mode: 'mirror',
    skipUnchanged: true,
  });

  const md = (over: Partial<Parameters<typeof summaryMarkdown>[0]> = {}) =>
    summaryMarkdown({
      plan,
      workspaceUrl: 'https://adb-1.1.azuredatabricks.net/',
      dryRun: false,
      durationMs: 83_400,
      requests: 250,
      created: plan.imports.map((i) => i.path),
      updated: [],
      deleted: ['/Shared/t/stale'],
      unchanged: 0,
      failures: [],
      deletesWithheld: false,
      source: 'notebooks',
      ...over,
    });

  it('has counts, time, request count, and links capped at 100 entries', () => {
    const text = md();
    assert.match(text, /\| Created \| 121 \|/);
    assert.match(text, /\| Deleted \| 1 \|/);
    assert.match(text, /Time taken: 1 min 23 s, 250 request\(s\)\./);
    assert.match(text, /- … and 21 more/);
    assert.ok(
      text.includes(
        '- [/Shared/t/my \\[odd\\] \\(name\\)\\_x](https://adb-1.1.azuredatabricks.net/#workspace/Shared/t/my%20%5Bodd%5D%20%28name%29_x) (created)',
      ),
      text,
    );
  });

  it('says when it failed and when deletes were withheld', () => {
    const text = md({
      failures: [{ path: '/Shared/t/a', operation: 'create', message: '400 BAD: no' }],
      deletesWithheld: true,
      deleted: [],
    });
    assert.match(text, /\*\*Failed\*\*: 1 operation\(s\) failed\./);
    assert.match(text, /- \/Shared\/t\/a \(create\): 400 BAD: no/);
    assert.match(text, /Mirror deletes were \*\*not\*\* run/);
  });

  it('logs the plan as one group with a line per change', () => {
    const log = new MemoryLogger();
    logPlan(plan, log, true);
    assert.equal(log.entries[0].level, 'group');
    assert.match(
      log.entries[0].message,
      /^Dry run: plan for \/Shared\/t \(mirror\): 121 to create, 0 to update, 0 unchanged, 1 to delete$/,
    );
    assert.ok(log.entries.some((e) => /^ {2}delete {5}\/Shared\/t\/stale {2}\[file\]$/.test(e.message)));
    assert.equal(log.entries.filter((e) => e.level === 'endgroup').length, 1);
  });

  it('formats durations', () => {
    assert.equal(formatDuration(250), '250 ms');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
  });
});
