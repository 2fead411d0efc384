/**
 * Contract tests of authentication on the emulated Databricks workspace: PAT,
 * Databricks OAuth M2M, Entra ID tokens (member, and non-member provisioned
 * through the ARM management-token headers), and each documented rejection.
 * Also the control API that drives a standalone emulator over HTTP.
 */
import assert from 'node:assert/strict';
import { Emulator } from '../emulator/core';
import { installDatabricks, AZURE_DATABRICKS_APP_ID, type Workspace } from '../emulator/databricks';
import { call, rawClient } from './raw-client';

const PAT = 'dapi-auth-contract-0123456789abcdef';
const SP = { clientId: '11111111-2222-4333-8444-555555555555', secret: 'dose-m2m-secret-abcdef' };
const ENTRA_MEMBER = '66666666-7777-4888-9999-000000000001';
const ENTRA_OUTSIDER = '66666666-7777-4888-9999-000000000002';
const TENANT = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const ME = '/api/2.0/preview/scim/v2/Me';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('contract: Databricks authentication (emulator)', function () {
  let emu: Emulator;
  let ws: Workspace;
  let other: Workspace;

  before(async () => {
    emu = await Emulator.create({ seed: 3 });
    const dbx = installDatabricks(emu);
    ws = await dbx.addWorkspace('auth', { subscriptionId: 'sub-1', resourceGroup: 'rg-data' });
    other = await dbx.addWorkspace('auth-other');
    ws.addPat(PAT, 'alice@example.com');
    ws.addServicePrincipal({ clientId: SP.clientId, secret: SP.secret, displayName: 'deployer' });
    ws.addEntraPrincipal(ENTRA_MEMBER, 'entra-member');
  });
  after(async () => emu.stop());
  beforeEach(() => emu.reset());

  const entraToken = (appId: string, opts: { aud?: string; ttl?: number; exp?: number } = {}) =>
    emu.tokens.issue(
      {
        aud: opts.aud ?? AZURE_DATABRICKS_APP_ID,
        sub: `obj-${appId}`,
        appid: appId,
        azp: appId,
        tid: TENANT,
        iss: `https://sts.windows.net/${TENANT}/`,
        ...(opts.exp !== undefined ? { exp: opts.exp } : {}),
      },
      opts.ttl,
    ).token;
  const armToken = (appId: string, aud = 'https://management.core.windows.net/') =>
    emu.tokens.issue({ aud, sub: `obj-${appId}`, appid: appId, tid: TENANT }).token;
  const token = (id = SP.clientId, secret = SP.secret, target: Workspace = ws) =>
    call(target, 'POST', '/oidc/v1/token', {
      headers: { authorization: basic(id, secret) },
      form: { grant_type: 'client_credentials', scope: 'all-apis' },
    });

  describe('personal access tokens', () => {
    it('accepts a PAT and reports its user from SCIM Me', async () => {
      const r = await call(ws, 'GET', ME, { bearer: PAT });
      assert.equal(r.status, 200);
      assert.equal(r.json.userName, 'alice@example.com');
      assert.equal(r.json.active, true);
      assert.deepEqual(r.json.emails, [{ type: 'work', value: 'alice@example.com', primary: true }]);
      assert.ok(Array.isArray(r.json.schemas));
      assert.equal(emu.requests({ api: 'scim.me' })[0].authScheme, 'Bearer');
    });

    it('answers 403 with an integer error_code and X-Databricks-Reason-Phrase for an unknown token', async () => {
      const r = await call(ws, 'GET', '/api/2.0/workspace/list', {
        bearer: 'dapi-not-a-real-token',
        query: { path: '/' },
      });
      assert.equal(r.status, 403);
      assert.deepEqual(r.json, { error_code: 403, message: 'Invalid access token.' });
      assert.equal(r.headers['x-databricks-reason-phrase'], 'Invalid access token.');
      ws.revokePat(PAT);
      assert.equal((await call(ws, 'GET', ME, { bearer: PAT })).status, 403);
      ws.addPat(PAT, 'alice@example.com');
    });

    it('answers 401 UNAUTHENTICATED without credentials, on every API', async () => {
      const endpoints: [string, string][] = [
        ['POST', '/api/2.0/workspace/import'],
        ['GET', '/api/2.0/workspace/export'],
        ['GET', '/api/2.0/workspace/list'],
        ['GET', '/api/2.0/workspace/get-status'],
        ['POST', '/api/2.0/workspace/mkdirs'],
        ['POST', '/api/2.0/workspace/delete'],
        ['POST', '/api/2.1/jobs/runs/submit'],
        ['GET', '/api/2.2/jobs/runs/get'],
        ['GET', '/api/2.1/jobs/runs/get-output'],
        ['POST', '/api/2.2/jobs/runs/cancel'],
        ['GET', '/api/2.1/jobs/runs/list'],
        ['POST', '/api/2.2/jobs/run-now'],
        ['GET', '/api/2.0/clusters/get'],
        ['POST', '/api/2.1/clusters/start'],
        ['GET', ME],
      ];
      for (const [method, path] of endpoints) {
        const r = await call(ws, method, path, { json: method === 'POST' ? {} : undefined });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.json.error_code, 'UNAUTHENTICATED');
      }
      const b = await call(ws, 'GET', ME, { headers: { authorization: basic('alice@example.com', 'pw') } });
      assert.equal(b.status, 401);
    });

    it('keeps each workspace to its own tokens', async () => {
      assert.equal((await call(other, 'GET', ME, { bearer: PAT })).status, 403);
    });
  });

  describe('OAuth machine-to-machine', () => {
    it('publishes the token endpoint in the authorization server metadata (no auth needed)', async () => {
      const r = await call(ws, 'GET', '/oidc/.well-known/oauth-authorization-server');
      assert.equal(r.status, 200);
      assert.equal(r.json.token_endpoint, `${ws.url}/oidc/v1/token`);
      assert.equal(r.json.issuer, `${ws.url}/oidc`);
      assert.ok(r.json.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    });

    it('issues a Bearer token for client credentials (Basic auth) that the APIs accept', async () => {
      const t = await token();
      assert.equal(t.status, 200);
      assert.equal(t.json.token_type, 'Bearer');
      assert.equal(t.json.expires_in, 3600);
      assert.equal(t.json.scope, 'all-apis');
      assert.equal(typeof t.json.access_token, 'string');
      const me = await call(ws, 'GET', ME, { bearer: t.json.access_token });
      assert.equal(me.status, 200);
      assert.equal(me.json.userName, SP.clientId);
      assert.equal(me.json.displayName, 'deployer');
      assert.equal(me.json.emails, undefined);
      // The journal keeps the grant type only, never the secret.
      const entry = emu.requests({ api: 'oidc.token' })[0];
      assert.deepEqual(entry.requestBody, { grant_type: 'client_credentials' });
      assert.equal(entry.authScheme, 'Basic');
      assert.ok(!JSON.stringify(emu.journal).includes(SP.secret));
    });

    it('accepts client_secret_post too', async () => {
      const t = await call(ws, 'POST', '/oidc/v1/token', {
        form: {
          grant_type: 'client_credentials',
          scope: 'all-apis',
          client_id: SP.clientId,
          client_secret: SP.secret,
        },
      });
      assert.equal(t.status, 200);
    });

    it('answers 401 invalid_client for a wrong secret or unknown client, 400 for another grant', async () => {
      for (const r of [await token(SP.clientId, 'wrong'), await token('unknown', SP.secret)]) {
        assert.equal(r.status, 401);
        assert.deepEqual(r.json, {
          error: 'invalid_client',
          error_description: 'Client authentication failed',
        });
      }
      const g = await call(ws, 'POST', '/oidc/v1/token', {
        headers: { authorization: basic(SP.clientId, SP.secret) },
        form: { grant_type: 'password', scope: 'all-apis' },
      });
      assert.equal(g.status, 400);
      assert.equal(g.json.error, 'unsupported_grant_type');
    });

    it('honours the configured token lifetime and rejects expired tokens', async () => {
      ws.setTokenTtl(120);
      const t = await token();
      assert.equal(t.json.expires_in, 120);
      const expired = emu.tokens.issue({
        aud: ws.url,
        sub: SP.clientId,
        kind: 'databricks-oauth',
        ws: ws.hostName,
        exp: Math.floor(Date.now() / 1000) - 5,
      }).token;
      const r = await call(ws, 'GET', ME, { bearer: expired });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { error_code: 401, message: 'Token is expired' });
      assert.equal(r.headers['x-databricks-reason-phrase'], 'Token is expired');
      ws.configure({ expiredTokenResponse: '403' });
      const r403 = await call(ws, 'GET', ME, { bearer: expired });
      assert.equal(r403.status, 403);
      assert.deepEqual(r403.json, { error_code: 403, message: 'JWT has expired' });
    });

    it('rejects a token of another workspace, a forged token, and tokens expiring within the leeway', async () => {
      other.addServicePrincipal(SP);
      const foreign = await token(SP.clientId, SP.secret, other);
      assert.equal((await call(ws, 'GET', ME, { bearer: foreign.json.access_token })).status, 403);
      const good = (await token()).json.access_token as string;
      const [h, p] = good.split('.');
      const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
      const f = await call(ws, 'GET', ME, { bearer: forged });
      assert.equal(f.status, 403);
      assert.equal(f.json.message, 'Invalid access token.');
      ws.configure({ rejectTokensExpiringWithinSeconds: 30 });
      ws.setTokenTtl(10);
      const short = (await token()).json.access_token as string;
      const l = await call(ws, 'GET', ME, { bearer: short });
      assert.equal(l.status, 403);
      assert.equal(l.json.message, 'Token is expiring within 30 seconds. (token expired)');
    });
  });

  describe('Entra ID tokens', () => {
    it('accepts a token for the AzureDatabricks resource of a member service principal', async () => {
      const r = await call(ws, 'GET', ME, { bearer: entraToken(ENTRA_MEMBER) });
      assert.equal(r.status, 200);
      assert.equal(r.json.userName, ENTRA_MEMBER);
    });

    it('refuses a non-member with 403 PERMISSION_DENIED', async () => {
      const r = await call(ws, 'GET', ME, { bearer: entraToken(ENTRA_OUTSIDER) });
      assert.equal(r.status, 403);
      assert.equal(r.json.error_code, 'PERMISSION_DENIED');
      assert.match(r.json.message, /not a member of this workspace/);
      assert.equal(ws.isMember(ENTRA_OUTSIDER), false);
    });

    it('provisions a non-member that sends a valid management token and the workspace resource id', async () => {
      assert.equal(
        ws.azureResourceId,
        '/subscriptions/sub-1/resourceGroups/rg-data/providers/Microsoft.Databricks/workspaces/auth',
      );
      const headers = {
        'X-Databricks-Azure-SP-Management-Token': armToken(ENTRA_OUTSIDER),
        'X-Databricks-Azure-Workspace-Resource-Id': ws.azureResourceId,
      };
      const r = await call(ws, 'GET', ME, { bearer: entraToken(ENTRA_OUTSIDER), headers });
      assert.equal(r.status, 200);
      assert.equal(r.json.userName, ENTRA_OUTSIDER);
      assert.equal(ws.isMember(ENTRA_OUTSIDER), true);
      assert.equal(ws.members().find((m) => m.id === ENTRA_OUTSIDER)?.via, 'azure-role');
      assert.equal(ws.objectType(`/Users/${ENTRA_OUTSIDER}`), 'DIRECTORY', 'gets a home folder');
      // Once provisioned, the Databricks token alone is enough.
      assert.equal((await call(ws, 'GET', ME, { bearer: entraToken(ENTRA_OUTSIDER) })).status, 200);
      // The journal records that the header was present, never its value.
      const h = emu.requests({ api: 'scim.me' })[0].headers;
      assert.equal(h['x-databricks-azure-sp-management-token'], '(present)');
      assert.equal(h['x-databricks-azure-workspace-resource-id'], ws.azureResourceId);
      ws.removePrincipal(ENTRA_OUTSIDER);
    });

    it('rejects a wrong resource id, a management token of the wrong audience or principal', async () => {
      const bearer = entraToken(ENTRA_OUTSIDER);
      const wrongId = await call(ws, 'GET', ME, {
        bearer,
        headers: {
          'X-Databricks-Azure-SP-Management-Token': armToken(ENTRA_OUTSIDER),
          'X-Databricks-Azure-Workspace-Resource-Id': other.azureResourceId,
        },
      });
      assert.equal(wrongId.status, 404);
      assert.match(wrongId.json.message, /^The workspace with resource ID .* could not be found\.$/);
      for (const mgmt of [armToken(ENTRA_OUTSIDER, 'https://vault.azure.net'), armToken(ENTRA_MEMBER)]) {
        const r = await call(ws, 'GET', ME, {
          bearer,
          headers: {
            'X-Databricks-Azure-SP-Management-Token': mgmt,
            'X-Databricks-Azure-Workspace-Resource-Id': ws.azureResourceId,
          },
        });
        assert.equal(r.status, 403);
      }
      assert.equal(ws.isMember(ENTRA_OUTSIDER), false);
    });

    it('rejects expired Entra tokens and tokens for another resource', async () => {
      const expired = entraToken(ENTRA_MEMBER, { exp: Math.floor(Date.now() / 1000) - 1 });
      const e = await call(ws, 'GET', ME, { bearer: expired });
      assert.equal(e.status, 401);
      assert.equal(e.json.message, 'Token is expired');
      const arm = await call(ws, 'GET', ME, { bearer: armToken(ENTRA_MEMBER) });
      assert.equal(arm.status, 403);
      assert.equal(arm.json.message, 'Invalid access token.');
    });

    it('checks the tenant when one is configured', async () => {
      ws.configure({ tenantId: 'another-tenant' });
      assert.equal((await call(ws, 'GET', ME, { bearer: entraToken(ENTRA_MEMBER) })).status, 403);
    });
  });

  describe('control API over HTTP', () => {
    it('adds workspaces, principals, clusters, scripts and objects, and reads runs', async () => {
      const ctl = rawClient({ url: ws.url, caPem: emu.caPem });
      const created = await ctl('POST', '/_emulator/databricks/workspaces', {
        json: { name: 'ctl', pendingMs: 10 },
      });
      assert.equal(created.status, 200);
      assert.match(created.json.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(created.json.azureResourceId, /\/workspaces\/ctl$/);
      const base = '/_emulator/databricks/ctl';
      assert.equal(
        (await ctl('POST', `${base}/pat`, { json: { token: 'dapi-ctl', user: 'bob@example.com' } })).status,
        200,
      );
      assert.equal(
        (await ctl('POST', `${base}/service-principal`, { json: { clientId: 'sp', secret: 's3cret' } }))
          .status,
        200,
      );
      assert.equal((await ctl('POST', `${base}/entra-principal`, { json: { appId: 'app-1' } })).status, 200);
      const cl = await ctl('POST', `${base}/cluster`, { json: { cluster_id: 'c1', state: 'TERMINATED' } });
      assert.equal(cl.json.state, 'TERMINATED');
      await ctl('POST', `${base}/cluster-state`, { json: { cluster_id: 'c1', state: 'RUNNING' } });
      assert.equal(
        (await ctl('GET', `${base}/cluster`, { query: { cluster_id: 'c1' } })).json.state,
        'RUNNING',
      );
      await ctl('POST', `${base}/objects`, {
        json: { path: '/Shared/nb', content: 'print(1)', language: 'PYTHON' },
      });
      await ctl('POST', `${base}/objects`, { json: { path: '/Shared/f.txt', type: 'FILE', content: 'x' } });
      await ctl('POST', `${base}/repo`, { json: { path: '/Repos/bob@example.com/r' } });
      await ctl('POST', `${base}/script-run`, {
        json: { notebookPath: '/Shared/nb', exitValue: 'done', durationMs: 10 },
      });
      const objs = await ctl('GET', `${base}/objects`, { query: { under: '/Shared' } });
      assert.deepEqual(
        objs.json.map((o: { path: string }) => o.path),
        ['/Shared', '/Shared/f.txt', '/Shared/nb'],
      );
      const obj = await ctl('GET', `${base}/object`, { query: { path: '/Shared/nb' } });
      assert.equal(obj.json.text, '# Databricks notebook source\nprint(1)');

      const ctlWs = installDatabricks(emu).workspace('ctl');
      const s = await call(ctlWs, 'POST', '/api/2.1/jobs/runs/submit', {
        bearer: 'dapi-ctl',
        json: {
          tasks: [
            { task_key: 't', notebook_task: { notebook_path: '/Shared/nb' }, existing_cluster_id: 'c1' },
          ],
        },
      });
      assert.equal(s.status, 200);
      const runs = await ctl('GET', `${base}/runs`);
      assert.equal(runs.json.length, 1);
      assert.equal(runs.json[0].creator, 'bob@example.com');
      assert.equal(runs.json[0].tasks[0].outcome.exitValue, 'done');
      const set = await ctl('POST', `${base}/settings`, { json: { importSizeLimit: 5 } });
      assert.equal(set.json.importSizeLimit, 5);
      assert.equal(ctlWs.importSizeLimit, 5);
      await ctl('POST', `${base}/edit`, { json: { path: '/Shared/f.txt', content: 'y' } });
      assert.equal(ctlWs.content('/Shared/f.txt'), 'y');
      const missing = await ctl('POST', '/_emulator/databricks/nope/pat', { json: { token: 'x' } });
      assert.equal(missing.status, 404);
      const list = await ctl('GET', '/_emulator/databricks/workspaces');
      assert.ok(list.json.some((w: { name: string }) => w.name === 'ctl'));
      await ctl('POST', `${base}/reset`);
      assert.equal(ctlWs.runs().length, 0);
      assert.equal(emu.requests({ api: 'control' }).length, 0, 'control calls are not journaled');
    });
  });
});
