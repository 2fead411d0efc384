import * as assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { parseAssertions } from '../../../../src/databricks/run/assertions';
import { interpretExitValue } from '../../../../src/databricks/run/exit-value';
import { buildRunReport } from '../../../../src/databricks/run/report';
import type { NotebookRunOutcome, RunOutcome } from '../../../../src/databricks/run/runner';

const json = JSON.stringify({
  tests: [
    { name: 'table exists', status: 'passed', duration: 0.5 },
    { name: 'row count', status: 'passed', duration: 1 },
    { name: 'slow one', status: 'skipped' },
  ],
  metrics: { accuracy: 0.93, rows: 1200 },
});

function nb(over: Partial<NotebookRunOutcome> = {}): NotebookRunOutcome {
  return {
    taskKey: 'smoke',
    notebookPath: '/Shared/tests/smoke',
    taskRunId: 1000,
    runPageUrl: 'https://ws/run/1000',
    lifeCycleState: 'TERMINATED',
    resultState: 'SUCCESS',
    durationMs: 12_000,
    startTime: Date.UTC(2026, 0, 1),
    result: json,
    ...over,
  };
}

function outcome(notebooks: NotebookRunOutcome[], over: Partial<RunOutcome> = {}): RunOutcome {
  const ok = notebooks.every((n) => n.resultState === 'SUCCESS');
  return {
    runId: 77,
    runPageUrl: 'https://ws/#job/1/run/77',
    lifeCycleState: ok ? 'TERMINATED' : 'INTERNAL_ERROR',
    resultState: ok ? 'SUCCESS' : 'FAILED',
    durationMs: 15_000,
    timedOut: false,
    cancelled: false,
    notebooks,
    ...over,
  };
}

const opts = { runName: 'CI 42', testRunTitle: 'Smoke tests', timeoutMs: 3600_000 };

describe('buildRunReport', () => {
  it('succeeds with tests, metrics and holding assertions', () => {
    const r = buildRunReport(
      outcome([nb()]),
      parseAssertions('metrics.accuracy >= 0.9\nmetrics.rows > 1000'),
      opts,
    );
    assert.deepEqual(r.failures, []);
    assert.equal(r.testsPassed, 4); // 2 tests + 2 assertions
    assert.equal(r.testsFailed, 0);
    assert.equal(r.resultState, 'SUCCESS');
    assert.equal(r.notebookOutput, json);
    assert.equal(XMLValidator.validate(r.junitXml), true);
    const back = interpretExitValue(r.junitXml);
    assert.deepEqual(
      back.tests.map((t) => [t.classname, t.name, t.status]),
      [
        ['/Shared/tests/smoke', 'table exists', 'passed'],
        ['/Shared/tests/smoke', 'row count', 'passed'],
        ['/Shared/tests/smoke', 'slow one', 'skipped'],
        ['Assertions', 'metrics.accuracy >= 0.9', 'passed'],
        ['Assertions', 'metrics.rows > 1000', 'passed'],
      ],
    );
    assert.match(r.junitXml, /<testsuites name="Smoke tests"/);
    const md = r.summaryMarkdown;
    assert.match(md, /### Databricks notebook run: CI 42/);
    assert.match(
      md,
      /✅ Databricks \[run 77\]\(https:\/\/ws\/#job\/1\/run\/77\): \*\*SUCCESS\*\* in 15s\. Tests: 4 passed, 0 failed\./,
    );
    assert.match(
      md,
      /\| \[\/Shared\/tests\/smoke\]\(https:\/\/ws\/run\/1000\) \| ✅ TERMINATED SUCCESS \| 12s \| 2 \| 0 \| 1 \|/,
    );
    assert.match(md, /\| accuracy \| 0\.93 \|/);
    assert.match(md, /- ✅ `metrics\.accuracy >= 0\.9`: actual 0\.93/);
    assert.doesNotMatch(md, /Why the task failed/);
  });

  it('fails on a failed test and names it', () => {
    const failing = JSON.stringify({
      tests: [{ name: 'row count', status: 'failed', message: 'expected 10 got 0' }],
    });
    const r = buildRunReport(outcome([nb({ result: failing })]), [], opts);
    assert.deepEqual(r.failures, ['Test row count in /Shared/tests/smoke failed: expected 10 got 0']);
    assert.equal(r.testsFailed, 1);
    assert.match(
      r.summaryMarkdown,
      /#### Failed tests\n\n- ❌ `row count` \(\/Shared\/tests\/smoke\): expected 10 got 0/,
    );
  });

  it('fails on an assertion that does not hold, with the actual value', () => {
    const r = buildRunReport(outcome([nb()]), parseAssertions('metrics.accuracy >= 0.95'), opts);
    assert.deepEqual(r.failures, ['Assertion does not hold: metrics.accuracy >= 0.95: actual value is 0.93']);
    assert.equal(r.testsFailed, 1);
    assert.match(r.junitXml, /<failure message="metrics.accuracy &gt;= 0.95: actual value is 0.93"/);
  });

  it('fails a notebook run with its state, error and the end of its trace', () => {
    const trace = Array.from({ length: 40 }, (_, i) => `  frame ${i}`).join('\n') + '\nValueError: bad input';
    const r = buildRunReport(
      outcome(
        [
          nb({
            resultState: 'FAILED',
            stateMessage: 'Workload failed',
            result: undefined,
            error: 'ValueError: bad input',
            errorTrace: trace,
          }),
        ],
        {
          stateMessage: 'Task smoke failed with message: Workload failed',
        },
      ),
      parseAssertions('metrics.accuracy > 0.5'),
      opts,
    );
    assert.equal(r.failures.length, 2);
    const [f] = r.failures;
    assert.match(
      f,
      /^Notebook \/Shared\/tests\/smoke TERMINATED FAILED: Workload failed\nError: ValueError: bad input\nTrace:\n {2}…\n/,
    );
    assert.match(f, /ValueError: bad input\nSee https:\/\/ws\/run\/1000$/);
    assert.doesNotMatch(f, /frame 5\n/);
    assert.match(r.failures[1], /the exit value of smoke is not a JSON object/);
    assert.equal(r.resultState, 'FAILED');
    // The run itself shows as a failed test case carrying the trace.
    const back = interpretExitValue(r.junitXml);
    assert.equal(back.tests[0].name, 'smoke run');
    assert.equal(back.tests[0].status, 'failed');
    assert.match(back.tests[0].details ?? '', /frame 5\n/);
    assert.match(r.summaryMarkdown, /#### Why the task failed/);
  });

  const OUTPUT_503 =
    'get the output of a task run (GET /api/2.1/jobs/runs/get-output) failed: 503 TEMPORARILY_UNAVAILABLE: try later (7 attempts).';

  it('an output that could not be read is the cause, not a failed assertion', () => {
    const r = buildRunReport(
      outcome([nb({ result: undefined, outputError: OUTPUT_503 })]),
      parseAssertions('metrics.accuracy >= 0.9'),
      opts,
    );
    assert.equal(r.failures.length, 1, r.failures.join('\n'));
    assert.match(
      r.failures[0],
      /^Notebook \/Shared\/tests\/smoke succeeded, but its output could not be read: get the output of a task run .* 503 TEMPORARILY_UNAVAILABLE: try later \(7 attempts\)\. Its exit value \(tests, metrics, notebookOutput\) is unknown and assertions on it were not evaluated\.\nSee https:\/\/ws\/run\/1000$/,
    );
    assert.doesNotMatch(r.failures.join('\n'), /Assertion does not hold|not a JSON object/);
    assert.deepEqual(r.warnings, [], 'said once, as the failure');
    // The assertion is shown as not evaluated, and the notebook's run case as an error.
    assert.equal(r.assertions.length, 1);
    assert.equal(r.assertions[0].passed, false);
    assert.match(r.assertions[0].skipped ?? '', /output of smoke could not be read/);
    const back = interpretExitValue(r.junitXml);
    assert.deepEqual(
      back.tests.map((t) => [t.name, t.status]),
      [
        ['smoke run', 'error'],
        ['metrics.accuracy >= 0.9', 'skipped'],
      ],
    );
    assert.match(back.tests[0].message ?? '', /output could not be read: .*503/);
    assert.equal(r.testsFailed, 1);
    assert.equal(r.testsPassed, 0);
    assert.match(
      r.summaryMarkdown,
      /#### Why the task failed\n\n- Notebook \/Shared\/tests\/smoke succeeded, but its output could not be read/,
    );
    assert.match(
      r.summaryMarkdown,
      /- ⚠️ `metrics\.accuracy >= 0\.9`: not evaluated: the output of smoke could not be read/,
    );
  });

  it('with several notebooks, assertions use the outputs that were read and skip the rest', () => {
    const r = buildRunReport(
      outcome([
        nb(),
        nb({
          taskKey: 'model',
          notebookPath: '/Shared/tests/model',
          taskRunId: 1001,
          result: undefined,
          outputError: OUTPUT_503,
        }),
      ]),
      parseAssertions("metrics.accuracy >= 0.9\nmodel.stage == 'Production'\n[model] metrics.f1 > 0.5"),
      opts,
    );
    assert.equal(r.failures.length, 1, r.failures.join('\n'));
    assert.match(
      r.failures[0],
      /^Notebook \/Shared\/tests\/model succeeded, but its output could not be read/,
    );
    assert.deepEqual(
      r.assertions.map((a) => [
        a.assertion.source,
        a.notebook,
        a.passed,
        a.skipped === undefined ? '' : 'skipped',
      ]),
      [
        // Read from smoke, which has the path.
        ['metrics.accuracy >= 0.9', 'smoke', true, ''],
        // smoke lacks the path; model might have it: unknown, not failed.
        ["model.stage == 'Production'", undefined, false, 'skipped'],
        ['[model] metrics.f1 > 0.5', 'model', false, 'skipped'],
      ],
    );
  });

  it('a failed notebook whose output could not be read says so next to its state', () => {
    const r = buildRunReport(
      outcome([
        nb({
          resultState: 'FAILED',
          stateMessage: 'Workload failed',
          result: undefined,
          outputError: OUTPUT_503,
        }),
      ]),
      parseAssertions('metrics.accuracy >= 0.9'),
      opts,
    );
    assert.equal(r.failures.length, 1, r.failures.join('\n'));
    assert.match(
      r.failures[0],
      /^Notebook \/Shared\/tests\/smoke TERMINATED FAILED: Workload failed\nIts error and trace could not be read: get the output .*503/,
    );
  });

  it('reports a run-level failure when no task explains it', () => {
    const r = buildRunReport(
      outcome([nb()], {
        resultState: 'FAILED',
        lifeCycleState: 'INTERNAL_ERROR',
        stateMessage: 'Cluster died',
      }),
      [],
      opts,
    );
    assert.deepEqual(r.failures, ['Databricks run 77 ended INTERNAL_ERROR FAILED: Cluster died']);
  });

  it('reports a timeout and a cancel without evaluating assertions', () => {
    const running = nb({ lifeCycleState: 'TERMINATED', resultState: 'CANCELED', result: undefined });
    const t = buildRunReport(
      outcome([running], { timedOut: true, cancelConfirmed: true, resultState: 'CANCELED' }),
      parseAssertions('x == 1'),
      {
        ...opts,
        timeoutMs: 120_000,
      },
    );
    assert.deepEqual(t.failures, [
      'The run did not finish within the timeout of 2m 0s (timeoutMinutes) and was cancelled.',
    ]);
    assert.equal(t.resultState, 'TIMEDOUT');
    assert.deepEqual(t.assertions, []);
    assert.match(t.warnings.join('\n'), /Assertions were not evaluated/);
    const c = buildRunReport(outcome([running], { cancelled: true }), [], opts);
    assert.deepEqual(c.failures, ['The pipeline was cancelled; Databricks run 77 was cancelled with it.']);
    assert.equal(c.resultState, 'CANCELED');
  });

  it('covers several notebooks: one output variable per task key, per-notebook rows and metrics', () => {
    const r = buildRunReport(
      outcome([
        nb(),
        nb({
          taskKey: 'evaluate',
          notebookPath: '/Shared/tests/evaluate',
          taskRunId: 1001,
          result: '{"accuracy": 0.8}',
        }),
        nb({ taskKey: 'plain', notebookPath: '/Shared/tests/plain', taskRunId: 1002, result: undefined }),
      ]),
      parseAssertions('metrics.accuracy >= 0.9'),
      opts,
    );
    assert.deepEqual(JSON.parse(r.notebookOutput), {
      smoke: json,
      evaluate: '{"accuracy": 0.8}',
      plain: null,
    });
    assert.deepEqual(r.failures, [
      'Assertion does not hold: [evaluate] metrics.accuracy >= 0.9: actual value is 0.8',
    ]);
    assert.equal(r.testsPassed, 2 + 1 + 1 + 1); // smoke tests, evaluate run, plain run, smoke assertion
    assert.match(r.summaryMarkdown, /\| Notebook \| Metric \| Value \|/);
    assert.match(r.summaryMarkdown, /\| evaluate \| accuracy \| 0\.8 \|/);
  });

  it('caps notebookOutput and escapes markdown in names', () => {
    const big = 'x'.repeat(20_000);
    const r = buildRunReport(
      outcome([nb({ result: big, notebookPath: '/Shared/a|b_<c>', runPageUrl: undefined })]),
      [],
      opts,
    );
    assert.equal(r.notebookOutput.length, 16_000);
    assert.match(r.warnings.join('\n'), /notebookOutput holds only the first 16000 of 20000 characters/);
    assert.match(r.summaryMarkdown, /\| \/Shared\/a\\\|b\\_&lt;c&gt; \|/);
  });
});
