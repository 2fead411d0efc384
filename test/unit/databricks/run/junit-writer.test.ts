import * as assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { interpretExitValue } from '../../../../src/databricks/run/exit-value';
import { writeJUnitXml } from '../../../../src/databricks/run/junit-writer';

describe('writeJUnitXml', () => {
  it('writes counts, times and outcomes that read back the same', () => {
    const xml = writeJUnitXml(
      [
        {
          name: '/Shared/tests/smoke',
          timestamp: '2026-01-01T00:00:00.000Z',
          durationSec: 12.3456,
          properties: { runId: '42' },
          systemOut: 'https://x/run/42',
          tests: [
            { name: 'a', status: 'passed', durationSec: 1 },
            { name: 'b', status: 'failed', message: 'expected <1> & "2"', details: 'trace\nline 2' },
            { name: 'c', status: 'error', message: 'boom' },
            { name: 'd', status: 'skipped', message: 'later' },
          ],
        },
        { name: 'Assertions', tests: [{ name: 'metrics.x >= 1', status: 'passed' }] },
      ],
      'My "title"',
    );
    assert.equal(XMLValidator.validate(xml), true);
    assert.match(
      xml,
      /<testsuites name="My &quot;title&quot;" tests="5" failures="1" errors="1" skipped="1"/,
    );
    assert.match(
      xml,
      /<testsuite id="0" name="\/Shared\/tests\/smoke" tests="4" failures="1" errors="1" skipped="1" time="12.346" timestamp="2026-01-01T00:00:00.000Z">/,
    );
    assert.match(xml, /<property name="runId" value="42"\/>/);
    const back = interpretExitValue(xml);
    assert.equal(back.kind, 'junit');
    assert.deepEqual(
      back.tests.map((t) => [t.name, t.status, t.classname]),
      [
        ['a', 'passed', '/Shared/tests/smoke'],
        ['b', 'failed', '/Shared/tests/smoke'],
        ['c', 'error', '/Shared/tests/smoke'],
        ['d', 'skipped', '/Shared/tests/smoke'],
        ['metrics.x >= 1', 'passed', 'Assertions'],
      ],
    );
    assert.equal(back.tests[1].message, 'expected <1> & "2"');
    assert.equal(back.tests[1].details, 'trace\nline 2');
  });

  it('replaces characters XML cannot carry', () => {
    const xml = writeJUnitXml([
      { name: 's', tests: [{ name: 'bell\u0007 \ud800', status: 'failed', message: 'nul\u0000' }] },
    ]);
    assert.equal(XMLValidator.validate(xml), true);
    assert.ok(!xml.includes('\u0007'));
  });

  it('writes an empty run as a valid document', () => {
    const xml = writeJUnitXml([]);
    assert.equal(XMLValidator.validate(xml), true);
    assert.match(xml, /tests="0"/);
  });
});
