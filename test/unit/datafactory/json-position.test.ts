import * as assert from 'node:assert/strict';
import { locateKey, locatePath, parseJsonText, positionAt } from '../../../src/datafactory/json-position';

describe('json-position', () => {
  it('parses valid JSON (with or without a byte order mark)', () => {
    assert.deepEqual(parseJsonText('{"a":[1,2]}'), { ok: true, value: { a: [1, 2] } });
    assert.deepEqual(parseJsonText('\ufeff{"a":1}'), { ok: true, value: { a: 1 } });
  });

  const cases: Array<[string, string, number, number]> = [
    [
      '{\n\t"a": 1\n\t"b": 2\n}',
      "expected ',' or '}' after a property value, found character \"\\\"\"",
      3,
      2,
    ],
    ['{"a": [1, 2,]}', 'trailing comma before ]', 1, 13],
    ['{"a": 1,}', 'trailing comma before }', 1, 9],
    ['{"a": tru}', 'unexpected character "t", expected a value', 1, 7],
    ["{'a': 1}", 'expected a property name in double quotes, found character "\'"', 1, 2],
    ['{"a": // c\n1}', 'comments are not allowed in JSON', 1, 7],
    ['{"a": "x\ny"}', 'control character in string (escape it, e.g. \\n)', 1, 9],
    ['{"a": "\\q"}', 'invalid escape in string', 1, 8],
    ['{"a": 01}', "expected ',' or '}' after a property value, found character \"1\"", 1, 8],
    ['{"a": "open', 'unterminated string', 1, 7],
    ['', 'expected a JSON value but the file is empty', 1, 1],
    ['{"a": 1} x', 'unexpected character "x" after the end of the JSON value', 1, 10],
    ['{"a": {', 'expected a property name in double quotes, found end of file', 1, 8],
  ];
  for (const [text, message, line, column] of cases) {
    it(`explains ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseJsonText(text), { ok: false, error: { message, line, column } });
    });
  }

  it('locates values and keys by path, lazily', () => {
    const text =
      '{\n\t"name": "x",\n\t"properties": {\n\t\t"list": [\n\t\t\t{ "ref": "a" },\n\t\t\t{ "ref": "b" }\n\t\t]\n\t}\n}';
    assert.deepEqual(locatePath(text, ['name']), { line: 2, column: 10 });
    assert.deepEqual(locateKey(text, ['name']), { line: 2, column: 2 });
    assert.deepEqual(locatePath(text, ['properties', 'list', 1, 'ref']), { line: 6, column: 13 });
    assert.deepEqual(locatePath(text, ['properties', 'list', 0]), { line: 5, column: 4 });
    // A missing key points at its parent.
    assert.deepEqual(locatePath(text, ['properties', 'nope']), { line: 3, column: 16 });
    assert.deepEqual(locatePath(text, ['properties', 'list', 5]), { line: 4, column: 11 });
    assert.deepEqual(locatePath(text, []), { line: 1, column: 1 });
    assert.equal(locatePath('{"a": }', ['b']), undefined);
  });

  it('positionAt counts lines and columns from 1', () => {
    assert.deepEqual(positionAt('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(positionAt('ab\ncd', 4), { line: 2, column: 2 });
    assert.deepEqual(positionAt('ab\r\ncd', 5), { line: 2, column: 2 });
  });
});
