/**
 * Contract tests of the emulator core (test/emulator/core.ts): TLS trust,
 * routing, the journal, every fault kind, Retry-After, per-API rate limits,
 * latency, the token registry and the control API over HTTP.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Emulator, type EmuHost } from '../emulator/core';
import { call } from './raw-client';

describe('contract: emulator core', function () {
  let emu: Emulator;
  let host: EmuHost;
  let host2: EmuHost;
  let azure: EmuHost;
  let handled = 0;
  let created = 0;
  let resetHookRuns = 0;

  before(async () => {
    emu = await Emulator.create({ seed: 42 });
    host = await emu.addHost('core', { role: 'core-test', style: 'databricks' });
    host2 = await emu.addHost('core2', { role: 'core-test', style: 'databricks' });
    azure = await emu.addHost('core-az', { role: 'core-test', style: 'azure' });
    emu.route('core-test', 'GET', '/ping', 'core.ping', () => {
      handled++;
      return { status: 200, json: { n: handled } };
    });
    emu.route('core-test', 'POST', '/Items/:id', 'core.items.create', (req) => {
      created++;
      return { status: 201, json: { id: req.params.id, body: req.body } };
    });
    emu.route('core-test', 'GET', '/files/*', 'core.files', (req) => ({
      status: 200,
      json: { rest: req.params['*'] },
    }));
    emu.onReset(() => resetHookRuns++);
  });
  after(async () => emu.stop());
  beforeEach(() => {
    emu.reset();
    handled = 0;
    created = 0;
  });

  const ping = (h: EmuHost = host) => call({ url: h.url, caPem: emu.caPem }, 'GET', '/ping');
  const create = (id: string) =>
    call({ url: host.url, caPem: emu.caPem }, 'POST', `/items/${id}`, { json: { a: 1 } });
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = Date.now();
    const v = await fn();
    return [v, Date.now() - t0];
  };

  describe('TLS and routing', () => {
    it('serves HTTPS trusted only through the generated CA', async () => {
      await assert.rejects(
        call(host.url, 'GET', '/ping', { ca: null }),
        /self[- ]signed|unable to verify|certificate/i,
      );
      const ok = await call(host.url, 'GET', '/ping', { ca: emu.caPem });
      assert.equal(ok.status, 200);
      assert.match(host.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const env = emu.env();
      assert.equal(fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8'), emu.caPem);
    });

    it('matches :params, * and literals case-insensitively; 404 and 405 otherwise', async () => {
      const c = await create('abc');
      assert.equal(c.status, 201);
      assert.deepEqual(c.json, { id: 'abc', body: { a: 1 } });
      const w = await call({ url: host.url, caPem: emu.caPem }, 'GET', '/files/a/b%20c/d.txt');
      assert.equal(w.json.rest, 'a/b c/d.txt');
      const nf = await call({ url: host.url, caPem: emu.caPem }, 'GET', '/nothing/here');
      assert.equal(nf.status, 404);
      assert.equal(nf.json.error_code, 'ENDPOINT_NOT_FOUND');
      const na = await call({ url: host.url, caPem: emu.caPem }, 'DELETE', '/ping');
      assert.equal(na.status, 405);
      assert.equal(na.json.error_code, 'METHOD_NOT_ALLOWED');
      assert.deepEqual(
        emu.journal.map((e) => e.api),
        ['core.items.create', 'core.files', 'unknown', 'unknown'],
      );
    });
  });

  describe('journal', () => {
    it('records each request without credentials', async () => {
      await call({ url: host.url, caPem: emu.caPem }, 'POST', '/items/x?dry=1', {
        json: { name: 'n' },
        bearer: 'dapi-secret-value',
        headers: { 'user-agent': 'contract-test/1.0' },
      });
      await ping(host2);
      const [a, b] = emu.journal;
      assert.ok(b.seq > a.seq);
      assert.equal(a.host, 'core');
      assert.equal(a.role, 'core-test');
      assert.equal(a.method, 'POST');
      assert.equal(a.path, '/items/x');
      assert.equal(a.query, '?dry=1');
      assert.equal(a.api, 'core.items.create');
      assert.equal(a.status, 201);
      assert.equal(a.authScheme, 'Bearer');
      assert.deepEqual(a.requestBody, { name: 'n' });
      assert.equal(a.headers['user-agent'], 'contract-test/1.0');
      assert.equal(a.headers['content-type'], 'application/json');
      assert.ok(a.durationMs >= 0 && a.time > 0);
      assert.ok(!JSON.stringify(emu.journal).includes('dapi-secret-value'));
      assert.equal(emu.requests({ api: 'core.ping' }).length, 1);
      assert.equal(emu.requests({ api: /^core\./, host: 'core' }).length, 1);
      assert.equal(emu.requests({ method: 'POST' }).length, 1);
      assert.deepEqual(
        emu.writes().map((e) => e.api),
        ['core.items.create'],
      );
      emu.clearJournal();
      assert.equal(emu.journal.length, 0);
    });
  });

  describe('faults', () => {
    it('429 with Retry-After in seconds (default 1), as an HTTP date, or none', async () => {
      emu.addFault({ kind: '429', api: 'core.ping', retryAfter: 2, count: 1 });
      const r = await ping();
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '2');
      assert.equal(r.json.error_code, 'REQUEST_LIMIT_EXCEEDED');
      assert.equal(handled, 0, 'the handler did not run');
      assert.equal((await ping()).status, 200, 'count: 1 fires once');

      emu.addFault({ kind: '429', api: 'core.ping', count: 1 });
      assert.equal((await ping()).headers['retry-after'], '1');

      emu.addFault({ kind: '429', api: 'core.ping', retryAfter: 'date', count: 1 });
      const d = await ping();
      const when = Date.parse(d.headers['retry-after']);
      assert.ok(Number.isFinite(when), d.headers['retry-after']);
      assert.match(d.headers['retry-after'], /GMT$/);
      assert.ok(when > Date.now() - 1500 && when < Date.now() + 3000);

      emu.addFault({ kind: '429', api: 'core.ping', retryAfter: 'none', count: 1 });
      const n = await ping();
      assert.equal(n.status, 429);
      assert.equal(n.headers['retry-after'], undefined);
      assert.deepEqual(
        emu.requests({ api: 'core.ping' }).map((e) => e.fault ?? e.status),
        ['429', 200, '429', '429', '429'],
      );
    });

    it('500 and 503 (with Retry-After) in the host error style', async () => {
      emu.addFault({ kind: '500', api: 'core.ping', count: 1 });
      const a = await ping();
      assert.equal(a.status, 500);
      assert.equal(a.json.error_code, 'INTERNAL_ERROR');
      emu.addFault({ kind: '503', api: 'core.ping', count: 1, retryAfter: 3 });
      const b = await ping();
      assert.equal(b.status, 503);
      assert.equal(b.json.error_code, 'TEMPORARILY_UNAVAILABLE');
      assert.equal(b.headers['retry-after'], '3');
      emu.addFault({ kind: '429', host: 'core-az', count: 1 });
      const z = await ping(azure);
      assert.equal(z.status, 429);
      assert.equal(z.json.error.code, 'TooManyRequests');
      assert.equal(handled, 0);
    });

    it('resetBefore drops the connection before the handler runs', async () => {
      emu.addFault({ kind: 'resetBefore', api: 'core.items.create', count: 1 });
      await assert.rejects(create('a'), /socket hang up|ECONNRESET/);
      assert.equal(created, 0);
      assert.equal(emu.journal[0].fault, 'resetBefore');
      assert.equal(emu.writes().length, 0, 'not a write: nothing happened');
    });

    it('resetAfter lets the handler act, then drops the connection (the client never hears back)', async () => {
      emu.addFault({ kind: 'resetAfter', api: 'core.items.create', count: 1 });
      await assert.rejects(create('b'), /socket hang up|ECONNRESET/);
      assert.equal(created, 1, 'the server acted');
      const e = emu.journal[0];
      assert.equal(e.fault, 'resetAfter');
      assert.equal(e.status, 201);
      assert.equal(emu.writes().length, 1);
      assert.equal((await create('c')).status, 201);
    });

    it('slow adds the delay and still answers', async () => {
      emu.addFault({ kind: 'slow', api: 'core.ping', delayMs: 250, count: 1 });
      const [r, ms] = await timed(() => ping());
      assert.equal(r.status, 200);
      assert.ok(ms >= 240, `${ms} ms`);
      assert.equal(emu.journal[0].fault, 'slow');
    });

    it('filters by api (string or RegExp), method and host; removeFault and clearFaults', async () => {
      const id = emu.addFault({ kind: '500', api: /^core\.items/ });
      assert.equal((await ping()).status, 200);
      assert.equal((await create('x')).status, 500);
      emu.removeFault(id);
      assert.equal((await create('x')).status, 201);
      emu.addFault({ kind: '500', host: 'core2' });
      emu.addFault({ kind: '503', method: 'POST' });
      assert.equal((await ping()).status, 200);
      assert.equal((await ping(host2)).status, 500);
      assert.equal((await create('y')).status, 503);
      emu.clearFaults();
      assert.equal((await ping(host2)).status, 200);
    });

    it('fires probabilistic and random faults from the seeded generator', async () => {
      emu.addFault({ kind: '500', api: 'core.ping', probability: 0 });
      for (let i = 0; i < 5; i++) assert.equal((await ping()).status, 200);
      emu.clearFaults();
      emu.addFault({ kind: '500', api: 'core.ping', probability: 0.5 });
      let fired = 0;
      for (let i = 0; i < 30; i++) if ((await ping()).status === 500) fired++;
      assert.ok(fired > 3 && fired < 27, `fired ${fired}/30`);
      emu.clearFaults();
      const ids = emu.addRandomFaults(1, { api: 'core.ping', kinds: ['503'] });
      assert.equal(ids.length, 1);
      assert.equal((await ping()).status, 503);
    });
  });

  describe('rate limits and latency', () => {
    it('throttles per host and api with a token bucket and Retry-After', async () => {
      // 1 token a second and a burst of 2: the third quick call is throttled.
      emu.setRateLimit('core.ping', 1, 2);
      const first = [await ping(), await ping(), await ping()];
      assert.deepEqual(
        first.map((r) => r.status),
        [200, 200, 429],
      );
      assert.equal(first[2].headers['retry-after'], '1');
      assert.equal(first[2].json.error_code, 'REQUEST_LIMIT_EXCEEDED');
      assert.equal(emu.journal[2].fault, 'rateLimit');
      assert.equal((await ping(host2)).status, 200, 'each host has its own bucket');
      assert.equal((await create('z')).status, 201, 'other apis are not limited');
      await new Promise((r) => setTimeout(r, 1050));
      assert.equal((await ping()).status, 200, 'refilled at 1/s');
      emu.clearRateLimits();
      for (let i = 0; i < 4; i++) assert.equal((await ping()).status, 200);
    });

    it('adds latency to every request, or to one api', async () => {
      emu.setLatency(150);
      const [, all] = await timed(() => create('l'));
      assert.ok(all >= 140, `${all} ms`);
      emu.setLatency(0);
      emu.setLatency(300, 'core.ping');
      const [, p] = await timed(() => ping());
      const [, c] = await timed(() => create('m'));
      assert.ok(p >= 290, `${p} ms`);
      assert.ok(c < 250, `${c} ms`);
    });

    it('reset() clears faults, limits, latency and the journal and runs plugin hooks', async () => {
      emu.addFault({ kind: '500' });
      emu.setRateLimit('core.ping', 1, 1);
      emu.setLatency(500);
      const hooks = resetHookRuns;
      emu.reset();
      assert.equal(resetHookRuns, hooks + 1);
      const [r, ms] = await timed(() => ping());
      assert.equal(r.status, 200);
      assert.ok(ms < 400);
      assert.equal((await ping()).status, 200);
      assert.equal(emu.journal.length, 2);
    });
  });

  describe('token registry', () => {
    it('verifies its own tokens and tells expired, revoked and forged apart', () => {
      const { token, expiresOn } = emu.tokens.issue({ aud: 'x', sub: 'y' }, 60);
      assert.ok(expiresOn > Date.now() / 1000);
      const v = emu.tokens.verify(token);
      assert.ok(v.ok && v.claims.aud === 'x' && v.claims.sub === 'y');
      const old = emu.tokens.issue({ aud: 'x', sub: 'y', exp: Math.floor(Date.now() / 1000) - 1 }).token;
      assert.deepEqual(emu.tokens.verify(old), { ok: false, reason: 'expired' });
      const parts = token.split('.');
      assert.deepEqual(emu.tokens.verify(`${parts[0]}.${parts[1]}.AAAA`), { ok: false, reason: 'invalid' });
      assert.deepEqual(emu.tokens.verify('not-a-jwt'), { ok: false, reason: 'invalid' });
      emu.tokens.revoke(token);
      assert.deepEqual(emu.tokens.verify(token), { ok: false, reason: 'revoked' });
    });
  });

  describe('control API over HTTP', () => {
    const ctl = (method: string, path: string, json?: unknown) =>
      call({ url: host.url, caPem: emu.caPem }, method, `/_emulator${path}`, { json });

    it('manages faults, latency, rate limits, the journal and reset; is itself never faulted or journaled', async () => {
      const hosts = await ctl('GET', '/hosts');
      assert.deepEqual(hosts.json.map((h: { name: string }) => h.name).sort(), ['core', 'core-az', 'core2']);
      const f = await ctl('POST', '/faults', { kind: '500', apiPattern: '^core\\.ping$', count: 1 });
      assert.equal(typeof f.json.id, 'number');
      await ctl('POST', '/faults', { kind: '503' }); // every api: control routes must stay up
      assert.equal((await ctl('GET', '/journal')).status, 200);
      assert.equal((await ping()).status, 500);
      assert.equal((await ping()).status, 503);
      assert.equal((await ctl('DELETE', '/faults')).status, 200);
      assert.equal((await ping()).status, 200);

      await ctl('POST', '/ratelimit', { api: 'core.ping', perSecond: 1, burst: 1 });
      assert.equal((await ping()).status, 200);
      assert.equal((await ping()).status, 429);

      await ctl('POST', '/latency', { ms: 120, api: 'core.items.create' });
      const [, ms] = await timed(() => create('q'));
      assert.ok(ms >= 110, `${ms} ms`);

      const journal = await ctl('GET', '/journal');
      assert.ok(journal.json.length >= 5);
      assert.ok(journal.json.every((e: { api: string }) => e.api !== 'control'));
      await ctl('DELETE', '/journal');
      assert.equal(emu.journal.length, 0);

      await ctl('POST', '/reset');
      assert.equal((await ping()).status, 200);
      assert.equal((await ping()).status, 200, 'reset cleared the rate limit');
    });
  });
});
