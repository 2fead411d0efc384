import * as assert from 'node:assert/strict';
import { canonicalJson, deriveIdempotencyToken } from '../../../../src/databricks/run/idempotency';

const identity = {
  collectionId: 'c1',
  teamProject: 'p',
  buildId: '100',
  jobId: 'j1',
  jobAttempt: '1',
  taskInstanceId: 't1',
};
const inputs = { notebooks: ['/a'], parameters: { x: '1', y: '2' } };

describe('idempotency token', () => {
  it('is stable for the same pipeline step and inputs, whatever the key order', () => {
    const a = deriveIdempotencyToken(identity, inputs);
    const b = deriveIdempotencyToken({ ...identity }, { parameters: { y: '2', x: '1' }, notebooks: ['/a'] });
    assert.equal(a.token, b.token);
    assert.equal(a.stable, true);
    assert.ok(a.token.length <= 64, a.token);
    assert.match(a.token, /^azdo-[0-9a-f]{59}$/);
  });

  it('changes with the job attempt, the build, the release environment, the step and the inputs', () => {
    const base = deriveIdempotencyToken(identity, inputs).token;
    const variants = [
      deriveIdempotencyToken({ ...identity, jobAttempt: '2' }, inputs),
      deriveIdempotencyToken({ ...identity, buildId: '101' }, inputs),
      deriveIdempotencyToken(
        { ...identity, buildId: undefined, releaseId: '7', releaseEnvironmentId: '1' },
        inputs,
      ),
      deriveIdempotencyToken(
        { ...identity, buildId: undefined, releaseId: '7', releaseEnvironmentId: '2' },
        inputs,
      ),
      deriveIdempotencyToken({ ...identity, taskInstanceId: 't2' }, inputs),
      deriveIdempotencyToken(identity, { ...inputs, parameters: { x: '1', y: '3' } }),
    ].map((t) => t.token);
    assert.equal(new Set([base, ...variants]).size, variants.length + 1);
  });

  it('without a pipeline run, is unique to this process but repeatable within it', () => {
    const a = deriveIdempotencyToken({}, inputs);
    const b = deriveIdempotencyToken({}, inputs);
    assert.equal(a.stable, false);
    assert.equal(a.token, b.token);
    assert.notEqual(a.token, deriveIdempotencyToken({ ...identity }, inputs).token);
  });

  it('canonicalJson sorts keys deeply and drops undefined', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } }),
      '{"a":{"d":[{"y":2,"z":1}]},"b":1}',
    );
  });
});
