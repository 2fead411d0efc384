import assert from 'node:assert/strict';
import { createDatabricksAuthorizer } from '../../../src/auth/databricks';
import { AuthError } from '../../../src/auth/errors';
import { clearSecretsForTest, redact } from '../../../src/common/secrets';
import { FakeHttp } from './fake-http';

const WS = 'https://adb-1234567890123456.7.azuredatabricks.net/';

describe('createDatabricksAuthorizer', () => {
  afterEach(() => clearSecretsForTest());

  it('PAT: a bearer header, and the token is registered as a secret', async () => {
    const http = new FakeHttp(() => new Error('no network for PATs'));
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: WS, credential: { kind: 'pat', token: 'dapi0123456789abcdef' } },
      http,
    );
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer dapi0123456789abcdef' });
    assert.equal(http.requests.length, 0);
    assert.equal(redact('dapi0123456789abcdef'), '***');
  });

  it('OAuth M2M: client credentials at /oidc/v1/token with basic auth, cached', async () => {
    let n = 0;
    const http = new FakeHttp(() => ({
      status: 200,
      data: { access_token: `m2m-token-${++n}`, token_type: 'Bearer', expires_in: 3600, scope: 'all-apis' },
    }));
    const auth = createDatabricksAuthorizer(
      {
        workspaceUrl: WS,
        credential: { kind: 'oauth-m2m', clientId: 'sp-app-id', clientSecret: 'dose-secret-value' },
      },
      http,
    );
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer m2m-token-1' });
    assert.deepEqual(await auth.headers(), { Authorization: 'Bearer m2m-token-1' });
    assert.equal(http.requests.length, 1);
    const req = http.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.url, 'https://adb-1234567890123456.7.azuredatabricks.net/oidc/v1/token');
    assert.deepEqual(req.form, { grant_type: 'client_credentials', scope: 'all-apis' });
    assert.equal(
      req.headers?.Authorization,
      `Basic ${Buffer.from('sp-app-id:dose-secret-value').toString('base64')}`,
    );
    assert.equal(req.skipAuth, true);
    assert.equal(req.idempotent, true);
    assert.equal(redact('m2m-token-1 dose-secret-value'), '*** ***');
  });

  it('OAuth M2M: refreshes before the token expires', async () => {
    let now = 1_700_000_000_000;
    let n = 0;
    const http = new FakeHttp(() => ({
      status: 200,
      data: { access_token: `tok-${++n}`, expires_in: 3600 },
    }));
    {
      const auth = createDatabricksAuthorizer(
        { workspaceUrl: WS, credential: { kind: 'oauth-m2m', clientId: 'id', clientSecret: 'secret-1234' } },
        http,
        undefined,
        { now: () => now },
      );
      await auth.headers();
      now += 54 * 60_000;
      assert.equal((await auth.headers()).Authorization, 'Bearer tok-1');
      now += 2 * 60_000;
      assert.equal((await auth.headers()).Authorization, 'Bearer tok-2');
    }
  });

  it('OAuth M2M: a 401 names the service connection fields to check, without the secret', async () => {
    const http = new FakeHttp(() => ({
      status: 401,
      data: { error: 'invalid_client', error_description: 'Client authentication failed' },
    }));
    const auth = createDatabricksAuthorizer(
      {
        workspaceUrl: WS,
        credential: { kind: 'oauth-m2m', clientId: 'sp-app-id', clientSecret: 'wrong-secret-xyz' },
      },
      http,
    );
    await assert.rejects(auth.headers(), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.match(
        e.message,
        /Databricks OAuth \(machine-to-machine\) sign-in failed for service principal sp-app-id/,
      );
      assert.match(e.message, /DatabricksWorkspace service connection/);
      assert.match(e.message, /invalid_client: Client authentication failed/);
      assert.doesNotMatch(e.message, /wrong-secret-xyz/);
      return true;
    });
  });

  it('OAuth M2M: a secret echoed across the 300-character cut of the error is masked whole', async () => {
    const secret = 'dose-straddling-secret-0123456789abcdef';
    const head = 'invalid_client: ';
    // The secret starts 20 characters before the cut, so a cut-then-mask would keep its start.
    const description = `${'d'.repeat(300 - 20 - head.length)}${secret} tail`;
    const http = new FakeHttp(() => ({
      status: 401,
      data: { error: 'invalid_client', error_description: description },
    }));
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: WS, credential: { kind: 'oauth-m2m', clientId: 'sp-app-id', clientSecret: secret } },
      http,
    );
    await assert.rejects(auth.headers(), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.match(e.message, /invalid_client: d+\*\*\*/);
      assert.ok(!e.message.includes(secret.slice(0, 8)), e.message);
      return true;
    });
  });

  it('OAuth M2M: a 404 points at the workspace URL', async () => {
    const http = new FakeHttp(() => ({ status: 404, data: 'Not Found' }));
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: WS, credential: { kind: 'oauth-m2m', clientId: 'id', clientSecret: 'secret-1234' } },
      http,
    );
    await assert.rejects(auth.headers(), /no Databricks OAuth token endpoint.*workspace URL/);
  });

  it('rejects an empty PAT', () => {
    assert.throws(
      () =>
        createDatabricksAuthorizer(
          { workspaceUrl: WS, credential: { kind: 'pat', token: '' } },
          new FakeHttp(() => ({ status: 200 })),
        ),
      /empty personal access token/,
    );
  });
});
