import assert from 'node:assert/strict';
import { closeHttpClient, createHttpClient } from '../../../src/http/client';
import { HttpError } from '../../../src/http/errors';
import { backoffDelay, describeRetry, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../src/http/retry';
import { RateLimitGate } from '../../../src/http/gate';
import type { HttpClient, HttpClientOptions, RetryInfo } from '../../../src/http/types';
import { closedPort, json, recordingSleep, startHttp, type Handler, type TestServer } from './servers';

const isHttpError = (e: unknown): e is HttpError => e instanceof HttpError;

describe('http client: retries', () => {
  const servers: TestServer[] = [];
  const clients: HttpClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) closeHttpClient(c);
    for (const s of servers.splice(0)) await s.close();
  });

  async function setup(handler: Handler, opts: HttpClientOptions = {}) {
    const server = await startHttp(handler);
    servers.push(server);
    const rec = recordingSleep();
    const retries: RetryInfo[] = [];
    const client = createHttpClient({
      sleep: rec.sleep,
      random: () => 0.5,
      onRetry: (i) => retries.push(i),
      ...opts,
    });
    clients.push(client);
    return { server, client, delays: rec.delays, retries };
  }

  it('retries a 503 and then succeeds', async () => {
    const { server, client, delays, retries } = await setup((_req, res, _b, i) =>
      i < 2
        ? json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'try later' })
        : json(res, 200, { ok: 1 }),
    );
    const res = await client.request<{ ok: number }>({
      method: 'GET',
      url: `${server.url}/api/2.0/workspace/list?path=/`,
    });
    assert.deepEqual(res.data, { ok: 1 });
    assert.equal(res.attempts, 3);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(client.stats, { requests: 3, retries: 2 });
    // Full jitter with random()=0.5: half of base 500 ms * 2^(n-1).
    assert.deepEqual(delays, [250, 500]);
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.reason, r.method, r.path]),
      [
        [2, '503 TEMPORARILY_UNAVAILABLE', 'GET', '/api/2.0/workspace/list'],
        [3, '503 TEMPORARILY_UNAVAILABLE', 'GET', '/api/2.0/workspace/list'],
      ],
    );
    assert.equal(
      describeRetry(retries[0]),
      'retrying GET /api/2.0/workspace/list in 250 ms after 503 TEMPORARILY_UNAVAILABLE (attempt 2)',
    );
  });

  it('honours Retry-After in seconds', async () => {
    const { server, client, delays } = await setup((_req, res, _b, i) =>
      i === 0
        ? json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED' }, { 'retry-after': '3' })
        : json(res, 200, {}),
    );
    await client.request({ method: 'GET', url: `${server.url}/x` });
    assert.deepEqual(delays, [3000]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const { server, client, delays } = await setup((_req, res, _b, i) =>
      i === 0
        ? json(res, 503, {}, { 'retry-after': new Date(Date.now() + 5000).toUTCString() })
        : json(res, 200, {}),
    );
    await client.request({ method: 'GET', url: `${server.url}/x` });
    assert.equal(delays.length, 1);
    // HTTP dates have one-second resolution.
    assert.ok(delays[0] > 3000 && delays[0] <= 5000, `delay ${delays[0]}`);
  });

  it('caps a huge Retry-After', async () => {
    const { server, client, delays } = await setup((_req, res, _b, i) =>
      i === 0 ? json(res, 429, {}, { 'retry-after': '86400' }) : json(res, 200, {}),
    );
    await client.request({ method: 'GET', url: `${server.url}/x` });
    assert.deepEqual(delays, [MAX_RETRY_AFTER_MS]);
  });

  it('gives up after maxRetries with kind server and attempts = maxRetries + 1', async () => {
    const { server, client, delays } = await setup(
      (_req, res) => json(res, 502, { error: { code: 'BadGateway', message: 'upstream down' } }),
      { maxRetries: 3, retryBaseDelayMs: 100, retryMaxDelayMs: 300 },
    );
    const err = await client.request({ method: 'GET', url: `${server.url}/x` }).catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'server');
    assert.equal(err.attempts, 4);
    assert.equal(err.status, 502);
    assert.equal(err.code, 'BadGateway');
    assert.equal(err.retryable, true);
    assert.equal(server.requests.length, 4);
    assert.deepEqual(delays, [50, 100, 150]);
    assert.match(err.message, /^GET \/x failed: 502 BadGateway: upstream down \(4 attempts\)\. /);
  });

  it('does not retry a POST on 500 unless it is idempotent', async () => {
    const { server, client } = await setup((_req, res, _b, i) =>
      i === 0
        ? json(res, 500, { error_code: 'INTERNAL_ERROR', message: 'boom' })
        : json(res, 200, { run_id: 1 }),
    );
    const err = await client
      .request({ method: 'POST', url: `${server.url}/api/2.2/jobs/runs/submit`, json: {} })
      .catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.attempts, 1);
    assert.equal(err.kind, 'server');
    assert.equal(err.retryable, true);
    assert.equal(server.requests.length, 1);

    const ok = await client.request<{ run_id: number }>({
      method: 'POST',
      url: `${server.url}/api/2.2/jobs/runs/submit`,
      json: { idempotency_token: 't' },
      idempotent: true,
    });
    assert.equal(ok.data.run_id, 1);
  });

  it('retries an idempotent POST and a PUT on 500', async () => {
    const { server, client } = await setup((_req, res, _b, i) =>
      i % 2 === 0 ? json(res, 500, {}) : json(res, 200, {}),
    );
    assert.equal(
      (await client.request({ method: 'POST', url: server.url, json: {}, idempotent: true })).attempts,
      2,
    );
    assert.equal((await client.request({ method: 'PUT', url: server.url, json: {} })).attempts, 2);
  });

  it('resends a POST after 429: the service refused it without processing', async () => {
    const { server, client } = await setup((_req, res, _b, i) =>
      i === 0 ? json(res, 429, {}, { 'retry-after': '1' }) : json(res, 200, {}),
    );
    const res = await client.request({ method: 'POST', url: server.url, json: {} });
    assert.equal(res.attempts, 2);
  });

  it('does not retry 4xx errors', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad path' }),
    );
    const err = await client.request({ method: 'GET', url: server.url }).catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'badRequest');
    assert.equal(err.attempts, 1);
    assert.equal(err.retryable, false);
  });

  it('retries a GET whose connection is reset, but not a POST', async () => {
    const { server, client, retries } = await setup((req, res, _b, i) => {
      if (i === 0 || req.method === 'POST') {
        req.socket.destroy();
        return;
      }
      json(res, 200, { ok: true });
    });
    const res = await client.request({ method: 'GET', url: `${server.url}/r` });
    assert.equal(res.attempts, 2);
    assert.equal(retries[0].reason, 'ECONNRESET');

    const err = await client
      .request({ method: 'POST', url: `${server.url}/r`, json: {} })
      .catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'network');
    assert.equal(err.networkCode, 'ECONNRESET');
    assert.equal(err.attempts, 1);
    assert.match(err.message, /closed unexpectedly/);
  });

  it('retries connection refused briefly, even for a POST (nothing was sent)', async () => {
    const port = await closedPort();
    const rec = recordingSleep();
    const client = createHttpClient({ sleep: rec.sleep, random: () => 0 });
    clients.push(client);
    const err = await client
      .request({ method: 'POST', url: `http://127.0.0.1:${port}/api`, json: {} })
      .catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'network');
    assert.equal(err.networkCode, 'ECONNREFUSED');
    assert.equal(err.attempts, 3);
    assert.match(err.message, /Connection refused by 127\.0\.0\.1:\d+: check the URL and port/);
  });

  it('times out each attempt and retries idempotent requests', async () => {
    const { server, client } = await setup(
      (_req, res, _b, i) => {
        if (i === 0) return; // never answers
        json(res, 200, { ok: true });
      },
      { timeoutMs: 150 },
    );
    const started = Date.now();
    const res = await client.request({ method: 'GET', url: `${server.url}/slow` });
    assert.equal(res.attempts, 2);
    assert.ok(Date.now() - started < 2000);
  });

  it('reports a timeout with kind timeout and no retry for a POST', async () => {
    const { server, client } = await setup(() => undefined, { timeoutMs: 100 });
    const err = await client
      .request({ method: 'POST', url: `${server.url}/hang`, json: {} })
      .catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'timeout');
    assert.equal(err.attempts, 1);
    assert.match(err.message, /^POST \/hang failed: no response within 0\.1 s\. /);
  });

  it('aborts an in-flight request without retrying', async () => {
    const { server, client } = await setup(() => undefined);
    const ac = new AbortController();
    const p = client.request({ method: 'GET', url: `${server.url}/hang`, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const err = await p.catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'aborted');
    assert.equal(err.retryable, false);
    assert.equal(server.requests.length, 1);
    assert.equal(client.stats.retries, 0);
  });

  it('aborts during the backoff sleep and before sending', async () => {
    const server = await startHttp((_req, res) => json(res, 503, {}));
    servers.push(server);
    const client = createHttpClient({ retryBaseDelayMs: 10_000, random: () => 1 });
    clients.push(client);
    const ac = new AbortController();
    const p = client.request({ method: 'GET', url: server.url, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const err = await p.catch((e: unknown) => e);
    assert.ok(isHttpError(err));
    assert.equal(err.kind, 'aborted');
    assert.equal(err.attempts, 1);
    assert.ok(Date.now() - started < 2000);

    const already = await client
      .request({ method: 'GET', url: server.url, signal: ac.signal })
      .catch((e: unknown) => e);
    assert.ok(isHttpError(already));
    assert.equal(already.kind, 'aborted');
    assert.equal(already.attempts, 0);
    assert.equal(server.requests.length, 1);
  });

  it('calls authorize on every attempt', async () => {
    const { server, client } = await setup((_req, res, _b, i) =>
      i < 2 ? json(res, 503, {}) : json(res, 200, {}),
    );
    let n = 0;
    const authed = client.withAuth(async () => ({ authorization: `Bearer t${++n}` }));
    await authed.request({ method: 'GET', url: server.url });
    assert.deepEqual(
      server.requests.map((r) => r.headers.authorization),
      ['Bearer t1', 'Bearer t2', 'Bearer t3'],
    );
  });

  it('host-wide gate: a 429 with Retry-After holds back other requests to the origin', async () => {
    let first429At = 0;
    const server = await startHttp((req, res, _b, i) => {
      if (req.url === '/a' && i === 0) {
        first429At = Date.now();
        return json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED' }, { 'retry-after': '1' });
      }
      json(res, 200, { url: req.url });
    });
    servers.push(server);
    const client = createHttpClient({ random: () => 0 });
    clients.push(client);
    // `a` gets the 429; once it has, `b` (from a withAuth() sibling) starts and must wait too.
    const a = client
      .withAuth(async () => ({ authorization: 'Bearer a' }))
      .request({ method: 'GET', url: `${server.url}/a` });
    while (first429At === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    const b = client
      .withAuth(async () => ({ authorization: 'Bearer b' }))
      .request({ method: 'GET', url: `${server.url}/b` });
    await Promise.all([a, b]);
    const bAt = server.requests.find((r) => r.url === '/b')!.at;
    const aRetryAt = server.requests.filter((r) => r.url === '/a')[1].at;
    assert.ok(bAt - first429At >= 950, `b went out ${bAt - first429At} ms after the 429`);
    assert.ok(aRetryAt - first429At >= 950);
  });

  it('gate: an unrelated client is not held back', async () => {
    const server = await startHttp((req, res, _b, i) =>
      i === 0 ? json(res, 429, {}, { 'retry-after': '30' }) : json(res, 200, {}),
    );
    servers.push(server);
    const rec = recordingSleep();
    const first = createHttpClient({ sleep: rec.sleep });
    const second = createHttpClient({ sleep: rec.sleep });
    clients.push(first, second);
    await first.request({ method: 'GET', url: server.url });
    assert.deepEqual(rec.delays, [30_000]);
    await second.request({ method: 'GET', url: server.url });
    assert.deepEqual(rec.delays, [30_000]);
    // ...while a sibling of the first waits for the rest of the block.
    await first.withAuth(undefined).request({ method: 'GET', url: server.url });
    assert.equal(rec.delays.length, 2);
    assert.ok(rec.delays[1] > 29_000 && rec.delays[1] <= 30_000);
  });

  it('gate: a 429 that is not retried still holds back the next request to the origin', async () => {
    const server = await startHttp((_req, res, _b, i) =>
      i === 0 ? json(res, 429, {}, { 'retry-after': '7' }) : json(res, 200, {}),
    );
    servers.push(server);
    const rec = recordingSleep();
    const client = createHttpClient({ sleep: rec.sleep, maxRetries: 0 });
    clients.push(client);
    const err = await client.request({ method: 'GET', url: server.url }).catch((e: unknown) => e);
    assert.ok(isHttpError(err) && err.kind === 'rateLimited');
    assert.deepEqual(rec.delays, []);
    await client.request({ method: 'GET', url: `${server.url}/next` });
    assert.equal(rec.delays.length, 1);
    assert.ok(rec.delays[0] > 6000 && rec.delays[0] <= 7000);
  });
});

describe('retry timing helpers', () => {
  it('parseRetryAfter reads seconds and dates and caps them', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter('0.5', now), 500);
    assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:07 GMT', now), 7000);
    assert.equal(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('99999', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('backoffDelay grows exponentially under a cap, jittered', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1000, () => 1)),
      [100, 200, 400, 800, 1000],
    );
    assert.equal(
      backoffDelay(3, 100, 1000, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, 100, 1000, () => 0.25),
      100,
    );
  });

  it('RateLimitGate waits only for blocks it has not already slept through', async () => {
    let now = 1000;
    const gate = new RateLimitGate(() => now);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      now += ms;
    };
    assert.equal(await gate.wait('o', sleep), 0);
    gate.block('o', 3000);
    gate.block('o', 2000); // never shortens
    assert.equal(gate.blockedUntil('o'), 3000);
    assert.equal(await gate.wait('o', sleep), 3000);
    assert.deepEqual(slept, [2000]);
    gate.block('o', 4000);
    assert.equal(await gate.wait('o', sleep, undefined, 4000), 4000);
    assert.deepEqual(slept, [2000]);
    assert.equal(await gate.wait('other', sleep), 0);
  });
});
