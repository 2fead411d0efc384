import assert from 'node:assert/strict';
import { clearSecretsForTest, redact, redactAndTruncate, registerSecret } from '../../src/common/secrets';

const SECRET = 'dose-0123456789abcdef0123456789abcdef';

describe('secrets: redact and redactAndTruncate', () => {
  afterEach(() => clearSecretsForTest());

  it('masks a secret that straddles the cut instead of keeping its start', () => {
    registerSecret(SECRET);
    for (let at = 0; at < 60; at++) {
      const text = `${'x'.repeat(at)}${SECRET} and more text after it`;
      const out = redactAndTruncate(text, 50);
      assert.ok(out.length <= 50, `length ${out.length} at offset ${at}`);
      // No 4-character piece of the secret survives, wherever the cut falls.
      for (let i = 0; i + 4 <= SECRET.length; i++)
        assert.ok(!out.includes(SECRET.slice(i, i + 4)), `piece ${i} survives at offset ${at}: ${out}`);
    }
  });

  it('cuts with an ellipsis only when the text is longer than the limit', () => {
    assert.equal(redactAndTruncate('short', 10), 'short');
    assert.equal(redactAndTruncate('0123456789', 10), '0123456789');
    assert.equal(redactAndTruncate('0123456789a', 10), '012345678…');
    assert.equal(redactAndTruncate('anything', 0), '');
  });

  it('does not split a surrogate pair at the cut', () => {
    const out = redactAndTruncate(`abc${'😀'.repeat(5)}`, 6);
    assert.equal(out, 'abc😀…');
  });

  it('masks a longer secret whole when a shorter one is part of it', () => {
    registerSecret('abcd1234');
    registerSecret('abcd1234-tail-of-the-longer-one');
    assert.equal(redact('x abcd1234-tail-of-the-longer-one y abcd1234 z'), 'x *** y *** z');
  });
});
