import assert from 'node:assert/strict';
import { InputError } from '../../../src/pipeline/errors';
import { JsonSyntaxError, parseJsonWithLocation } from '../../../src/pipeline/json';
import {
  parseBool,
  parseIntInput,
  parseJsonObject,
  parseKeyValueLines,
  parseMultiline,
  parseParameters,
  parsePickList,
} from '../../../src/pipeline/parse';

function inputError(fn: () => unknown, message: string, input?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.equal(e.message, message);
    if (input) assert.equal(e.input, input);
    return true;
  });
}

describe('input parsing', () => {
  it('booleans: true/false in any case, default when blank, error otherwise', () => {
    assert.equal(parseBool('dryRun', 'TRUE', false), true);
    assert.equal(parseBool('dryRun', ' false ', true), false);
    assert.equal(parseBool('dryRun', '', true), true);
    assert.equal(parseBool('dryRun', undefined, false), false);
    inputError(
      () => parseBool('dryRun', 'yes', false),
      "Input 'dryRun' must be true or false (got 'yes').",
      'dryRun',
    );
  });

  it('integers with a range', () => {
    const opts = { min: 1, max: 1440, default: 60 };
    assert.equal(parseIntInput('timeoutMinutes', '30', opts), 30);
    assert.equal(parseIntInput('timeoutMinutes', ' +5 ', opts), 5);
    assert.equal(parseIntInput('timeoutMinutes', '', opts), 60);
    assert.equal(parseIntInput('n', '', {}), undefined);
    inputError(
      () => parseIntInput('timeoutMinutes', 'abc', opts),
      "Input 'timeoutMinutes' must be a whole number between 1 and 1440 (got 'abc').",
    );
    inputError(
      () => parseIntInput('timeoutMinutes', '1.5', opts),
      "Input 'timeoutMinutes' must be a whole number between 1 and 1440 (got '1.5').",
    );
    inputError(
      () => parseIntInput('timeoutMinutes', '0', opts),
      "Input 'timeoutMinutes' must be a whole number between 1 and 1440 (got '0').",
    );
    inputError(
      () => parseIntInput('timeoutMinutes', '1441', opts),
      "Input 'timeoutMinutes' must be a whole number between 1 and 1440 (got '1441').",
    );
    inputError(
      () => parseIntInput('retries', '-1', { min: 0 }),
      "Input 'retries' must be a whole number of at least 0 (got '-1').",
    );
    inputError(
      () => parseIntInput('n', '', { required: true, max: 9 }),
      "Input 'n' is required: a whole number of at most 9.",
    );
    inputError(
      () => parseIntInput('n', '99999999999999999999', {}),
      "Input 'n' must be a whole number (got '99999999999999999999').",
    );
  });

  it('pick lists match case-insensitively and return the canonical value', () => {
    const allowed = ['databricks', 'azureRM'] as const;
    assert.equal(parsePickList('authType', 'AZURERM', allowed), 'azureRM');
    assert.equal(parsePickList('authType', '', allowed, 'databricks'), 'databricks');
    inputError(
      () => parsePickList('authType', 'aad', allowed),
      "Input 'authType' must be one of databricks, azureRM (got 'aad').",
    );
    inputError(
      () => parsePickList('authType', '', allowed),
      "Input 'authType' is required: use one of databricks, azureRM.",
    );
  });

  it('multi-line lists drop blanks and # comments', () => {
    assert.deepEqual(parseMultiline('a\r\n\n  # note\n b \n#c'), ['a', 'b']);
    assert.deepEqual(parseMultiline(undefined), []);
  });

  it('key=value lines: blanks and comments ignored, split at the first =, errors name the line', () => {
    assert.deepEqual(parseKeyValueLines('sparkConf', '# settings\n\nspark.x = 1\nurl=a=b\n empty=\n'), {
      'spark.x': '1',
      url: 'a=b',
      empty: '',
    });
    inputError(
      () => parseKeyValueLines('sparkConf', 'a=1\n\nnot a pair'),
      "Input 'sparkConf' line 3 must look like key=value (got 'not a pair').",
    );
    inputError(
      () => parseKeyValueLines('sparkConf', '=1'),
      "Input 'sparkConf' line 1 has no key before '=' (got '=1').",
    );
    inputError(
      () => parseKeyValueLines('sparkConf', 'a=1\na=2'),
      "Input 'sparkConf' line 2 repeats the key 'a'.",
    );
    assert.deepEqual(Object.keys(parseKeyValueLines('p', '__proto__=x')), ['__proto__']);
  });

  it('JSON objects report line and column', () => {
    assert.deepEqual(parseJsonObject('clusterSpec', '{"a": [1, 2.5e1, true, null, "x\\n"]}'), {
      a: [1, 25, true, null, 'x\n'],
    });
    inputError(
      () => parseJsonObject('clusterSpec', '{\n  "a": 1,\n  "b": 2,\n}'),
      "Input 'clusterSpec' is not valid JSON: trailing comma before '}' at line 4, column 1.",
    );
    inputError(
      () => parseJsonObject('clusterSpec', '{\n  "a": 1\n  "b": 2\n}'),
      "Input 'clusterSpec' is not valid JSON: expected ',' or '}' after a property value but found character \"\\\"\" at line 3, column 3.",
    );
    inputError(
      () => parseJsonObject('clusterSpec', '[1]'),
      "Input 'clusterSpec' must be a JSON object ({ ... }), not an array.",
    );
    inputError(
      () => parseJsonObject('clusterSpec', "{'a': 1}"),
      "Input 'clusterSpec' is not valid JSON: expected a double-quoted property name but found character \"'\" at line 1, column 2.",
    );
    assert.equal(parseJsonObject('clusterSpec', '  '), undefined);
  });

  it('parameters: one JSON object or key=value lines', () => {
    assert.deepEqual(parseParameters('parameters', '{"n": 3, "s": "x"}'), { n: 3, s: 'x' });
    assert.deepEqual(parseParameters('parameters', 'env=dev\ndate=2024-01-01'), {
      env: 'dev',
      date: '2024-01-01',
    });
    assert.deepEqual(parseParameters('parameters', ''), {});
    inputError(
      () => parseParameters('parameters', '{"n": }'),
      'Input \'parameters\' is not valid JSON: expected a value but found character "}" at line 1, column 7.',
    );
  });
});

describe('parseJsonWithLocation', () => {
  const valid = [
    '0',
    '-0.5e-3',
    '"\\u00e9\\/"',
    '[]',
    '{}',
    '{"a":{"b":[{"c":null}]}}',
    '\ufeff{"bom": true}',
    ' true ',
  ];
  for (const text of valid) {
    it(`agrees with JSON.parse on ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseJsonWithLocation(text), JSON.parse(text.replace(/^\ufeff/, '')));
    });
  }

  const invalid: [string, number, number, RegExp][] = [
    ['', 1, 1, /empty/],
    ['{"a":1} x', 1, 9, /after the end/],
    ['[1,]', 1, 4, /trailing comma/],
    ['{"a":01}', 1, 7, /invalid number/],
    ['"abc', 1, 1, /unterminated string/],
    ['{"a":\n"x\ny"}', 2, 3, /line break inside a string/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['"\\x"', 1, 2, /invalid escape/],
  ];
  for (const [text, line, column, re] of invalid) {
    it(`locates the error in ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseJsonWithLocation(text),
        (e: unknown) =>
          e instanceof JsonSyntaxError && e.line === line && e.column === column && re.test(e.reason),
      );
    });
  }

  it('keeps "__proto__" as a plain key', () => {
    const v = parseJsonWithLocation('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
