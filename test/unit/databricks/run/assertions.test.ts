import * as assert from 'node:assert/strict';
import {
  AssertionSyntaxError,
  evaluateAssertion,
  evaluateAssertions,
  parseAssertionLine,
  parseAssertions,
} from '../../../../src/databricks/run/assertions';

const doc = {
  metrics: {
    accuracy: 0.93,
    loss: '0.12',
    'f1 score': 0.8,
    stage: 'Production',
    ok: true,
    none: null,
    list: [5, 6],
  },
  model: { name: 'churn', version: 3 },
};

function check(line: string, d: unknown = doc) {
  return evaluateAssertion(parseAssertionLine(line), d);
}

describe('assertions: parsing', () => {
  it('parses paths, operators and literals', () => {
    const a = parseAssertionLine('metrics.accuracy >= 0.9');
    assert.deepEqual(a.path, ['metrics', 'accuracy']);
    assert.equal(a.op, '>=');
    assert.equal(a.expected, 0.9);
    assert.equal(a.pathText, 'metrics.accuracy');
    assert.deepEqual(parseAssertionLine(`metrics["f1 score"]>0.5`).path, ['metrics', 'f1 score']);
    assert.deepEqual(parseAssertionLine(`metrics.list[1] == 6`).path, ['metrics', 'list', 1]);
    assert.equal(parseAssertionLine(`model.name == 'it''s'`.replace("''", "\\'")).expected, "it's");
    assert.equal(parseAssertionLine('x != "a b"').expected, 'a b');
    assert.equal(parseAssertionLine('x == true').expected, true);
    assert.equal(parseAssertionLine('x==null').expected, null);
    assert.equal(parseAssertionLine('x < -1.5e3').expected, -1500);
    assert.equal(parseAssertionLine('[evaluate] metrics.auc > .7').scope, 'evaluate');
  });

  it('skips blank and comment lines and numbers the rest', () => {
    const list = parseAssertions('\n# comment\n  metrics.a > 1\r\n\nmetrics.b == 2\n');
    assert.deepEqual(
      list.map((a) => [a.line, a.source]),
      [
        [3, 'metrics.a > 1'],
        [5, 'metrics.b == 2'],
      ],
    );
  });

  it('explains syntax errors with line and column', () => {
    const cases: [string, RegExp][] = [
      ['metrics.accuracy = 0.9', /use == to compare, not =/],
      ['metrics.accuracy => 0.9', /write >= rather than =>/],
      ['metrics.accuracy =< 0.9', /write <= rather than =</],
      ['metrics.accuracy 0.9', /expected an operator/],
      ['metrics.accuracy >=', /missing value/],
      [
        'metrics.accuracy >= high',
        /value high must be a number, true, false, null or a quoted string such as 'high'/,
      ],
      ['metrics.ok > true', /true can only be compared with == or !=/],
      ["model.name == 'open", /unclosed quote/],
      ['>= 1', /expected a name/],
      ['metrics[x] == 1', /expected an index or a quoted key/],
      ['metrics.a == 1 extra', /unexpected text after the value/],
      ['[nb metrics.a == 1', /unclosed \[notebook\] selector/],
    ];
    for (const [line, re] of cases) {
      assert.throws(
        () => parseAssertions(`metrics.ok == true\n  ${line}`),
        (e: unknown) => {
          assert.ok(e instanceof AssertionSyntaxError, line);
          assert.match(e.message, re, line);
          assert.match(e.message, /^assertions line 2, column \d+/);
          assert.equal(e.line, 2);
          return true;
        },
      );
    }
  });
});

describe('assertions: evaluation', () => {
  it('compares numbers with every operator', () => {
    assert.equal(check('metrics.accuracy >= 0.9').passed, true);
    assert.equal(check('metrics.accuracy >= 0.95').passed, false);
    assert.equal(check('metrics.accuracy > 0.93').passed, false);
    assert.equal(check('metrics.accuracy <= 0.93').passed, true);
    assert.equal(check('metrics.accuracy < 1').passed, true);
    assert.equal(check('metrics.accuracy == 0.93').passed, true);
    assert.equal(check('metrics.accuracy != 0.93').passed, false);
    assert.equal(check('model.version == 3').passed, true);
    assert.equal(check('metrics.list[0] == 5').passed, true);
  });

  it('reports the actual value when an assertion does not hold', () => {
    const r = check('metrics.accuracy >= 0.95');
    assert.equal(r.actual, 0.93);
    assert.equal(r.detail, 'actual value is 0.93');
  });

  it('accepts numeric strings for number comparisons', () => {
    assert.equal(check('metrics.loss < 0.2').passed, true);
  });

  it('compares strings and booleans', () => {
    assert.equal(check("metrics.stage == 'Production'").passed, true);
    assert.equal(check('metrics.stage != "Staging"').passed, true);
    assert.equal(check("model.name < 'd'").passed, true);
    assert.equal(check('metrics.ok == true').passed, true);
    assert.equal(check('metrics.ok != true').passed, false);
  });

  it('handles null and missing values', () => {
    assert.equal(check('metrics.none == null').passed, true);
    assert.equal(check('metrics.absent == null').passed, true);
    assert.equal(check('metrics.accuracy != null').passed, true);
    assert.equal(check('metrics.absent != null').passed, false);
  });

  it('says which key is missing and what exists', () => {
    const r = check('metrics.precision > 0.5');
    assert.equal(r.passed, false);
    assert.match(
      r.detail,
      /metrics\.precision is not in the exit value \(keys of metrics: accuracy, loss, f1 score/,
    );
    assert.match(check('scores.x > 1').detail, /top-level keys: metrics, model/);
  });

  it('explains type mismatches', () => {
    assert.match(
      check('metrics.stage > 1').detail,
      /actual value is a string \("Production"\), not a number/,
    );
    assert.match(check('metrics.accuracy == "x"').detail, /actual value is a number \(0.93\), not a string/);
    assert.match(check('metrics.accuracy == true').detail, /not a boolean/);
    assert.match(check('model > 1').detail, /an object/);
    assert.match(check('metrics.list > 1').detail, /an array/);
  });

  it('evaluates across notebooks with and without a selector', () => {
    const targets = [
      { names: ['train', '/Shared/train'], label: 'train', document: { metrics: { accuracy: 0.95 } } },
      {
        names: ['evaluate', '/Shared/evaluate'],
        label: 'evaluate',
        document: { metrics: { accuracy: 0.85, auc: 0.7 } },
      },
      { names: ['smoke'], label: 'smoke', document: undefined },
    ];
    const results = evaluateAssertions(
      parseAssertions(
        'metrics.accuracy >= 0.9\nmetrics.auc > 0.6\n[train] metrics.accuracy > 0.9\n[nope] metrics.a == 1\n[smoke] x == 1\nmetrics.gone > 1',
      ),
      targets,
    );
    assert.deepEqual(
      results.map((r) => [r.passed, r.message]),
      [
        [true, '[train] metrics.accuracy >= 0.9: actual 0.95'],
        [false, '[evaluate] metrics.accuracy >= 0.9: actual value is 0.85'],
        [true, '[evaluate] metrics.auc > 0.6: actual 0.7'],
        [true, '[train] metrics.accuracy > 0.9: actual 0.95'],
        [false, '[nope] metrics.a == 1: no notebook matches [nope] (notebooks: train, evaluate, smoke)'],
        [false, '[smoke] x == 1: the exit value of smoke is not a JSON object'],
        [
          false,
          '[train] metrics.gone > 1: metrics.gone is not in the exit value (keys of metrics: accuracy)',
        ],
        [
          false,
          '[evaluate] metrics.gone > 1: metrics.gone is not in the exit value (keys of metrics: accuracy, auc)',
        ],
      ],
    );
  });

  it('with one notebook, messages carry no prefix', () => {
    const [r] = evaluateAssertions(parseAssertions('metrics.a >= 2'), [
      { names: ['x'], label: 'x', document: { metrics: { a: 1 } } },
    ]);
    assert.equal(r.message, 'metrics.a >= 2: actual value is 1');
    assert.equal(r.notebook, undefined);
  });
});
