import assert from 'node:assert/strict';
import type { PipelineRequest } from '@azure/core-rest-pipeline';
import {
  armScope,
  createAzureTokenProvider,
  scopeForResource,
  type AzureCredentialHandle,
} from '../../../src/auth/azure';
import { AuthError } from '../../../src/auth/errors';
import { createIdentityHttpClient } from '../../../src/auth/identity-http';
import { decodeJwtClaims, fetchPipelineOidcToken, oidcTokenUrl } from '../../../src/auth/oidc';
import { clearSecretsForTest, redact, registerSecret } from '../../../src/common/secrets';
import { FakeHttp } from './fake-http';

function jwt(claims: Record<string, unknown>): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'HS256' })}.${b(claims)}.c2ln`;
}

const OIDC = {
  requestUri: 'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken',
  accessToken: 'system-access-token-value',
  serviceConnectionId: 'sc-guid-1',
};

describe('scopes', () => {
  it('appends /.default without doubling slashes', () => {
    assert.equal(
      scopeForResource('https://management.core.windows.net/'),
      'https://management.core.windows.net/.default',
    );
    assert.equal(scopeForResource('https://management.azure.com'), 'https://management.azure.com/.default');
    assert.equal(
      scopeForResource('2ff814a6-3304-4ab8-85cb-cd0e6f879c1d'),
      '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default',
    );
    assert.equal(scopeForResource('x/.default'), 'x/.default');
  });

  it('ARM scope prefers the audience over the URL', () => {
    const credential = { scheme: 'ManagedServiceIdentity' as const };
    assert.equal(
      armScope({
        credential,
        resourceManagerUrl: 'https://management.usgovcloudapi.net/',
        subscriptionId: 's',
        resourceManagerAudience: 'https://management.core.usgovcloudapi.net/',
      }),
      'https://management.core.usgovcloudapi.net/.default',
    );
    assert.equal(
      armScope({
        credential,
        resourceManagerUrl: 'https://127.0.0.1:5000/',
        subscriptionId: 's',
        resourceManagerAudience: '',
      }),
      'https://127.0.0.1:5000/.default',
    );
  });
});

describe('fetchPipelineOidcToken', () => {
  afterEach(() => clearSecretsForTest());

  it('posts to the request URI with api-version 7.1 and the connection id, using the job token', async () => {
    const token = jwt({
      iss: 'https://vstoken.dev.azure.com/o',
      sub: 'sc://org/proj/conn',
      exp: 2_000_000_000,
    });
    const http = new FakeHttp(() => ({ status: 200, data: { oidcToken: token } }));
    const t = await fetchPipelineOidcToken(http, OIDC);
    assert.equal(t.token, token);
    assert.equal(t.issuer, 'https://vstoken.dev.azure.com/o');
    assert.equal(t.subject, 'sc://org/proj/conn');
    assert.equal(t.expiresOn, 2_000_000_000_000);
    const req = http.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.url, `${OIDC.requestUri}?api-version=7.1&serviceConnectionId=sc-guid-1`);
    assert.equal(req.headers?.Authorization, 'Bearer system-access-token-value');
    assert.equal(req.headers?.['Content-Type'], 'application/json');
    assert.equal(req.skipAuth, true);
    assert.equal(redact(`${token} system-access-token-value`), '*** ***');
  });

  it('keeps an existing query string and replaces stale parameters', () => {
    assert.equal(
      oidcTokenUrl({ ...OIDC, requestUri: 'https://x/oidctoken?api-version=6.0&foo=1' }),
      'https://x/oidctoken?api-version=7.1&foo=1&serviceConnectionId=sc-guid-1',
    );
  });

  it('a 401 says the job access token was rejected', async () => {
    const http = new FakeHttp(() => ({ status: 401, data: { message: 'TF400813: not authorized' } }));
    await assert.rejects(fetchPipelineOidcToken(http, OIDC), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.equal(e.code, 'oidcRequestFailed');
      assert.match(e.message, /rejected the job's access token/);
      assert.doesNotMatch(e.message, /system-access-token-value/);
      return true;
    });
  });

  it('a 404 carries the service message and what to check', async () => {
    const http = new FakeHttp(() => ({ status: 404, data: { message: 'Service connection not found' } }));
    await assert.rejects(
      fetchPipelineOidcToken(http, OIDC),
      /HTTP 404: Service connection not found.*authorized to use/,
    );
  });

  it('a service message echoing the job token across its 300-character cut is masked whole', async () => {
    registerSecret(OIDC.accessToken);
    const message = `${'m'.repeat(300 - 12)}${OIDC.accessToken} tail`;
    const http = new FakeHttp(() => ({ status: 400, data: { message } }));
    await assert.rejects(fetchPipelineOidcToken(http, OIDC), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.match(e.message, /HTTP 400: m+\*\*\*/);
      assert.ok(!e.message.includes(OIDC.accessToken.slice(0, 8)), e.message);
      return true;
    });
  });

  it('a body without oidcToken is an error', async () => {
    const http = new FakeHttp(() => ({ status: 200, data: {} }));
    await assert.rejects(fetchPipelineOidcToken(http, OIDC), /returned no oidcToken/);
  });

  it('decodeJwtClaims tolerates garbage', () => {
    assert.equal(decodeJwtClaims('not-a-jwt'), undefined);
    assert.equal(decodeJwtClaims('a.%%%.c'), undefined);
    assert.deepEqual(decodeJwtClaims(jwt({ a: 1 })), { a: 1 });
  });
});

describe('createIdentityHttpClient', () => {
  function pipelineRequest(over: Partial<PipelineRequest> = {}): PipelineRequest {
    const headers = new Map<string, string>([
      ['content-type', 'application/x-www-form-urlencoded'],
      ['content-length', '12'],
      ['x-client-sku', 'msal.js.node'],
    ]);
    return {
      url: 'https://login.example/tenant/oauth2/v2.0/token',
      method: 'POST',
      headers: {
        get: (n: string) => headers.get(n.toLowerCase()),
        has: (n: string) => headers.has(n.toLowerCase()),
        set: (n: string, v: string | number | boolean) => void headers.set(n.toLowerCase(), String(v)),
        delete: (n: string) => void headers.delete(n.toLowerCase()),
        toJSON: () => Object.fromEntries(headers),
        [Symbol.iterator]: () => headers.entries(),
      },
      timeout: 0,
      withCredentials: false,
      requestId: 'r1',
      body: 'grant_type=client_credentials',
      ...over,
    } as PipelineRequest;
  }

  it('forwards method, URL, headers and body, and hands back status, headers and text', async () => {
    const http = new FakeHttp(() => ({
      status: 400,
      data: '{"error":"invalid_scope"}',
      headers: { 'x-ms-request-id': 'abc' },
    }));
    const adapter = createIdentityHttpClient(http, 'get token');
    const res = await adapter.sendRequest(pipelineRequest());
    assert.equal(res.status, 400);
    assert.equal(res.bodyAsText, '{"error":"invalid_scope"}');
    assert.equal(res.headers.get('X-MS-Request-Id'), 'abc');
    const req = http.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.body, 'grant_type=client_credentials');
    assert.equal(req.headers?.['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(req.headers?.['content-length'], undefined);
    assert.equal(req.idempotent, true);
    assert.equal(req.skipAuth, true);
    assert.equal(req.responseType, 'text');
    assert.equal(adapter.takeErrorBody(), '{"error":"invalid_scope"}', 'kept for messages MSAL loses');
    assert.equal(adapter.takeErrorBody(), undefined);
    const accepted = req.acceptStatuses ?? [];
    assert.ok(accepted.includes(400) && accepted.includes(401));
    assert.ok(!accepted.includes(429) && !accepted.includes(503), 'our client retries those');
  });

  it('keeps the error body masked before it is cut', async () => {
    const secret = 'identity-straddling-secret-0123456789';
    registerSecret(secret);
    const body = `${'b'.repeat(2000 - 10)}${secret}`;
    const adapter = createIdentityHttpClient(new FakeHttp(() => ({ status: 400, data: body })), 'get token');
    await adapter.sendRequest(pipelineRequest());
    const kept = adapter.takeErrorBody() ?? '';
    assert.ok(kept.length <= 2000);
    assert.ok(!kept.includes(secret.slice(0, 8)), kept.slice(-40));
  });

  it('remembers a transport failure for the caller to explain', async () => {
    const boom = new Error('getaddrinfo ENOTFOUND login.example');
    const adapter = createIdentityHttpClient(new FakeHttp(() => boom), 'get token');
    await assert.rejects(adapter.sendRequest(pipelineRequest()), /ENOTFOUND/);
    assert.equal(adapter.takeTransportError(), boom);
    assert.equal(adapter.takeTransportError(), undefined);
  });

  it('passes the abort signal and timeout on', async () => {
    const ac = new AbortController();
    const fake = new FakeHttp(() => ({ status: 200, data: '{}' }));
    const adapter = createIdentityHttpClient(fake, 'op');
    await adapter.sendRequest(pipelineRequest({ abortSignal: ac.signal, timeout: 5000 }));
    assert.equal(fake.requests[0].signal, ac.signal);
    assert.equal(fake.requests[0].timeoutMs, 5000);
  });
});

describe('createAzureTokenProvider transport failures', () => {
  afterEach(() => clearSecretsForTest());

  it('managed identity: no IMDS on this machine is explained as such', async () => {
    // A stub credential: MSAL fixes the managed identity endpoint once per process, which the
    // contract tests point at the emulator, so unit tests must not create a real one first.
    const refused = new Error(
      'GET /metadata/identity/oauth2/token failed: connection refused (ECONNREFUSED).',
    );
    let inner: unknown;
    const handle: AzureCredentialHandle = {
      credential: {
        getToken: async () => {
          inner = refused;
          throw new Error('ManagedIdentityCredential: Network unreachable. Message: network_error');
        },
      },
      describe: (scope) => ({ scheme: 'ManagedServiceIdentity', clientId: 'mi-client-1', scope }),
      takeInnerError: () => {
        const e = inner;
        inner = undefined;
        return e;
      },
    };
    const provider = createAzureTokenProvider(
      { scheme: 'ManagedServiceIdentity', clientId: 'mi-client-1' },
      'https://management.azure.com/.default',
      new FakeHttp(() => refused),
      { handle },
    );
    await assert.rejects(provider.getToken(), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.equal(e.code, 'managedIdentityUnavailable');
      assert.match(e.message, /managed identity \(client id mi-client-1\)/);
      assert.match(
        e.message,
        /Instance Metadata Service is not reachable.*self-hosted agents running on Azure VMs.*ECONNREFUSED/,
      );
      return true;
    });
  });

  it('an Entra error body MSAL lost is quoted with a secret across its cut masked whole', async () => {
    const secret = 'sp-straddling-secret-0123456789abcdef';
    const body = `AADSTS7000215: Invalid client secret provided. ${'e'.repeat(300 - 60)}${secret} tail`;
    // What the real handle does when it builds the credential.
    registerSecret(secret);
    const handle: AzureCredentialHandle = {
      credential: {
        getToken: async () => {
          throw new Error('ClientSecretCredential: authentication failed');
        },
      },
      describe: (scope) => ({
        scheme: 'ServicePrincipal',
        clientId: 'client-1',
        tenantId: 'tenant-1',
        scope,
      }),
      takeInnerError: () => undefined,
      takeErrorBody: () => body,
    };
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: 'tenant-1',
        clientId: 'client-1',
        clientSecret: secret,
        authorityHost: 'https://login.example',
      },
      'https://management.azure.com/.default',
      new FakeHttp(() => new Error('unused')),
      { handle },
    );
    await assert.rejects(provider.getToken(), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.equal(e.aadsts, 7000215);
      assert.ok(!e.message.includes(secret.slice(0, 8)), e.message);
      return true;
    });
  });

  it('service principal: a DNS failure keeps our client message', async () => {
    const dns = new Error('POST /t/oauth2/v2.0/token failed: host login.example not found (ENOTFOUND).');
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: 'tenant-1',
        clientId: 'client-1',
        clientSecret: 'secret-xyz-1',
        authorityHost: 'https://login.example',
      },
      'https://management.azure.com/.default',
      new FakeHttp(() => dns),
    );
    await assert.rejects(provider.getToken(), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.equal(e.code, 'network');
      assert.match(
        e.message,
        /Could not get an Entra ID token \(scope https:\/\/management\.azure\.com\/\.default\): .*ENOTFOUND/,
      );
      return true;
    });
  });
});
