/**
 * Every auth mode obtains a token from the emulator through src/auth and uses
 * it: Databricks PAT and OAuth M2M, and Entra ID through @azure/identity for a
 * service principal (secret and certificate), a managed identity (IMDS) and
 * workload identity federation (Azure DevOps OIDC token as client assertion).
 * Also: refresh before expiry with short-lived tokens, the workspace resource
 * id headers, actionable errors, and no token or secret in any error text.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { generate } from 'selfsigned';
import {
  AuthError,
  authorizedHttp,
  createArmAuthorizer,
  createAzureTokenProvider,
  createDatabricksAuthorizer,
  type AzureConnection,
  type AzureCredentialConfig,
  type DatabricksTarget,
  type RequestAuthorizer,
} from '../../src/auth';
import { clearSecretsForTest } from '../../src/common/secrets';
import { closeHttpClient, createHttpClient } from '../../src/http';
import type { HttpClient } from '../../src/http/types';
import { Emulator } from '../emulator/core';
import { installDatabricks, type Workspace } from '../emulator/databricks';
import { installDevops, type DevopsPlugin } from '../emulator/devops';
import { installEntra, type EntraPlugin } from '../emulator/entra';

const TENANT = '5f0c2b8e-6a57-4d4a-9c1e-0b7e6f1d2a31';
const DATABRICKS_SCOPE = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default';

const guid = () => crypto.randomUUID();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('contract: auth modes against the emulator', function () {
  this.timeout(30_000);

  let emu: Emulator;
  let entra: EntraPlugin;
  let devops: DevopsPlugin;
  let ws: Workspace;
  let http: HttpClient;
  let certPem: string;
  let certAndKeyPem: string;
  let savedPodIdentityHost: string | undefined;
  /** Every secret and token the tests handle: none may appear in an error message. */
  const sensitive = new Set<string>();
  const errorTexts: string[] = [];

  before(async () => {
    emu = await Emulator.create({ seed: 7 });
    entra = await installEntra(emu, { defaultTenantId: TENANT });
    devops = await installDevops(emu);
    ws = await installDatabricks(emu).addWorkspace('auth');
    http = createHttpClient({
      caCertificates: [emu.caPem],
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
      timeoutMs: 10_000,
    });
    const pems = await generate([{ name: 'commonName', value: 'sp-certificate' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
    certPem = pems.cert;
    certAndKeyPem = `${pems.cert}\n${pems.private}`;
    // MSAL picks the managed identity source (and IMDS address) once per process: point it here first.
    savedPodIdentityHost = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    Object.assign(process.env, entra.managedIdentityEnv());
  });

  after(async () => {
    if (savedPodIdentityHost === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = savedPodIdentityHost;
    closeHttpClient(http);
    await emu.stop();
    clearSecretsForTest();
  });

  afterEach(() => {
    entra.tokenTtlSeconds = undefined;
    ws.settings.tokenTtlSeconds = 3600;
    devops.oidcTtlSeconds = 600;
  });

  /** An authenticated cheap read of the workspace, as the TestConnection data source does. */
  async function whoAmI(auth: RequestAuthorizer): Promise<string> {
    const client = http.withAuth(() => auth.headers());
    const res = await client.request<{ userName?: string; displayName?: string }>({
      method: 'GET',
      url: `${ws.url}/api/2.0/preview/scim/v2/Me`,
    });
    return String(res.data.userName ?? res.data.displayName);
  }

  async function expectAuthError(p: Promise<unknown>, re: RegExp): Promise<AuthError> {
    let caught: unknown;
    try {
      await p;
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof AuthError, `expected AuthError, got ${String(caught)}`);
    assert.match(caught.message, re);
    errorTexts.push(caught.message, String(caught.stack));
    return caught;
  }

  function spConnection(credential: AzureCredentialConfig): AzureConnection {
    return {
      credential,
      resourceManagerUrl: 'https://management.azure.com/',
      subscriptionId: guid(),
      resourceManagerAudience: 'https://management.core.windows.net/',
    };
  }

  function claimsOf(token: string): Record<string, unknown> {
    const v = emu.tokens.verify(token);
    assert.ok(v.ok, 'the emulator minted this token');
    return v.claims;
  }

  it('PAT: a bearer token the workspace accepts', async () => {
    const pat = `dapi${crypto.randomBytes(16).toString('hex')}`;
    sensitive.add(pat);
    ws.addPat(pat, 'pat-user@example.com');
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: ws.url, credential: { kind: 'pat', token: pat } },
      http,
    );
    assert.equal(await whoAmI(auth), 'pat-user@example.com');
  });

  it('Databricks OAuth M2M: one token request serves many calls', async () => {
    const clientId = guid();
    const secret = `dose${crypto.randomBytes(16).toString('hex')}`;
    sensitive.add(secret);
    ws.addServicePrincipal({ clientId, secret });
    emu.clearJournal();
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: `${ws.url}/`, credential: { kind: 'oauth-m2m', clientId, clientSecret: secret } },
      http,
    );
    assert.equal(await whoAmI(auth), clientId);
    assert.equal(await whoAmI(auth), clientId);
    const tokenCalls = emu.requests({ api: 'oidc.token' });
    assert.equal(tokenCalls.length, 1);
    assert.equal(tokenCalls[0].authScheme, 'Basic');
    sensitive.add((await auth.headers()).Authorization.slice('Bearer '.length));
  });

  it('Databricks OAuth M2M: refreshes a short-lived token before it expires', async () => {
    const clientId = guid();
    const secret = `dose${crypto.randomBytes(16).toString('hex')}`;
    ws.addServicePrincipal({ clientId, secret });
    ws.settings.tokenTtlSeconds = 2;
    emu.clearJournal();
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: ws.url, credential: { kind: 'oauth-m2m', clientId, clientSecret: secret } },
      http,
    );
    const first = (await auth.headers()).Authorization;
    assert.equal(await whoAmI(auth), clientId);
    await sleep(1900);
    const second = (await auth.headers()).Authorization;
    assert.notEqual(second, first, 'a new token before the old one expired');
    assert.equal(await whoAmI(auth), clientId);
    assert.equal(emu.requests({ api: 'oidc.token' }).length, 2);
  });

  it('Databricks OAuth M2M: a wrong secret is an actionable error without the secret', async () => {
    const clientId = guid();
    ws.addServicePrincipal({ clientId, secret: 'the-right-secret-value' });
    const wrong = `wrong-${crypto.randomBytes(8).toString('hex')}`;
    sensitive.add(wrong);
    const auth = createDatabricksAuthorizer(
      { workspaceUrl: ws.url, credential: { kind: 'oauth-m2m', clientId, clientSecret: wrong } },
      http,
    );
    await expectAuthError(
      auth.headers(),
      /sign-in failed for service principal .*DatabricksWorkspace service connection.*invalid_client/,
    );
  });

  it('service principal with a client secret: ARM token with audience, appid and tid', async () => {
    const clientId = guid();
    const secret = `sp~${crypto.randomBytes(16).toString('base64url')}`;
    sensitive.add(secret);
    entra.addApp({ tenantId: TENANT, clientId, secret });
    const conn = spConnection({
      scheme: 'ServicePrincipal',
      tenantId: TENANT,
      clientId,
      clientSecret: secret,
      authorityHost: `${entra.authorityHost}/`,
    });
    const auth = createArmAuthorizer(conn, http);
    const token = (await auth.headers()).Authorization.replace(/^Bearer /, '');
    sensitive.add(token);
    const claims = claimsOf(token);
    assert.equal(claims.aud, 'https://management.core.windows.net');
    assert.equal(claims.appid, clientId);
    assert.equal(claims.tid, TENANT);
    assert.deepEqual(
      entra.issued.filter((i) => i.clientId === clientId).map((i) => `${i.endpoint}:${i.via}`),
      ['v2:secret'],
    );
    // Entra was found through the connection's authority, with instance discovery off.
    assert.equal(emu.requests({ api: 'entra.discovery' }).length, 0);
    assert.ok(emu.requests({ api: 'entra.openid' }).length > 0);
  });

  it('service principal with a client secret: a wrong secret is AADSTS7000215 with guidance, no secret', async () => {
    const clientId = guid();
    entra.addApp({ tenantId: TENANT, clientId, secret: 'correct-secret-value-123' });
    const wrong = `wrong~${crypto.randomBytes(12).toString('base64url')}`;
    sensitive.add(wrong);
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: TENANT,
        clientId,
        clientSecret: wrong,
        authorityHost: entra.authorityHost,
      },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(
      provider.getToken(),
      /client secret is wrong.*Azure Resource Manager service connection/,
    );
    assert.equal(err.aadsts, 7000215);
    assert.equal(err.code, 'invalidSecret');
  });

  it('service principal: an unknown application id is AADSTS700016 naming the ids to check', async () => {
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: TENANT,
        clientId: guid(),
        clientSecret: 'whatever-secret-1',
        authorityHost: entra.authorityHost,
      },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(
      provider.getToken(),
      /no application with this client id exists in the tenant/,
    );
    assert.equal(err.aadsts, 700016);
  });

  it('service principal: an unknown tenant is AADSTS90002, found in the OpenID configuration response', async () => {
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: guid(),
        clientId: guid(),
        clientSecret: 'whatever-secret-2',
        authorityHost: entra.authorityHost,
      },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(provider.getToken(), /tenant was not found\. Check the tenant id/);
    assert.equal(err.aadsts, 90002);
  });

  it('service principal with a certificate: signs a client assertion Entra verifies; Databricks accepts the token', async () => {
    const clientId = guid();
    entra.addApp({ tenantId: TENANT, clientId, certificatePem: certPem });
    ws.addEntraPrincipal(clientId);
    const target: DatabricksTarget = {
      workspaceUrl: ws.url,
      credential: {
        kind: 'azure',
        azure: spConnection({
          scheme: 'ServicePrincipal',
          tenantId: TENANT,
          clientId,
          certificatePem: certAndKeyPem,
          authorityHost: entra.authorityHost,
        }),
      },
    };
    const auth = createDatabricksAuthorizer(target, http);
    assert.equal(await whoAmI(auth), clientId);
    const issued = entra.issued.filter((i) => i.clientId === clientId);
    assert.deepEqual(
      issued.map((i) => `${i.via}:${i.resource}`),
      ['certificate:2ff814a6-3304-4ab8-85cb-cd0e6f879c1d'],
    );
    sensitive.add((await auth.headers()).Authorization.slice(7));
  });

  it('service principal with a certificate Entra does not know: AADSTS700027 with guidance', async () => {
    const clientId = guid();
    const other = await generate([{ name: 'commonName', value: 'registered' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
    entra.addApp({ tenantId: TENANT, clientId, certificatePem: other.cert });
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: TENANT,
        clientId,
        certificatePem: certAndKeyPem,
        authorityHost: entra.authorityHost,
      },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(
      provider.getToken(),
      /certificate of the Azure Resource Manager service connection is not registered/,
    );
    assert.equal(err.aadsts, 700027);
  });

  it('managed identity through IMDS (Metadata header, client_id) on the agent VM', async () => {
    const mi = entra.addManagedIdentity({ clientId: guid() });
    emu.clearJournal();
    const auth = createArmAuthorizer(
      spConnection({ scheme: 'ManagedServiceIdentity', clientId: mi.clientId }),
      http,
    );
    const token = (await auth.headers()).Authorization.slice(7);
    sensitive.add(token);
    const claims = claimsOf(token);
    assert.equal(claims.appid, mi.clientId);
    assert.equal(claims.aud, 'https://management.core.windows.net');
    const calls = emu.requests({ api: 'imds.token' });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].headers.metadata, 'true');
    assert.match(calls[0].query, /api-version=2018-02-01/);
    assert.match(calls[0].query, new RegExp(`client_id=${mi.clientId}`));
  });

  it('managed identity not assigned to the VM: an actionable error', async () => {
    const provider = createAzureTokenProvider(
      { scheme: 'ManagedServiceIdentity', clientId: guid() },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(
      provider.getToken(),
      /Assign the managed identity to the agent's VM or scale set/,
    );
    assert.equal(err.code, 'managedIdentityNotFound');
  });

  it('workload identity federation: a pipeline OIDC token exchanged as a client assertion; Databricks via the workspace resource id', async () => {
    const clientId = guid();
    const sc = devops.addServiceConnection({ name: 'arm-wif-dev' });
    entra.addApp({
      tenantId: TENANT,
      clientId,
      federated: { issuer: devops.issuer, subject: devops.subjectFor('arm-wif-dev') },
    });
    const accessToken = devops.issueAccessToken();
    sensitive.add(accessToken);
    const target: DatabricksTarget = {
      workspaceUrl: ws.url,
      credential: {
        kind: 'azure',
        azure: spConnection({
          scheme: 'WorkloadIdentityFederation',
          tenantId: TENANT,
          clientId,
          authorityHost: entra.authorityHost,
          oidc: { requestUri: devops.oidcRequestUri, accessToken, serviceConnectionId: sc.id },
        }),
        workspaceResourceId: ws.azureResourceId,
      },
    };
    const auth = createDatabricksAuthorizer(target, http);
    const headers = await auth.headers();
    assert.deepEqual(Object.keys(headers).sort(), [
      'Authorization',
      'X-Databricks-Azure-SP-Management-Token',
      'X-Databricks-Azure-Workspace-Resource-Id',
    ]);
    assert.equal(headers['X-Databricks-Azure-Workspace-Resource-Id'], ws.azureResourceId);
    assert.equal(
      claimsOf(headers['X-Databricks-Azure-SP-Management-Token']).aud,
      'https://management.core.windows.net',
    );
    assert.equal(claimsOf(headers.Authorization.slice(7)).aud, '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d');
    sensitive.add(headers.Authorization.slice(7));
    sensitive.add(headers['X-Databricks-Azure-SP-Management-Token']);
    assert.equal(ws.isMember(clientId), false);
    emu.clearJournal();
    assert.equal(await whoAmI(auth), clientId);
    assert.equal(ws.members().find((m) => m.id === clientId)?.via, 'azure-role');
    const call = emu.requests({ api: 'scim.me' })[0];
    assert.equal(call.headers['x-databricks-azure-workspace-resource-id'], ws.azureResourceId);
    assert.equal(call.headers['x-databricks-azure-sp-management-token'], '(present)');
    assert.deepEqual(
      entra.issued.filter((i) => i.clientId === clientId).map((i) => i.via),
      ['federated', 'federated'],
    );
  });

  it('workload identity federation: a fresh OIDC token for each Entra request when tokens are short-lived', async () => {
    const clientId = guid();
    const sc = devops.addServiceConnection({ name: 'arm-wif-refresh' });
    entra.addApp({
      tenantId: TENANT,
      clientId,
      federated: { issuer: devops.issuer, subject: devops.subjectFor('arm-wif-refresh') },
    });
    entra.tokenTtlSeconds = 2;
    devops.oidcTtlSeconds = 2;
    const provider = createAzureTokenProvider(
      {
        scheme: 'WorkloadIdentityFederation',
        tenantId: TENANT,
        clientId,
        authorityHost: entra.authorityHost,
        oidc: {
          requestUri: devops.oidcRequestUri,
          accessToken: devops.issueAccessToken(),
          serviceConnectionId: sc.id,
        },
      },
      DATABRICKS_SCOPE,
      http,
    );
    // The emulator rounds expiry up to whole seconds, so wait for the token's own exp
    // rather than a fixed time (a fixed 1.9 s sometimes fell short of the refresh point).
    const untilExpiry = (t: string) => sleep(Math.max(0, Number(claimsOf(t).exp) * 1000 - Date.now()));
    const first = await provider.getToken();
    assert.equal(await provider.getToken(), first, 'cached while fresh');
    await untilExpiry(first);
    const second = await provider.getToken();
    assert.notEqual(second, first);
    assert.equal(entra.issued.filter((i) => i.clientId === clientId).length, 2);
    assert.equal(
      devops.issued.filter((i) => i.serviceConnectionId === sc.id).length,
      2,
      'one OIDC token per Entra request',
    );
    // The previous assertion is (nearly) expired by now: a new one is fetched, not reused.
    await untilExpiry(second);
    await provider.getToken();
    assert.equal(devops.issued.filter((i) => i.serviceConnectionId === sc.id).length, 3);
  });

  it('workload identity federation: no matching federated credential names the issuer and subject', async () => {
    const clientId = guid();
    const sc = devops.addServiceConnection({ name: 'arm-wif-wrong' });
    entra.addApp({
      tenantId: TENANT,
      clientId,
      federated: { issuer: devops.issuer, subject: devops.subjectFor('some-other-connection') },
    });
    const accessToken = devops.issueAccessToken();
    const provider = createAzureTokenProvider(
      {
        scheme: 'WorkloadIdentityFederation',
        tenantId: TENANT,
        clientId,
        authorityHost: entra.authorityHost,
        oidc: { requestUri: devops.oidcRequestUri, accessToken, serviceConnectionId: sc.id },
      },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(provider.getToken(), /no federated identity credential/);
    assert.equal(err.aadsts, 70021);
    assert.ok(err.message.includes(`subject '${devops.subjectFor('arm-wif-wrong')}'`));
    assert.ok(err.message.includes(devops.issuer));
  });

  it('workload identity federation: a rejected job access token is an Azure DevOps error', async () => {
    const sc = devops.addServiceConnection({ name: 'arm-wif-401' });
    const bogus = `not-a-valid-access-token-${crypto.randomBytes(6).toString('hex')}`;
    sensitive.add(bogus);
    const provider = createAzureTokenProvider(
      {
        scheme: 'WorkloadIdentityFederation',
        tenantId: TENANT,
        clientId: guid(),
        authorityHost: entra.authorityHost,
        oidc: { requestUri: devops.oidcRequestUri, accessToken: bogus, serviceConnectionId: sc.id },
      },
      DATABRICKS_SCOPE,
      http,
    );
    const err = await expectAuthError(
      provider.getToken(),
      /Azure DevOps rejected the job's access token .*HTTP 401/,
    );
    assert.equal(err.code, 'oidcRequestFailed');
  });

  it('service principal: tokens are refreshed before expiry, so a long job keeps working', async () => {
    const clientId = guid();
    const secret = `sp~${crypto.randomBytes(12).toString('base64url')}`;
    entra.addApp({ tenantId: TENANT, clientId, secret });
    ws.addEntraPrincipal(clientId);
    entra.tokenTtlSeconds = 2;
    const auth = createDatabricksAuthorizer(
      {
        workspaceUrl: ws.url,
        credential: {
          kind: 'azure',
          azure: spConnection({
            scheme: 'ServicePrincipal',
            tenantId: TENANT,
            clientId,
            clientSecret: secret,
            authorityHost: entra.authorityHost,
          }),
        },
      },
      http,
    );
    // Poll across several token lifetimes, as a run-notebook task polls a long run.
    const tokens = new Set<string>();
    // Tokens live 2 to 3 s (exp is rounded up to a whole second): 7 s spans at least three.
    const until = Date.now() + 7000;
    while (Date.now() < until) {
      assert.equal(await whoAmI(auth), clientId);
      tokens.add((await auth.headers()).Authorization);
      await sleep(250);
    }
    assert.ok(tokens.size >= 3, `expected at least 3 tokens over 7 s of 2 s tokens, got ${tokens.size}`);
  });

  it('transient Entra and IMDS faults (503 with Retry-After, 429, connection reset) are retried by our client', async () => {
    const clientId = guid();
    entra.addApp({ tenantId: TENANT, clientId, secret: 'fault-secret-1' });
    const mi = entra.addManagedIdentity({ clientId: guid() });
    emu.clearJournal();
    emu.addFault({ kind: '503', api: 'entra.token', count: 1, retryAfter: 0 });
    emu.addFault({ kind: 'resetBefore', api: 'entra.token', count: 1 });
    emu.addFault({ kind: '429', api: 'imds.token', count: 1, retryAfter: 0 });
    try {
      const sp = createAzureTokenProvider(
        {
          scheme: 'ServicePrincipal',
          tenantId: TENANT,
          clientId,
          clientSecret: 'fault-secret-1',
          authorityHost: entra.authorityHost,
        },
        DATABRICKS_SCOPE,
        http,
      );
      sensitive.add(await sp.getToken());
      const mit = createAzureTokenProvider(
        { scheme: 'ManagedServiceIdentity', clientId: mi.clientId },
        DATABRICKS_SCOPE,
        http,
      );
      sensitive.add(await mit.getToken());
    } finally {
      emu.clearFaults();
    }
    assert.deepEqual(
      emu.requests({ api: 'entra.token' }).map((e) => e.fault ?? e.status),
      ['503', 'resetBefore', 200],
    );
    assert.deepEqual(
      emu.requests({ api: 'imds.token' }).map((e) => e.fault ?? e.status),
      ['429', 200],
    );
  });

  it('an expired or revoked token is an HTTP error that does not echo the token', async () => {
    const clientId = guid();
    const secret = `sp~${crypto.randomBytes(12).toString('base64url')}`;
    entra.addApp({ tenantId: TENANT, clientId, secret });
    ws.addEntraPrincipal(clientId);
    const provider = createAzureTokenProvider(
      {
        scheme: 'ServicePrincipal',
        tenantId: TENANT,
        clientId,
        clientSecret: secret,
        authorityHost: entra.authorityHost,
      },
      DATABRICKS_SCOPE,
      http,
    );
    const token = await provider.getToken();
    sensitive.add(token);
    emu.tokens.revoke(token);
    const auth: RequestAuthorizer = {
      headers: async () => ({ Authorization: `Bearer ${await provider.getToken()}` }),
    };
    let caught: unknown;
    try {
      await whoAmI(auth);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof Error);
    assert.match(caught.message, /401|403/);
    errorTexts.push(caught.message, String(caught.stack));
  });

  describe('a token rejected mid-run (authorizedHttp)', () => {
    /** Statuses of the SCIM Me calls since the journal was cleared. */
    const meStatuses = () => emu.requests({ api: 'scim.me' }).map((e) => e.status);
    const me = (client: HttpClient) =>
      client.request<{ userName?: string; displayName?: string }>({
        method: 'GET',
        url: `${ws.url}/api/2.0/preview/scim/v2/Me`,
      });

    it('Databricks OAuth M2M: a token revoked server-side is replaced and the call resent once', async () => {
      const clientId = guid();
      const secret = `dose${crypto.randomBytes(16).toString('hex')}`;
      ws.addServicePrincipal({ clientId, secret });
      const auth = createDatabricksAuthorizer(
        { workspaceUrl: ws.url, credential: { kind: 'oauth-m2m', clientId, clientSecret: secret } },
        http,
      );
      const client = authorizedHttp(http, auth);
      emu.clearJournal();
      assert.equal((await me(client)).data.displayName, clientId);
      const first = (await auth.headers()).Authorization.slice(7);
      sensitive.add(first);
      emu.tokens.revoke(first);
      const res = await me(client);
      assert.equal(res.data.displayName, clientId);
      assert.equal(res.attempts, 2);
      assert.deepEqual(meStatuses(), [200, 403, 200]);
      assert.equal(emu.requests({ api: 'oidc.token' }).length, 2);
      assert.notEqual((await auth.headers()).Authorization.slice(7), first);
    });

    it('Entra ID service principal: a revoked token makes a fresh credential ask Entra again', async () => {
      const clientId = guid();
      const secret = `sp~${crypto.randomBytes(12).toString('base64url')}`;
      entra.addApp({ tenantId: TENANT, clientId, secret });
      ws.addEntraPrincipal(clientId);
      const auth = createDatabricksAuthorizer(
        {
          workspaceUrl: ws.url,
          credential: {
            kind: 'azure',
            azure: spConnection({
              scheme: 'ServicePrincipal',
              tenantId: TENANT,
              clientId,
              clientSecret: secret,
              authorityHost: entra.authorityHost,
            }),
          },
        },
        http,
      );
      const client = authorizedHttp(http, auth);
      emu.clearJournal();
      await me(client);
      const first = (await auth.headers()).Authorization.slice(7);
      sensitive.add(first);
      emu.tokens.revoke(first);
      assert.equal((await me(client)).attempts, 2);
      assert.deepEqual(meStatuses(), [200, 403, 200]);
      assert.equal(entra.issued.filter((i) => i.clientId === clientId).length, 2);
    });

    it('PAT: a revoked token cannot be refreshed, so the error comes at once (no retry loop)', async () => {
      const pat = `dapi${crypto.randomBytes(16).toString('hex')}`;
      sensitive.add(pat);
      ws.addPat(pat, 'revoked-user@example.com');
      const client = authorizedHttp(
        http,
        createDatabricksAuthorizer({ workspaceUrl: ws.url, credential: { kind: 'pat', token: pat } }, http),
      );
      emu.clearJournal();
      await me(client);
      ws.revokePat(pat);
      let caught: unknown;
      try {
        await me(client);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof Error && /Invalid access token/.test(caught.message), String(caught));
      errorTexts.push(caught.message);
      assert.deepEqual(meStatuses(), [200, 403]);
    });
  });

  describe('emulator shapes', () => {
    async function raw<T = Record<string, unknown>>(
      method: 'GET' | 'POST',
      url: string,
      opts: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
    ) {
      return http.request<T>({ method, url, ...opts, idempotent: true, acceptStatuses: [400, 401, 404] });
    }

    it('openid-configuration points MSAL at this host; unknown tenants get AADSTS90002', async () => {
      const ok = await raw('GET', `${entra.authorityHost}/${TENANT}/v2.0/.well-known/openid-configuration`);
      assert.equal(ok.data.issuer, `${entra.authorityHost}/${TENANT}/v2.0`);
      assert.equal(ok.data.token_endpoint, `${entra.authorityHost}/${TENANT}/oauth2/v2.0/token`);
      for (const k of ['authorization_endpoint', 'jwks_uri']) assert.ok(ok.data[k]);
      const bad = await raw('GET', `${entra.authorityHost}/${guid()}/v2.0/.well-known/openid-configuration`);
      assert.equal(bad.status, 400);
      assert.match(String(bad.data.error_description), /^AADSTS90002: Tenant '.*' not found/);
    });

    it('v1 token endpoint takes resource= and answers with string numbers; errors have the Entra body', async () => {
      const clientId = guid();
      entra.addApp({ tenantId: TENANT, clientId, secret: 'v1-secret-value' });
      const url = `${entra.authorityHost}/${TENANT}/oauth2/token`;
      const ok = await raw('POST', url, {
        form: {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: 'v1-secret-value',
          resource: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d',
        },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.data.resource, '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d');
      assert.equal(ok.data.token_type, 'Bearer');
      assert.equal(typeof ok.data.expires_in, 'string');
      assert.equal(typeof ok.data.expires_on, 'string');
      sensitive.add(String(ok.data.access_token));
      const bad = await raw('POST', url, {
        form: {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: 'nope-nope',
          resource: 'https://management.azure.com/',
        },
      });
      assert.equal(bad.status, 401);
      assert.equal(bad.data.error, 'invalid_client');
      assert.deepEqual(bad.data.error_codes, [7000215]);
      for (const k of ['timestamp', 'trace_id', 'correlation_id']) assert.equal(typeof bad.data[k], 'string');
    });

    it('v2 rejects a scope without /.default and an unknown resource', async () => {
      const clientId = guid();
      entra.addApp({ tenantId: TENANT, clientId, secret: 'v2-secret-value' });
      const url = `${entra.authorityHost}/${TENANT}/oauth2/v2.0/token`;
      const form = {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: 'v2-secret-value',
      };
      const noDefault = await raw('POST', url, {
        form: { ...form, scope: 'https://management.azure.com/user_impersonation' },
      });
      assert.equal(noDefault.data.error, 'invalid_scope');
      const unknown = await raw('POST', url, { form: { ...form, scope: 'https://vault.example/.default' } });
      assert.deepEqual(unknown.data.error_codes, [500011]);
    });

    it('IMDS requires the Metadata header; App Service style endpoint requires X-IDENTITY-HEADER', async () => {
      const mi = entra.addManagedIdentity({ clientId: guid() });
      const base = `${entra.imds.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&client_id=${mi.clientId}`;
      const noHeader = await raw('GET', base);
      assert.equal(noHeader.status, 400);
      assert.equal(noHeader.data.error_description, 'Required metadata header not specified');
      const ok = await raw('GET', base, { headers: { Metadata: 'true' } });
      assert.equal(ok.data.client_id, mi.clientId);
      sensitive.add(String(ok.data.access_token));
      const env = entra.managedIdentityEnv('appService');
      const as = await raw(
        'GET',
        `${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://management.azure.com/&client_id=${mi.clientId}`,
        {
          headers: { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER },
        },
      );
      assert.equal(as.status, 200);
      sensitive.add(String(as.data.access_token));
      const denied = await raw('GET', `${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=x`);
      assert.equal(denied.status, 401);
    });

    it('Azure DevOps OIDC endpoint: 401 without the job token, a short-lived id token with it', async () => {
      const sc = devops.addServiceConnection({ name: 'shape-check' });
      const url = `${devops.oidcRequestUri}?api-version=7.1&serviceConnectionId=${sc.id}`;
      const denied = await raw('POST', url, { json: {} });
      assert.equal(denied.status, 401);
      assert.equal(denied.data.typeKey, 'UnauthorizedRequestException');
      const ok = await raw<{ oidcToken: string }>('POST', url, {
        json: {},
        headers: { Authorization: `Bearer ${devops.issueAccessToken()}` },
      });
      sensitive.add(ok.data.oidcToken);
      const claims = claimsOf(ok.data.oidcToken);
      assert.equal(claims.iss, devops.issuer);
      assert.equal(claims.sub, `sc://${devops.organization}/${devops.project}/shape-check`);
      assert.equal(claims.aud, 'api://AzureADTokenExchange');
      assert.ok(Number(claims.exp) - Date.now() / 1000 <= 601, 'an id token lives about ten minutes');
      const unknown = await raw(
        'POST',
        `${devops.oidcRequestUri}?api-version=7.1&serviceConnectionId=${guid()}`,
        {
          json: {},
          headers: { Authorization: `Bearer ${devops.issueAccessToken()}` },
        },
      );
      assert.equal(unknown.status, 404);
    });

    it('control API registers apps, identities and service connections over HTTP', async () => {
      const clientId = guid();
      await http.request({
        method: 'POST',
        url: `${entra.authorityHost}/_emulator/entra/apps`,
        json: { tenantId: TENANT, clientId, secret: 'ctl-secret-1' },
      });
      const mi = await http.request<{ clientId: string }>({
        method: 'POST',
        url: `${entra.authorityHost}/_emulator/entra/managed-identities`,
        json: {},
      });
      const sc = await http.request<{ id: string; subject: string }>({
        method: 'POST',
        url: `${devops.host.url}/_emulator/devops/service-connections`,
        json: { name: 'ctl-conn' },
      });
      assert.equal(sc.data.subject, devops.subjectFor('ctl-conn'));
      const info = await http.request<{
        apps: { clientId: string }[];
        managedIdentities: { clientId: string }[];
      }>({
        method: 'GET',
        url: `${entra.authorityHost}/_emulator/entra`,
      });
      assert.ok(info.data.apps.some((a) => a.clientId === clientId));
      assert.ok(info.data.managedIdentities.some((m) => m.clientId === mi.data.clientId));
      const provider = createAzureTokenProvider(
        {
          scheme: 'ServicePrincipal',
          tenantId: TENANT,
          clientId,
          clientSecret: 'ctl-secret-1',
          authorityHost: entra.authorityHost,
        },
        DATABRICKS_SCOPE,
        http,
      );
      sensitive.add(await provider.getToken());
    });
  });

  it('no secret or minted token appears in any error text', () => {
    assert.ok(errorTexts.length >= 10, `collected ${errorTexts.length} error texts`);
    assert.ok(sensitive.size >= 8);
    for (const text of errorTexts) {
      for (const s of sensitive) assert.ok(!text.includes(s), `a secret leaked into: ${text.slice(0, 200)}`);
    }
  });
});
