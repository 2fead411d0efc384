import assert from 'node:assert/strict';
import { RefreshingTokenCache, type AccessTokenInfo } from '../../../src/auth/token-cache';
import { clearSecretsForTest, redact } from '../../../src/common/secrets';

const MIN = 60_000;

function clock(start = 1_000_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RefreshingTokenCache', () => {
  afterEach(() => clearSecretsForTest());

  it('caches a token until 5 minutes before expiry for an hour-long token', async () => {
    const c = clock();
    let n = 0;
    const cache = new RefreshingTokenCache(
      async () => ({ token: `token-${++n}`, expiresOnTimestamp: c.now() + 60 * MIN }),
      { now: c.now },
    );
    assert.equal(await cache.getToken(), 'token-1');
    c.advance(54 * MIN);
    assert.equal(await cache.getToken(), 'token-1');
    c.advance(1 * MIN + 1);
    assert.equal(await cache.getToken(), 'token-2', 'refreshed with less than 5 minutes left');
    assert.equal(cache.fetches, 2);
  });

  it('uses 10% of the lifetime as margin for short tokens, so they are still cached', async () => {
    const c = clock();
    let n = 0;
    const cache = new RefreshingTokenCache(
      async () => ({ token: `short-${++n}`, expiresOnTimestamp: c.now() + 10_000 }),
      {
        now: c.now,
      },
    );
    assert.equal(await cache.getToken(), 'short-1');
    c.advance(8_900);
    assert.equal(await cache.getToken(), 'short-1');
    c.advance(200);
    assert.equal(await cache.getToken(), 'short-2');
  });

  it('honours refreshAfterTimestamp when it comes earlier', async () => {
    const c = clock();
    let n = 0;
    const cache = new RefreshingTokenCache(
      async () => ({
        token: `t${++n}`,
        expiresOnTimestamp: c.now() + 24 * 60 * MIN,
        refreshAfterTimestamp: c.now() + 12 * 60 * MIN,
      }),
      { now: c.now },
    );
    await cache.getToken();
    c.advance(12 * 60 * MIN - 1);
    assert.equal(await cache.getToken(), 't1');
    c.advance(2);
    assert.equal(await cache.getToken(), 't2');
  });

  it('keeps a token that was already due for a short while instead of refetching on every call', async () => {
    const c = clock();
    let n = 0;
    // An upstream cache hands back a token whose suggested refresh time has passed.
    const cache = new RefreshingTokenCache(
      async () => ({
        token: `old-${++n}`,
        expiresOnTimestamp: c.now() + 40 * MIN,
        refreshAfterTimestamp: c.now() - MIN,
      }),
      { now: c.now },
    );
    await cache.getToken();
    await cache.getToken();
    assert.equal(cache.fetches, 1);
    c.advance(31_000);
    await cache.getToken();
    assert.equal(cache.fetches, 2);
  });

  it('shares one request between concurrent callers', async () => {
    let calls = 0;
    let release!: (v: AccessTokenInfo) => void;
    const cache = new RefreshingTokenCache(() => {
      calls++;
      return new Promise<AccessTokenInfo>((resolve) => (release = resolve));
    });
    const a = cache.getToken();
    const b = cache.getToken();
    release({ token: 'shared-token', expiresOnTimestamp: Date.now() + 60 * MIN });
    assert.deepEqual(await Promise.all([a, b]), ['shared-token', 'shared-token']);
    assert.equal(calls, 1);
  });

  it('falls back to the current token when an early refresh fails, and reports it', async () => {
    const c = clock();
    let fail = false;
    const errors: unknown[] = [];
    const cache = new RefreshingTokenCache(
      async () => {
        if (fail) throw new Error('entra is down');
        return { token: 'good-token', expiresOnTimestamp: c.now() + 60 * MIN };
      },
      { now: c.now, onRefreshError: (e) => errors.push(e) },
    );
    await cache.getToken();
    fail = true;
    c.advance(56 * MIN);
    assert.equal(await cache.getToken(), 'good-token');
    assert.equal(errors.length, 1);
    c.advance(4 * MIN);
    await assert.rejects(cache.getToken(), /entra is down/, 'an expired token is never handed out');
  });

  it('registers every fetched token as a secret', async () => {
    const cache = new RefreshingTokenCache(async () => ({
      token: 'minted-secret-value',
      expiresOnTimestamp: Date.now() + MIN,
    }));
    await cache.getToken();
    assert.equal(redact('x minted-secret-value y'), 'x *** y');
  });

  it('invalidate() forces a new fetch', async () => {
    let n = 0;
    const cache = new RefreshingTokenCache(async () => ({
      token: `tok-${++n}`,
      expiresOnTimestamp: Date.now() + 60 * MIN,
    }));
    await cache.getToken();
    cache.invalidate();
    assert.equal(await cache.getToken(), 'tok-2');
  });

  it('invalidate(token) drops only that token, so requests rejected together refresh once', async () => {
    let n = 0;
    let dropped = 0;
    const cache = new RefreshingTokenCache(
      async () => ({ token: `tok-${++n}`, expiresOnTimestamp: Date.now() + 60 * MIN }),
      { onInvalidate: () => dropped++ },
    );
    assert.equal(await cache.getToken(), 'tok-1');
    assert.equal(cache.invalidate('tok-1'), true);
    assert.equal(await cache.getToken(), 'tok-2');
    // A second request that was sent with tok-1 finds it already replaced.
    assert.equal(cache.invalidate('tok-1'), true);
    assert.equal(await cache.getToken(), 'tok-2');
    assert.equal(dropped, 1);
    assert.equal(cache.fetches, 2);
  });

  it('invalidate() says when a fetch cannot bring a different token', async () => {
    const cache = new RefreshingTokenCache(
      async () => ({ token: 'imds-token', expiresOnTimestamp: Date.now() + 60 * MIN }),
      { canForceRefresh: false },
    );
    await cache.getToken();
    assert.equal(cache.invalidate('imds-token'), false);
  });
});
