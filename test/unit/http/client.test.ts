import assert from 'node:assert/strict';
import { closeHttpClient, createHttpClient } from '../../../src/http/client';
import { HttpError } from '../../../src/http/errors';
import { buildUrl, encodeMultipart } from '../../../src/http/body';
import type { HttpClient, HttpRequest } from '../../../src/http/types';
import { json, startHttp, text, type TestServer } from './servers';

describe('http client: requests and bodies', () => {
  let server: TestServer;
  let client: HttpClient;

  before(async () => {
    server = await startHttp((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/echo':
          return json(res, 200, {
            method: req.method,
            query: Object.fromEntries(url.searchParams),
            rawQuery: url.search,
            contentType: req.headers['content-type'] ?? null,
            body: body.toString('utf8'),
          });
        case '/empty':
          res.writeHead(200, { 'content-length': '0' });
          return res.end();
        case '/no-content':
          res.writeHead(204);
          return res.end();
        case '/text':
          return text(res, 200, 'hello ✓');
        case '/bytes':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return res.end(Buffer.from([0, 1, 2, 255]));
        case '/html':
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end('<html><body>Sign in</body></html>');
        case '/missing':
          return json(res, 404, {
            error_code: 'RESOURCE_DOES_NOT_EXIST',
            message: 'Path (/x) does not exist.',
          });
        case '/headers':
          return json(res, 200, req.headers, { 'x-ms-request-id': 'req-123' });
        default:
          return json(res, 404, {});
      }
    });
    client = createHttpClient({ userAgent: 'test-agent/1.0' });
  });

  after(async () => {
    closeHttpClient(client);
    await server.close();
  });

  const echo = async (req: Partial<HttpRequest>) =>
    (
      await client.request<{
        method: string;
        query: Record<string, string>;
        rawQuery: string;
        contentType: string;
        body: string;
      }>({
        method: 'POST',
        url: `${server.url}/echo`,
        ...req,
      })
    ).data;

  it('sends JSON and parses a JSON response', async () => {
    const res = await client.request<{ body: string; contentType: string }>({
      method: 'POST',
      url: `${server.url}/echo`,
      json: { path: '/Shared/a b', overwrite: true },
    });
    assert.equal(res.status, 200);
    assert.equal(res.attempts, 1);
    assert.equal(res.data.contentType, 'application/json');
    assert.deepEqual(JSON.parse(res.data.body), { path: '/Shared/a b', overwrite: true });
    assert.equal(res.headers['content-type'], 'application/json');
  });

  it('sends a form body', async () => {
    const data = await echo({ form: { grant_type: 'client_credentials', scope: 'all-apis x&y' } });
    assert.equal(data.contentType, 'application/x-www-form-urlencoded');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(data.body)), {
      grant_type: 'client_credentials',
      scope: 'all-apis x&y',
    });
  });

  it('sends a multipart body a server can parse', async () => {
    const content = Buffer.from('# Databricks notebook source\nprint("hi")\n');
    const data = await echo({
      multipart: {
        fields: { path: '/Shared/nb', format: 'SOURCE', language: 'PYTHON', overwrite: 'true' },
        files: [{ name: 'content', filename: 'nb.py', content }],
      },
    });
    assert.match(data.contentType, /^multipart\/form-data; boundary=/);
    // Parse it back with the platform's own multipart parser.
    const form = await new Response(data.body, { headers: { 'content-type': data.contentType } }).formData();
    assert.equal(form.get('path'), '/Shared/nb');
    assert.equal(form.get('overwrite'), 'true');
    const file = form.get('content') as File;
    assert.equal(file.name, 'nb.py');
    assert.equal(await file.text(), content.toString());
  });

  it('sends a raw body with the caller content type', async () => {
    const data = await echo({ body: 'raw bytes', headers: { 'Content-Type': 'text/x-python' } });
    assert.equal(data.contentType, 'text/x-python');
    assert.equal(data.body, 'raw bytes');
  });

  it('encodes query parameters and keeps existing ones', async () => {
    const data = await echo({
      method: 'GET',
      url: `${server.url}/echo?api-version=2018-06-01`,
      query: { path: '/Users/a b+c&d=é', recursive: true, limit: 25, skip: undefined },
    });
    assert.deepEqual(data.query, {
      'api-version': '2018-06-01',
      path: '/Users/a b+c&d=é',
      recursive: 'true',
      limit: '25',
    });
    assert.ok(data.rawQuery.includes('path=%2FUsers%2Fa%20b%2Bc%26d%3D%C3%A9'), data.rawQuery);
    assert.ok(!data.rawQuery.includes('skip'));
  });

  it('returns text and buffers when asked', async () => {
    const t = await client.request<string>({
      method: 'GET',
      url: `${server.url}/text`,
      responseType: 'text',
    });
    assert.equal(t.data, 'hello ✓');
    const b = await client.request<Buffer>({
      method: 'GET',
      url: `${server.url}/bytes`,
      responseType: 'buffer',
    });
    assert.ok(Buffer.isBuffer(b.data));
    assert.deepEqual([...b.data], [0, 1, 2, 255]);
  });

  it('tolerates an empty JSON body', async () => {
    const a = await client.request({ method: 'POST', url: `${server.url}/empty`, json: {} });
    assert.deepEqual(a.data, {});
    const b = await client.request({ method: 'DELETE', url: `${server.url}/no-content` });
    assert.equal(b.status, 204);
    assert.deepEqual(b.data, {});
    const h = await client.request({ method: 'HEAD', url: `${server.url}/headers` });
    assert.equal(h.status, 200);
    assert.equal(h.data, undefined);
  });

  it('fails clearly when an HTML page comes back instead of JSON', async () => {
    await assert.rejects(client.request({ method: 'GET', url: `${server.url}/html` }), (err: Error) => {
      assert.equal(err.name, 'HttpError');
      assert.match(err.message, /expected JSON but got text\/html/);
      assert.match(err.message, /check the URL/);
      return true;
    });
  });

  it('returns accepted statuses instead of throwing', async () => {
    const res = await client.request<{ error_code: string }>({
      method: 'GET',
      url: `${server.url}/missing`,
      acceptStatuses: [404],
    });
    assert.equal(res.status, 404);
    assert.equal(res.data.error_code, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('sets user agent, accept and request id; authorize runs on each request; withAuth shares stats', async () => {
    let calls = 0;
    const authed = client.withAuth(async () => {
      calls++;
      return { Authorization: `Bearer token-${calls}` };
    });
    const before = client.stats.requests;
    const res = await authed.request<Record<string, string>>({ method: 'GET', url: `${server.url}/headers` });
    assert.equal(res.data['user-agent'], 'test-agent/1.0');
    assert.equal(res.data.accept, 'application/json');
    assert.equal(res.data.authorization, 'Bearer token-1');
    assert.equal(res.requestId, 'req-123');
    const skipped = await authed.request<Record<string, string>>({
      method: 'GET',
      url: `${server.url}/headers`,
      skipAuth: true,
    });
    assert.equal(skipped.data.authorization, undefined);
    assert.equal(calls, 1);
    assert.equal(client.stats.requests, before + 2, 'stats are shared with withAuth() clients');
    assert.equal(authed.stats, client.stats);
    const plain = authed.withAuth(undefined);
    const res2 = await plain.request<Record<string, string>>({ method: 'GET', url: `${server.url}/headers` });
    assert.equal(res2.data.authorization, undefined);
  });

  it('rejects more than one body and invalid URLs without echoing them', async () => {
    await assert.rejects(
      client.request({ method: 'POST', url: `${server.url}/echo`, json: {}, form: {} }),
      /only one of json, form, multipart or body/,
    );
    await assert.rejects(
      client.request({ method: 'GET', url: 'not a url?token=s3cr3t-value' }),
      (err: Error) => {
        assert.ok(!err.message.includes('s3cr3t'));
        assert.match(err.message, /not an absolute http\(s\) URL/);
        return true;
      },
    );
  });
});

describe('http body helpers', () => {
  it('buildUrl skips undefined and encodes spaces as %20', () => {
    assert.equal(
      buildUrl('https://h/p', { a: 'x y', b: undefined, c: false }).toString(),
      'https://h/p?a=x%20y&c=false',
    );
  });

  it('encodeMultipart produces exact RFC 7578 bytes', () => {
    const { data, contentType } = encodeMultipart(
      { path: '/a' },
      [{ name: 'content', filename: 'a"b.py', content: Buffer.from('x'), contentType: 'text/plain' }],
      'BOUNDARY',
    );
    assert.equal(contentType, 'multipart/form-data; boundary=BOUNDARY');
    assert.equal(
      data?.toString(),
      '--BOUNDARY\r\nContent-Disposition: form-data; name="path"\r\n\r\n/a\r\n' +
        '--BOUNDARY\r\nContent-Disposition: form-data; name="content"; filename="a%22b.py"\r\nContent-Type: text/plain\r\n\r\nx\r\n' +
        '--BOUNDARY--\r\n',
    );
  });
});

describe('http client: credentials refreshed after a 401', () => {
  let server: TestServer;
  let client: HttpClient;
  // Tokens the server accepts; anything else gets the answer of `reject`.
  const valid = new Set<string>();
  let reject: 'expired-401' | 'invalid-403' = 'expired-401';

  before(async () => {
    server = await startHttp((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (valid.has(token)) return json(res, 200, { ok: true, token });
      if (reject === 'invalid-403')
        return json(res, 403, { error_code: 403, message: 'Invalid access token.' });
      return json(res, 401, { error_code: 'UNAUTHENTICATED', message: 'Token is expired' });
    });
    client = createHttpClient({ maxRetries: 0 });
  });
  beforeEach(() => {
    valid.clear();
    server.requests.length = 0;
    reject = 'expired-401';
  });
  after(async () => {
    closeHttpClient(client);
    await server.close();
  });

  /** A token cache in miniature: `invalidate` drops the token only if it is the one sent. */
  function refreshing() {
    let n = 0;
    let current: string | undefined;
    const seen: Record<string, string>[] = [];
    const authed = client.withAuth(
      async () => {
        current ??= `tok-${++n}`;
        return { Authorization: `Bearer ${current}` };
      },
      ({ sentAuthHeaders }) => {
        seen.push(sentAuthHeaders);
        if (sentAuthHeaders.authorization === `Bearer ${current}`) current = undefined;
        return true;
      },
    );
    return { authed, seen, minted: () => n };
  }

  it('drops the rejected token and resends once, even a POST without an idempotency key', async () => {
    const { authed, seen } = refreshing();
    valid.add('tok-2');
    const res = await authed.request<{ token: string }>({
      method: 'POST',
      url: `${server.url}/submit`,
      json: { a: 1 },
    });
    assert.equal(res.data.token, 'tok-2');
    assert.equal(res.attempts, 2);
    assert.deepEqual(seen, [{ authorization: 'Bearer tok-1' }]);
    assert.deepEqual(
      server.requests.map((r) => r.headers.authorization),
      ['Bearer tok-1', 'Bearer tok-2'],
    );
  });

  it('also for a 403 that says the token is invalid', async () => {
    reject = 'invalid-403';
    const { authed } = refreshing();
    valid.add('tok-2');
    assert.equal((await authed.request({ method: 'GET', url: `${server.url}/x` })).status, 200);
  });

  it('resends only once: a token rejected again is an error, not a loop', async () => {
    const { authed, minted } = refreshing();
    await assert.rejects(authed.request({ method: 'GET', url: `${server.url}/x` }), (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.kind, 'unauthorized');
      return true;
    });
    assert.equal(server.requests.length, 2);
    assert.equal(minted(), 2);
  });

  it('does not resend when nothing can be refreshed (a PAT), nor without authorize', async () => {
    let asked = 0;
    const pat = client.withAuth(
      async () => ({ Authorization: 'Bearer dapi-revoked' }),
      () => {
        asked++;
        return false;
      },
    );
    await assert.rejects(pat.request({ method: 'GET', url: `${server.url}/x` }), /401/);
    assert.equal(asked, 1);
    assert.equal(server.requests.length, 1);
    await assert.rejects(
      pat.request({ method: 'GET', url: `${server.url}/x`, skipAuth: true }),
      /401/,
      'a request that skips auth authenticates itself',
    );
    assert.equal(asked, 1);
  });

  it('concurrent requests rejected with the same stale token cause one refresh', async () => {
    const { authed, minted } = refreshing();
    valid.add('tok-2');
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        authed.request<{ token: string }>({ method: 'GET', url: `${server.url}/x` }),
      ),
    );
    assert.ok(results.every((r) => r.data.token === 'tok-2'));
    assert.equal(minted(), 2);
  });
});
