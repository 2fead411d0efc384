import assert from 'node:assert/strict';
import { clearSecretsForTest, redact } from '../../../../src/common/secrets';
import {
  findTokenNames,
  isEditableText,
  replaceTokens,
  type VariableValue,
} from '../../../../src/databricks/deploy/tokens';

const vars: Record<string, VariableValue> = {
  env: { value: 'prod', secret: false },
  'db.password': { value: 'S3cr3t-pa$$', secret: true },
  quote: { value: 'say "hi"\n', secret: false },
};
const lookup = (n: string) => vars[n];

describe('deploy/tokens', () => {
  afterEach(() => clearSecretsForTest());

  it('replaces #{Name}# tokens, with optional spaces, and counts them', () => {
    const r = replaceTokens('env = "#{env}#"\nagain #{ env }#', lookup);
    assert.equal(r.text, 'env = "prod"\nagain prod');
    assert.equal(r.replaced, 2);
    assert.deepEqual(r.missing, []);
  });

  it('reports every missing name once and leaves those tokens', () => {
    const r = replaceTokens('#{a}# #{env}# #{b.c}# #{a}#', lookup);
    assert.deepEqual(r.missing, ['a', 'b.c']);
    assert.equal(r.text, '#{a}# prod #{b.c}# #{a}#');
  });

  it('registers secret values before using them', () => {
    const r = replaceTokens('pw=#{db.password}#', lookup);
    assert.equal(r.text, 'pw=S3cr3t-pa$$');
    assert.deepEqual(r.secretNames, ['db.password']);
    assert.equal(redact('leaked S3cr3t-pa$$'), 'leaked ***');
  });

  it('does not treat $ patterns in values specially', () => {
    assert.equal(replaceTokens('#{db.password}#', lookup).text, 'S3cr3t-pa$$');
  });

  it('escapes values for JSON strings (Jupyter)', () => {
    const r = replaceTokens('{"source": ["x = \\"#{quote}#\\""]}', lookup, { escape: 'json' });
    assert.equal(r.text, '{"source": ["x = \\"say \\"hi\\"\\n\\""]}');
    assert.doesNotThrow(() => JSON.parse(r.text));
  });

  it('ignores things that are not tokens', () => {
    assert.deepEqual(findTokenNames('#{}# #{1abc}# #{ok_1}# {x}# #{a b}#'), ['ok_1']);
  });

  it('recognises editable text', () => {
    assert.equal(isEditableText(Buffer.from('héllo', 'utf8')), true);
    assert.equal(isEditableText(Buffer.from([0xff, 0xfe, 0x00])), false);
  });
});
