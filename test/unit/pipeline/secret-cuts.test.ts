import assert from 'node:assert/strict';
import { clearSecretsForTest, registerSecret } from '../../../src/common/secrets';
import { quoteValue } from '../../../src/pipeline/errors';
import { describeFailure } from '../../../src/pipeline/run';

const SECRET = 'pipeline-straddling-secret-0123456789';

/** Cutting before masking would keep the start of a secret that straddles the cut. */
describe('src/pipeline masks secrets before it cuts text', () => {
  beforeEach(() => registerSecret(SECRET));
  afterEach(() => clearSecretsForTest());

  it('quoteValue', () => {
    const out = quoteValue(`${'q'.repeat(70)}${SECRET}`, 80);
    assert.equal(out, `'${'q'.repeat(70)}***'`);
  });

  it('quoteValue masks a multi-line secret before flattening the lines', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    registerSecret(pem);
    assert.equal(quoteValue(`key ${pem}`), "'key ***'");
  });

  it('describeFailure keeps at most 8000 characters of a core error, masked first', () => {
    const out = describeFailure(new Error(`${'m'.repeat(8000 - 20)}${SECRET} tail`));
    assert.ok(out.length <= 8000);
    assert.ok(out.endsWith('***…') || out.endsWith('*** tail'), out.slice(-30));
    assert.ok(!out.includes(SECRET.slice(0, 8)));
  });
});
