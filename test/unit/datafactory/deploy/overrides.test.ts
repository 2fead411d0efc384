import assert from 'node:assert/strict';
import { convertOverride, parseOverrideParameters } from '../../../../src/datafactory/deploy/overrides';
import { DeployInputError } from '../../../../src/datafactory/deploy/errors';

describe('datafactory deploy: overrideParameters parsing', () => {
  it('reads -name value pairs across spaces and lines', () => {
    const r = parseOverrideParameters('-factoryName adf-prod  -retries 3\n-enabled true');
    assert.deepEqual(
      r.map((o) => [o.name, o.value, o.quoted]),
      [
        ['factoryName', 'adf-prod', false],
        ['retries', '3', false],
        ['enabled', 'true', false],
      ],
    );
  });

  it('keeps quoted values with spaces and handles escapes in double and single quotes', () => {
    const r = parseOverrideParameters(`-a "two words" -b 'it''s here' -c "say \\"hi\\" \\\\ there" -d ""`);
    assert.deepEqual(
      r.map((o) => [o.name, o.value]),
      [
        ['a', 'two words'],
        ['b', "it's here"],
        ['c', 'say "hi" \\ there'],
        ['d', ''],
      ],
    );
    assert.equal(r[0].quoted, true);
  });

  it('takes JSON objects and arrays with spaces and nested strings as one value', () => {
    const r = parseOverrideParameters(`-tags {"env": "prod", "note": "a } b"} -list [1, [2, 3], "x ]"] -n 1`);
    assert.deepEqual(JSON.parse(r[0].value), { env: 'prod', note: 'a } b' });
    assert.deepEqual(JSON.parse(r[1].value), [1, [2, 3], 'x ]']);
    assert.equal(r[2].value, '1');
  });

  it('accepts negative numbers and dashed values as values, later duplicates win', () => {
    const r = parseOverrideParameters('-offset -5 -x a -x b');
    assert.deepEqual(
      r.map((o) => [o.name, o.value]),
      [
        ['offset', '-5'],
        ['x', 'b'],
      ],
    );
  });

  it('fails clearly on a name without a value, a value without a name and unclosed quotes', () => {
    const expect = (text: string, re: RegExp) =>
      assert.throws(
        () => parseOverrideParameters(text),
        (e: unknown) =>
          e instanceof DeployInputError && e.input === 'overrideParameters' && re.test(e.message),
      );
    expect('-a -b 1', /'-a' has no value/);
    expect('-a', /'-a' has no value/);
    expect('value -a 1', /expected '-name'.*"value"/);
    expect('-a "open', /no closing "/);
    expect('-a {"x": 1', /no closing '}'/);
    expect('-a "x"y', /expected a space/);
  });

  it('converts to the template parameter type', () => {
    const o = (value: string) => ({ name: 'p', value, quoted: false });
    assert.deepEqual(convertOverride(o('42'), 'int', false), { ok: true, value: 42 });
    assert.deepEqual(convertOverride(o('TRUE'), 'bool', false), { ok: true, value: true });
    assert.deepEqual(convertOverride(o('{"a":[1]}'), 'object', false), { ok: true, value: { a: [1] } });
    assert.deepEqual(convertOverride(o('[1,2]'), 'array', false), { ok: true, value: [1, 2] });
    assert.deepEqual(convertOverride(o('42'), 'string', false), { ok: true, value: '42' });
    const bad = convertOverride(o('4.5'), 'int', false);
    assert.equal(bad.ok, false);
    assert.match((bad as { message: string }).message, /whole number \(got "4.5"\)/);
    assert.match((convertOverride(o('[1]'), 'object', false) as { message: string }).message, /JSON object/);
    // A secure value is never echoed.
    const secret = convertOverride(o('not-json-secret'), 'secureObject', true) as { message: string };
    assert.doesNotMatch(secret.message, /not-json-secret/);
  });
});
