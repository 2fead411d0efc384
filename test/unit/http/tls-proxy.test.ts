import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { clearSecretsForTest } from '../../../src/common/secrets';
import { closeHttpClient, createHttpClient } from '../../../src/http/client';
import { HttpError } from '../../../src/http/errors';
import { bypassesProxy, compileBypass, trustedCas } from '../../../src/http/transport';
import type { HttpClient, HttpClientOptions } from '../../../src/http/types';
import {
  closedPort,
  json,
  startHttp,
  startHttps,
  startProxy,
  testCerts,
  type TestCerts,
  type TestProxy,
  type TestServer,
} from './servers';

describe('http client: TLS trust and proxy', function () {
  this.timeout(20_000); // certificate generation on a slow machine

  let certs: TestCerts;
  let httpsServer: TestServer;
  let httpServer: TestServer;
  const clients: HttpClient[] = [];
  const proxies: TestProxy[] = [];

  const make = (opts: HttpClientOptions): HttpClient => {
    const c = createHttpClient({ maxRetries: 0, ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    certs = await testCerts();
    httpsServer = await startHttps((req, res) => json(res, 200, { secure: true, url: req.url }), certs);
    httpServer = await startHttp((req, res) => json(res, 200, { secure: false, url: req.url }));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) closeHttpClient(c);
    for (const p of proxies.splice(0)) await p.close();
    clearSecretsForTest();
  });

  after(async () => {
    await httpsServer.close();
    await httpServer.close();
  });

  it('trusts a server signed by an extra CA certificate', async () => {
    const client = make({ caCertificates: [certs.caCert] });
    const res = await client.request<{ secure: boolean }>({ method: 'GET', url: `${httpsServer.url}/ok` });
    assert.equal(res.data.secure, true);
  });

  it('rejects an untrusted certificate with the CA hint, without retrying', async () => {
    const client = make({ maxRetries: 3 });
    const err = await client
      .request({ method: 'GET', url: `${httpsServer.url}/ok` })
      .catch((e: unknown) => e);
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.kind, 'network');
    assert.equal(err.retryable, false);
    assert.equal(err.attempts, 1);
    assert.ok(err.networkCode, 'has a TLS error code');
    assert.match(err.message, /TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
    assert.match(err.message, /Agent\.CAInfo\) or set NODE_EXTRA_CA_CERTS/);
  });

  it('trustedCas keeps Node roots and NODE_EXTRA_CA_CERTS when extra CAs are given', () => {
    assert.equal(trustedCas(undefined), undefined);
    assert.equal(trustedCas(['  ']), undefined);
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const file = join(dir, 'extra.pem');
    writeFileSync(file, 'EXTRA-PEM');
    const saved = process.env.NODE_EXTRA_CA_CERTS;
    try {
      process.env.NODE_EXTRA_CA_CERTS = file;
      const list = trustedCas([certs.caCert]) ?? [];
      assert.ok(list.length === tls.rootCertificates.length + 2);
      assert.ok(list.includes(tls.rootCertificates[0]));
      assert.ok(list.includes('EXTRA-PEM'));
      assert.ok(list.includes(certs.caCert.trim()));
    } finally {
      if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends http and https requests through the proxy (CONNECT), with custom trust', async () => {
    const proxy = await startProxy();
    proxies.push(proxy);
    const client = make({ proxy: { url: proxy.url }, caCertificates: [certs.caCert] });
    const a = await client.request<{ secure: boolean }>({ method: 'GET', url: `${httpsServer.url}/via` });
    const b = await client.request<{ secure: boolean }>({ method: 'GET', url: `${httpServer.url}/via` });
    assert.equal(a.data.secure, true);
    assert.equal(b.data.secure, false);
    assert.deepEqual(proxy.connects, [`127.0.0.1:${httpsServer.port}`, `127.0.0.1:${httpServer.port}`]);
  });

  it('bypasses the proxy for hosts matching the bypass list', async () => {
    const proxy = await startProxy();
    proxies.push(proxy);
    const client = make({
      proxy: { url: proxy.url, bypass: [`127\\.0\\.0\\.1:${httpServer.port}`] },
      caCertificates: [certs.caCert],
    });
    await client.request({ method: 'GET', url: `${httpServer.url}/direct` });
    assert.deepEqual(proxy.connects, []);
    await client.request({ method: 'GET', url: `${httpsServer.url}/proxied` });
    assert.deepEqual(proxy.connects, [`127.0.0.1:${httpsServer.port}`]);
  });

  it('authenticates to the proxy; a rejected login says so without the password', async () => {
    const expected = `Basic ${Buffer.from('agent:p@ss word!').toString('base64')}`;
    const proxy = await startProxy({ requireAuth: expected });
    proxies.push(proxy);
    const good = make({ proxy: { url: proxy.url, username: 'agent', password: 'p@ss word!' } });
    await good.request({ method: 'GET', url: `${httpServer.url}/auth` });
    assert.equal(proxy.auth[0], expected);

    const bad = make({ proxy: { url: proxy.url, username: 'agent', password: 'wrong-password' } });
    const err = await bad.request({ method: 'GET', url: `${httpServer.url}/auth` }).catch((e: unknown) => e);
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.status, 407);
    assert.equal(err.kind, 'network');
    assert.match(err.message, /proxy 127\.0\.0\.1:\d+ requires authentication/);
    assert.ok(!err.message.includes('wrong-password'));
  });

  it('names the proxy when it refuses connections', async () => {
    const port = await closedPort();
    const client = make({ proxy: { url: `http://127.0.0.1:${port}` } });
    const err = await client.request({ method: 'GET', url: `${httpServer.url}/x` }).catch((e: unknown) => e);
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.networkCode, 'ECONNREFUSED');
    assert.match(err.message, new RegExp(`Connection refused by the proxy 127\\.0\\.0\\.1:${port}`));
  });

  it('rejects an invalid proxy URL without echoing it', () => {
    assert.throws(
      () => createHttpClient({ proxy: { url: 'not a url:pa55word@' } }),
      (e: Error) => /proxy URL is not a valid URL/.test(e.message) && !e.message.includes('pa55word'),
    );
  });

  it('bypass patterns are regexes on the URL, with a wildcard fallback', () => {
    const list = compileBypass(['\\.internal\\.contoso\\.com', '*.corp', '']);
    assert.ok(bypassesProxy(new URL('https://adb.internal.contoso.com/api'), list));
    assert.ok(bypassesProxy(new URL('https://host.corp/x'), list));
    assert.ok(!bypassesProxy(new URL('https://management.azure.com/?q=.internal.contoso.com'), list));
  });
});
