import * as assert from 'node:assert/strict';
import { interpretExitValue } from '../../../../src/databricks/run/exit-value';

describe('interpretExitValue', () => {
  it('reads no exit value as none', () => {
    for (const v of [undefined, null, '', '   \n']) {
      const r = interpretExitValue(v);
      assert.equal(r.kind, 'none');
      assert.deepEqual(r.tests, []);
      assert.equal(r.document, undefined);
    }
  });

  it('reads JSON tests and metrics', () => {
    const r = interpretExitValue(
      JSON.stringify({
        tests: [
          { name: 'loads', status: 'passed', duration: 1.5 },
          { name: 'schema', status: 'FAILED', duration: '0.25', message: 'column x missing' },
          { name: 'slow', status: 'skipped', message: 'not today' },
          { name: 'boom', status: 'error', message: { code: 1 }, details: 'Traceback...' },
        ],
        metrics: { accuracy: 0.93, rows: 1200 },
      }),
    );
    assert.equal(r.kind, 'tests');
    assert.deepEqual(
      r.tests.map((t) => [t.name, t.status, t.durationSec, t.message]),
      [
        ['loads', 'passed', 1.5, undefined],
        ['schema', 'failed', 0.25, 'column x missing'],
        ['slow', 'skipped', undefined, 'not today'],
        ['boom', 'error', undefined, '{"code":1}'],
      ],
    );
    assert.equal(r.tests[3].details, 'Traceback...');
    assert.deepEqual(r.metrics, { accuracy: 0.93, rows: 1200 });
    assert.deepEqual(r.warnings, []);
    assert.equal((r.document as { metrics: { accuracy: number } }).metrics.accuracy, 0.93);
  });

  it('counts a test without or with an unknown status as an error and says so', () => {
    const r = interpretExitValue('{"tests":[{"name":"a"},{"name":"b","status":"green"},7]}');
    assert.deepEqual(
      r.tests.map((t) => t.status),
      ['error', 'error', 'error'],
    );
    assert.equal(r.tests[2].name, 'tests[2]');
    assert.equal(r.warnings.length, 3);
    assert.match(r.warnings[1], /unknown status "green"/);
  });

  it('reads metrics alone, reachable as metrics.x and x', () => {
    const r = interpretExitValue('{"accuracy": 0.91, "f1": 0.8}');
    assert.equal(r.kind, 'metrics');
    assert.deepEqual(r.metrics, { accuracy: 0.91, f1: 0.8 });
    const doc = r.document as Record<string, unknown>;
    assert.equal(doc.accuracy, 0.91);
    assert.deepEqual(doc.metrics, { accuracy: 0.91, f1: 0.8 });
  });

  it('reads {"metrics": {...}} without tests as metrics', () => {
    const r = interpretExitValue('{"metrics": {"auc": 0.7}, "model": "m1"}');
    assert.equal(r.kind, 'metrics');
    assert.deepEqual(r.metrics, { auc: 0.7 });
    assert.equal((r.document as Record<string, unknown>).model, 'm1');
  });

  it('reads plain text, JSON arrays and broken JSON as text', () => {
    assert.equal(interpretExitValue('all good').kind, 'text');
    assert.equal(interpretExitValue('[1,2]').kind, 'text');
    const broken = interpretExitValue('{"tests": [');
    assert.equal(broken.kind, 'text');
    assert.match(broken.warnings[0], /does not parse/);
    assert.equal(broken.raw, '{"tests": [');
  });

  it('warns about a truncated exit value', () => {
    const r = interpretExitValue('{"accuracy": 1}', { truncated: true });
    assert.match(r.warnings[0], /truncated/);
  });

  it('reads JUnit XML with testsuites, nested suites, failures, errors and skips', () => {
    const xml = `<?xml version="1.0"?>
<testsuites>
  <testsuite name="suite1" tests="4">
    <testcase name="ok" classname="c.A" time="0.5"/>
    <testcase name="bad" classname="c.A" time="1"><failure message="expected 1 got 2">AssertionError: expected 1
  at line 3</failure></testcase>
    <testcase name="err"><error>KeyError: &apos;x&apos; &amp; more</error></testcase>
    <testcase name="skip"><skipped/></testcase>
    <testsuite name="inner"><testcase name="deep"/></testsuite>
  </testsuite>
</testsuites>`;
    const r = interpretExitValue(xml);
    assert.equal(r.kind, 'junit');
    assert.deepEqual(
      r.tests.map((t) => [t.name, t.classname, t.status, t.durationSec]),
      [
        ['ok', 'c.A', 'passed', 0.5],
        ['bad', 'c.A', 'failed', 1],
        ['err', 'suite1', 'error', undefined],
        ['skip', 'suite1', 'skipped', undefined],
        ['deep', 'inner', 'passed', undefined],
      ],
    );
    assert.equal(r.tests[1].message, 'expected 1 got 2');
    assert.match(r.tests[1].details ?? '', /at line 3/);
    assert.equal(r.tests[2].message, "KeyError: 'x' & more");
  });

  it('reads a single testsuite root', () => {
    const r = interpretExitValue(
      '<testsuite name="s"><testcase name="t"><failure message="m"/></testcase></testsuite>',
    );
    assert.equal(r.kind, 'junit');
    assert.equal(r.tests[0].status, 'failed');
    assert.equal(r.tests[0].message, 'm');
  });

  it('reads malformed or non-JUnit XML as text with a warning', () => {
    const bad = interpretExitValue('<testsuite><testcase></testsuite>');
    assert.equal(bad.kind, 'text');
    assert.match(bad.warnings[0], /not well-formed/);
    const other = interpretExitValue('<html><body>hi</body></html>');
    assert.equal(other.kind, 'text');
    assert.match(other.warnings[0], /no <testsuites>/);
  });
});
