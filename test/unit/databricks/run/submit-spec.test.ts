import * as assert from 'node:assert/strict';
import {
  buildSubmitSpec,
  defaultRunName,
  parseNotebookPaths,
  taskKeysFor,
} from '../../../../src/databricks/run/submit-spec';

describe('submit spec', () => {
  it('builds one parallel notebook task per path on serverless', () => {
    const spec = buildSubmitSpec({
      notebooks: ['/Shared/tests/smoke', '/Shared/tests/model eval'],
      parameters: { env: 'test', 'quote"d': "it's" },
      cluster: { kind: 'serverless' },
      runName: 'pipe 1',
      idempotencyToken: 'tok',
      timeoutSeconds: 3600,
    });
    assert.deepEqual(spec, {
      run_name: 'pipe 1',
      idempotency_token: 'tok',
      timeout_seconds: 3600,
      tasks: [
        {
          task_key: 'smoke',
          notebook_task: {
            notebook_path: '/Shared/tests/smoke',
            source: 'WORKSPACE',
            base_parameters: { env: 'test', 'quote"d': "it's" },
          },
        },
        {
          task_key: 'model_eval',
          notebook_task: {
            notebook_path: '/Shared/tests/model eval',
            source: 'WORKSPACE',
            base_parameters: { env: 'test', 'quote"d': "it's" },
          },
        },
      ],
    });
    assert.ok(spec.tasks.every((t) => !('depends_on' in t)));
  });

  it('sets existing_cluster_id or a copy of new_cluster on every task', () => {
    const existing = buildSubmitSpec({
      notebooks: ['/a'],
      parameters: {},
      cluster: { kind: 'existing', clusterId: '0101-abc' },
      runName: 'r',
      idempotencyToken: 't',
    });
    assert.equal(existing.tasks[0].existing_cluster_id, '0101-abc');
    assert.equal(existing.tasks[0].notebook_task.base_parameters, undefined);
    assert.equal(existing.timeout_seconds, undefined);
    const spec = { spark_version: '15.4.x-scala2.12', num_workers: 1 };
    const fresh = buildSubmitSpec({
      notebooks: ['/a', '/b'],
      parameters: {},
      cluster: { kind: 'new', spec },
      runName: 'r',
      idempotencyToken: 't',
    });
    assert.deepEqual(fresh.tasks[1].new_cluster, spec);
    assert.notEqual(fresh.tasks[0].new_cluster, spec);
  });

  it('derives unique, valid task keys', () => {
    const keys = taskKeysFor([
      '/Repos/a/tests/smoke',
      '/Repos/b/tests/smoke',
      '/Shared/ünïcode näme!',
      '/x/smoke_2',
      '/Shared/' + 'n'.repeat(150),
      '/',
    ]);
    assert.deepEqual(keys.slice(0, 4), ['a_tests_smoke', 'b_tests_smoke', 'n_code_n_me', 'smoke_2']);
    assert.equal(keys[4].length, 100);
    assert.equal(keys[5], 'notebook');
    for (const k of keys) assert.match(k, /^[A-Za-z0-9_-]{1,100}$/);
    assert.equal(new Set(keys).size, keys.length);
    // Identical names at every depth fall back to a counter.
    assert.deepEqual(taskKeysFor(['/x/a b', '/x/a_b']), ['x_a_b', 'x_a_b_2']);
  });

  it('reads notebook paths and explains bad ones', () => {
    assert.deepEqual(parseNotebookPaths(' /a \n\n# skipped\n/b\r\n').paths, ['/a', '/b']);
    assert.throws(
      () => parseNotebookPaths(' \n '),
      /Input 'notebookPath' is empty: give one workspace notebook path per line/,
    );
    assert.throws(
      () => parseNotebookPaths('tests/smoke'),
      /Input 'notebookPath': "tests\/smoke" is not an absolute workspace path.*\/Shared\/tests\/tests\/smoke/,
    );
    assert.throws(() => parseNotebookPaths('/a\n/a'), /lists "\/a" more than once/);
    assert.match(
      parseNotebookPaths('/Shared/smoke.py').warnings[0],
      /ends with a file extension.*\/Shared\/smoke\)/,
    );
  });

  it('refuses . and .. segments, naming the input and the line', () => {
    for (const [input, line] of [
      ['/Shared/tests/../../Users/admin@example.com/secrets', 1],
      ['/Shared/a\n# comment\n/Shared/./b', 3],
      ['/Shared/a\r\n/..', 2],
      ['/Shared/tests/..', 1],
    ] as const) {
      assert.throws(
        () => parseNotebookPaths(input),
        (e: unknown) => {
          assert.ok(e instanceof Error);
          assert.match(
            e.message,
            new RegExp(`^Input 'notebookPath' line ${line}: ".*" has a '\\.\\.?' segment`),
          );
          return true;
        },
        input,
      );
    }
    // Dots inside a name are fine.
    assert.deepEqual(parseNotebookPaths('/Shared/v1..2/smoke.test').paths, ['/Shared/v1..2/smoke.test']);
  });

  it('refuses control characters, showing them escaped instead of sending them to the log', () => {
    for (const [input, line, shown] of [
      [
        '/Shared/tests/smoke\u001b[2J\u001b[1;1Hall good',
        1,
        '/Shared/tests/smoke\\u001b[2J\\u001b[1;1Hall good',
      ],
      ['/Shared/a\n/Shared/b\u0000c', 2, '/Shared/b\\u0000c'],
      ['/Shared/a\r/Shared/b', 1, '/Shared/a\\u000d/Shared/b'],
      ['/Shared/x\u009by', 1, '/Shared/x\\u009by'],
      ['/Shared/evil\u202egnp.py', 1, '/Shared/evil\\u202egnp.py'],
      ['/Shared/a\tb', 1, '/Shared/a\\u0009b'],
    ] as const) {
      assert.throws(
        () => parseNotebookPaths(input),
        (e: unknown) => {
          assert.ok(e instanceof Error);
          assert.ok(
            e.message.startsWith(
              `Input 'notebookPath' line ${line}: "${shown}" contains a control character`,
            ),
            e.message,
          );
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(e.message, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
          return true;
        },
        JSON.stringify(input),
      );
    }
    // Names that only look like logging commands are left to the logger, which neutralises them.
    assert.deepEqual(parseNotebookPaths('/Shared/##vso[task.setvariable variable=x]y').paths, [
      '/Shared/##vso[task.setvariable variable=x]y',
    ]);
  });

  it('names the run after the pipeline and build', () => {
    assert.equal(
      defaultRunName({
        definitionName: 'CI',
        buildNumber: '20260101.3',
        stageName: 'Test',
        jobName: 'smoke',
      }),
      'CI 20260101.3 (Test / smoke)',
    );
    assert.equal(defaultRunName({ definitionName: 'Rel', releaseName: 'Release-4' }), 'Rel Release-4');
    assert.equal(defaultRunName({}), 'Azure DevOps notebook run');
  });
});
