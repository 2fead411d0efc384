/**
 * Contract tests of the emulated Azure Resource Manager: authentication and
 * authorization errors, resource groups, and resource-group deployments (PUT,
 * async polling, operations, failures, validate, whatIf, cancel, nested linked
 * templates, Complete mode) as in shared/reference/api-contracts.md section 4.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Emulator } from '../emulator/core';
import { installArm, type ArmEmulator } from '../emulator/arm';
import { call, rawClient, waitFor, type CallResult } from './raw-client';

// Response bodies are read loosely on purpose (any field of any response).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const SUB = '11111111-2222-3333-4444-555555555555';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const RG = 'rg-data-test';
const APP = '0f0f0f0f-1111-2222-3333-444444444444';
const API = '2024-03-01';
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'arm');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

/** The export's parameters file, with the secure values a release would supply. */
function exportParameters(overrides: Record<string, unknown> = {}): Record<string, { value: unknown }> {
  const file = fixture('ARMTemplateParametersForFactory.json').parameters as Record<
    string,
    { value: unknown }
  >;
  const out: Record<string, { value: unknown }> = { ...file, factoryName: { value: 'adf-ml-test' } };
  out.ls_blob_connectionString = {
    value: 'DefaultEndpointsProtocol=https;AccountName=st;AccountKey=c2VjcmV0',
  };
  out.ls_databricks_accessToken = { value: 'dapi-secret-token-value' };
  out.ls_databricks_properties_typeProperties_domain = { value: 'https://adb-2222.22.azuredatabricks.net' };
  for (const [k, v] of Object.entries(overrides)) out[k] = { value: v };
  return out;
}

describe('contract: Azure Resource Manager deployments (emulator)', function () {
  let emu: Emulator;
  let arm: ArmEmulator;
  let api: ReturnType<typeof rawClient>;
  let token: string;
  const mgmt = () => ({ url: arm.url, caPem: emu.caPem });

  const deploymentPath = (name: string) =>
    `/subscriptions/${SUB}/resourcegroups/${RG}/providers/Microsoft.Resources/deployments/${name}`;
  const put = (name: string, properties: Record<string, unknown>) =>
    api('PUT', deploymentPath(name), { query: { 'api-version': API }, json: { properties } });
  const exportDeployment = (extra: Record<string, unknown> = {}) => ({
    mode: 'Incremental',
    template: fixture('ARMTemplateForFactory.json'),
    parameters: exportParameters(),
    ...extra,
  });
  const terminal = (name: string) =>
    waitFor(
      async () => {
        const r = await api('GET', deploymentPath(name), { query: { 'api-version': API } });
        const s = r.json?.properties?.provisioningState;
        return ['Succeeded', 'Failed', 'Canceled'].includes(s) ? r : undefined;
      },
      { what: `deployment ${name}`, timeoutMs: 5000 },
    );
  const operations = async (name: string) => {
    const r = await api('GET', `${deploymentPath(name)}/operations`, { query: { 'api-version': API } });
    assert.equal(r.status, 200);
    return r.json.value as Json[];
  };

  before(async () => {
    emu = await Emulator.create({ seed: 7 });
    arm = await installArm(emu, {
      deploymentStartMs: 5,
      deploymentStepMs: 2,
      triggerOperationMs: 20,
      asyncRetryAfterSeconds: 0,
    });
  });
  after(async () => emu.stop());
  beforeEach(() => {
    emu.reset();
    arm.addSubscription(SUB, { tenantId: TENANT, displayName: 'Data Test' });
    arm.addResourceGroup(SUB, RG, 'westeurope');
    arm.grant(SUB, APP, 'Contributor');
    token = arm.issueToken({ appId: APP, tenantId: TENANT });
    api = rawClient(mgmt(), { bearer: token });
  });

  describe('authentication and authorization', () => {
    const path = `/subscriptions/${SUB}/resourcegroups/${RG}`;
    const q = { 'api-version': '2021-04-01' };

    it('rejects a missing Authorization header with 401 AuthenticationFailed and WWW-Authenticate', async () => {
      const r = await call(mgmt(), 'GET', path, { query: q });
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'AuthenticationFailed');
      assert.equal(r.json.error.message, "Authentication failed. The 'Authorization' header is missing.");
      assert.match(r.headers['www-authenticate'], /^Bearer authorization_uri=".*", error="invalid_token"/);
      assert.ok(r.headers['x-ms-request-id']);
    });

    it('rejects a forged token with 401 InvalidAuthenticationToken', async () => {
      const r = await call(mgmt(), 'GET', path, { query: q, bearer: `${token.slice(0, -4)}AAAA` });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, {
        error: {
          code: 'InvalidAuthenticationToken',
          message: 'The access token is invalid.',
          target: null,
          details: null,
        },
      });
    });

    it('rejects an expired token with 401 ExpiredAuthenticationToken', async () => {
      const expired = emu.tokens.issue({
        aud: 'https://management.azure.com/',
        sub: APP,
        appid: APP,
        tid: TENANT,
        exp: Math.floor(Date.now() / 1000) - 60,
      }).token;
      const r = await call(mgmt(), 'GET', path, { query: q, bearer: expired });
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'ExpiredAuthenticationToken');
      assert.match(
        r.json.error.message,
        /^The access token expiry UTC time '\d+\/\d+\/\d{4} \d+:\d\d:\d\d [AP]M' is earlier than current UTC time '.*'\.$/,
      );
    });

    it('accepts Resource Manager audiences with or without a trailing slash, and its own URL', async () => {
      for (const aud of [
        'https://management.azure.com',
        'https://management.core.windows.net/',
        arm.url,
        `${arm.url}/`,
      ]) {
        const t = arm.issueToken({ appId: APP, tenantId: TENANT, audience: aud });
        const r = await call(mgmt(), 'GET', path, { query: q, bearer: t });
        assert.equal(r.status, 200, aud);
      }
      const wrong = arm.issueToken({
        appId: APP,
        tenantId: TENANT,
        audience: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d',
      });
      const r = await call(mgmt(), 'GET', path, { query: q, bearer: wrong });
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'InvalidAuthenticationTokenAudience');
    });

    it('rejects a token from another tenant with 401 InvalidAuthenticationTokenTenant', async () => {
      const other = arm.issueToken({ appId: APP, tenantId: '99999999-9999-9999-9999-999999999999' });
      const r = await call(mgmt(), 'GET', path, { query: q, bearer: other });
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'InvalidAuthenticationTokenTenant');
    });

    it('answers 403 AuthorizationFailed with the action and scope for a principal without a role', async () => {
      const stranger = arm.issueToken({
        appId: 'abababab-0000-0000-0000-000000000000',
        objectId: 'cdcdcdcd-0000-0000-0000-000000000000',
        tenantId: TENANT,
      });
      const r = await call(mgmt(), 'PUT', deploymentPath('d1'), {
        query: { 'api-version': API },
        bearer: stranger,
        json: { properties: exportDeployment() },
      });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'AuthorizationFailed');
      assert.equal(
        r.json.error.message,
        `The client 'abababab-0000-0000-0000-000000000000' with object id 'cdcdcdcd-0000-0000-0000-000000000000' does not have authorization to perform action 'Microsoft.Resources/deployments/write' over scope '${deploymentPath('d1')}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    });

    it('lets a Reader read but not write', async () => {
      const readerApp = '12121212-0000-0000-0000-000000000000';
      arm.grant(SUB, readerApp, 'Reader');
      const reader = arm.issueToken({ appId: readerApp, tenantId: TENANT });
      assert.equal((await call(mgmt(), 'GET', path, { query: q, bearer: reader })).status, 200);
      const w = await call(mgmt(), 'PUT', deploymentPath('d1'), {
        query: { 'api-version': API },
        bearer: reader,
        json: { properties: exportDeployment() },
      });
      assert.equal(w.status, 403);
    });

    it('answers 404 SubscriptionNotFound and 400 MissingApiVersionParameter', async () => {
      const r = await api('GET', '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/x', {
        query: q,
      });
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, 'SubscriptionNotFound');
      const v = await api('GET', path);
      assert.equal(v.status, 400);
      assert.equal(v.json.error.code, 'MissingApiVersionParameter');
    });

    it('sends request, correlation and remaining-request headers', async () => {
      const r = await api('GET', path, { query: q, headers: { 'x-ms-correlation-request-id': 'corr-123' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-ms-correlation-request-id'], 'corr-123');
      assert.match(r.headers['x-ms-request-id'], /^[0-9a-f-]{36}$/);
      const reads = Number(r.headers['x-ms-ratelimit-remaining-subscription-reads']);
      assert.ok(reads > 0 && reads < 250);
      const w = await api('PUT', `/subscriptions/${SUB}/resourcegroups/rg-new`, {
        query: q,
        json: { location: 'northeurope' },
      });
      assert.equal(w.status, 201);
      assert.ok(Number(w.headers['x-ms-ratelimit-remaining-subscription-writes']) > 0);
      assert.equal(w.json.location, 'northeurope');
      const again = await api('PUT', `/subscriptions/${SUB}/resourcegroups/rg-new`, {
        query: q,
        json: { location: 'northeurope' },
      });
      assert.equal(again.status, 200);
      const missing = await api('GET', `/subscriptions/${SUB}/resourcegroups/nope`, { query: q });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 'ResourceGroupNotFound');
    });
  });

  describe('deploying a Data Factory export', () => {
    it('PUT answers 201 Accepted with Azure-AsyncOperation, Location and Retry-After, then runs to Succeeded', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      const r = await put('release-1', exportDeployment());
      assert.equal(r.status, 201);
      assert.equal(r.json.type, 'Microsoft.Resources/deployments');
      assert.equal(r.json.name, 'release-1');
      assert.equal(
        r.json.id,
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Resources/deployments/release-1`,
      );
      assert.equal(r.json.properties.provisioningState, 'Accepted');
      assert.equal(r.json.properties.mode, 'Incremental');
      assert.match(
        r.headers['azure-asyncoperation'],
        new RegExp(`/deployments/release-1/operationStatuses/[0-9A-F]+\\?api-version=${API}$`),
      );
      assert.ok(r.headers.location);
      assert.equal(r.headers['retry-after'], '0');

      const statuses: string[] = [];
      await waitFor(async () => {
        const s = await call(mgmt(), 'GET', r.headers['azure-asyncoperation'], { bearer: token });
        assert.equal(s.status, 200);
        statuses.push(s.json.status);
        return s.json.status !== 'Running' ? s : undefined;
      });
      assert.equal(statuses[statuses.length - 1], 'Succeeded');

      const d = (await terminal('release-1')).json;
      assert.equal(d.properties.provisioningState, 'Succeeded');
      assert.match(d.properties.duration, /^PT[\d.]+S$/);
      assert.equal(d.properties.parameters.factoryName.value, 'adf-ml-test');
      assert.deepEqual(
        d.properties.parameters.ls_databricks_accessToken,
        { type: 'SecureString' },
        'secure values are not echoed',
      );
      assert.equal(d.properties.outputResources.length, 6);
      assert.ok(
        d.properties.providers.some((p: { namespace: string }) => p.namespace === 'Microsoft.DataFactory'),
      );
      const dep = d.properties.dependencies.find(
        (x: { resourceName: string }) => x.resourceName === 'adf-ml-test/pl_train',
      );
      assert.deepEqual(dep.dependsOn.map((x: { resourceName: string }) => x.resourceName).sort(), [
        'adf-ml-test/ds_input',
        'adf-ml-test/ls_databricks',
      ]);

      const loc = await call(mgmt(), 'GET', r.headers.location, { bearer: token });
      assert.equal(loc.status, 200);
      assert.equal(loc.json.properties.provisioningState, 'Succeeded');
    });

    it('leaves the factory holding exactly the exported objects, with expressions evaluated', async () => {
      const f = arm.addFactory(SUB, RG, 'adf-ml-test');
      await put('release-1', exportDeployment());
      await terminal('release-1');
      const snap = f.snapshot();
      assert.deepEqual(Object.keys(snap).sort(), [
        'datasets',
        'globalParameters',
        'linkedServices',
        'pipelines',
        'triggers',
      ]);
      assert.deepEqual(Object.keys(snap.linkedServices).sort(), ['ls_blob', 'ls_databricks']);
      assert.deepEqual(Object.keys(snap.datasets), ['ds_input']);
      assert.deepEqual(Object.keys(snap.pipelines), ['pl_train']);
      assert.deepEqual(Object.keys(snap.triggers), ['tr_daily']);
      assert.deepEqual(Object.keys(snap.globalParameters), ['default']);

      const dbx = snap.linkedServices.ls_databricks as Json;
      assert.equal(dbx.typeProperties.domain, 'https://adb-2222.22.azuredatabricks.net');
      assert.deepEqual(dbx.typeProperties.accessToken, {
        type: 'SecureString',
        value: 'dapi-secret-token-value',
      });
      assert.equal(dbx.typeProperties.existingClusterId, '0101-000000-dev00000');
      const ds = snap.datasets.ds_input as Json;
      assert.equal(ds.typeProperties.location.folderPath, '[landing]', "'[[' escapes are unescaped");
      assert.equal(ds.typeProperties.location.fileName, 'sample.csv');
      assert.equal(ds.typeProperties.location.container, 'raw');
      const pl = snap.pipelines.pl_train as Json;
      assert.equal(
        pl.activities[1].typeProperties.baseParameters.env.value,
        '@pipeline().parameters.env',
        'ADF expressions are left alone',
      );
      const tr = snap.triggers.tr_daily as Json;
      assert.equal(tr.pipelines[0].parameters.env, 'dev');
      assert.equal(f.triggerRuntimeState('tr_daily'), 'Stopped', 'ARM ignores runtimeState');
      assert.deepEqual(snap.globalParameters.default, { env: { type: 'string', value: 'dev' } });
      assert.deepEqual(f.properties.globalParameters, { env: { type: 'string', value: 'dev' } });
    });

    it('lists one operation per resource with state, status code and target', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      await put('release-1', exportDeployment());
      await terminal('release-1');
      const ops = await operations('release-1');
      assert.equal(ops.length, 6);
      for (const op of ops) {
        assert.match(op.id, /\/deployments\/release-1\/operations\/[0-9A-F]{16}$/);
        assert.equal(op.properties.provisioningOperation, 'Create');
        assert.equal(op.properties.provisioningState, 'Succeeded');
        assert.equal(op.properties.statusCode, 'OK');
        assert.match(
          op.properties.targetResource.id,
          /\/providers\/Microsoft\.DataFactory\/factories\/adf-ml-test\//,
        );
        assert.ok(op.properties.timestamp && op.properties.duration && op.properties.serviceRequestId);
      }
      const types = ops.map((o) => o.properties.targetResource.resourceType).sort();
      assert.deepEqual(types, [
        'Microsoft.DataFactory/factories/datasets',
        'Microsoft.DataFactory/factories/globalparameters',
        'Microsoft.DataFactory/factories/linkedServices',
        'Microsoft.DataFactory/factories/linkedServices',
        'Microsoft.DataFactory/factories/pipelines',
        'Microsoft.DataFactory/factories/triggers',
      ]);
      // Dependencies are honoured: the trigger ran after its pipeline, the dataset after its linked service.
      const at = (n: string) =>
        Date.parse(
          ops.find((o) => o.properties.targetResource.resourceName === `adf-ml-test/${n}`)!.properties
            .timestamp,
        );
      assert.ok(at('tr_daily') >= at('pl_train'));
      assert.ok(at('pl_train') >= at('ds_input'));
      const paged = await api('GET', `${deploymentPath('release-1')}/operations`, {
        query: { 'api-version': API, $top: 2 },
      });
      assert.equal(paged.json.value.length, 2);
    });

    it('answers 200 for a redeployment under an existing name', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      assert.equal((await put('release-1', exportDeployment())).status, 201);
      await terminal('release-1');
      const again = await put('release-1', exportDeployment());
      assert.equal(again.status, 200);
      assert.equal((await terminal('release-1')).json.properties.provisioningState, 'Succeeded');
    });

    it('creates the factory when the template contains it, and fails child resources of a missing factory', async () => {
      const template = fixture('ARMTemplateForFactory.json') as Json;
      await put('no-factory', { mode: 'Incremental', template, parameters: exportParameters() });
      const d = (await terminal('no-factory')).json;
      assert.equal(d.properties.provisioningState, 'Failed');
      const ops = await operations('no-factory');
      const failed = ops.filter((o) => o.properties.provisioningState === 'Failed');
      assert.ok(failed.length >= 1);
      assert.equal(failed[0].properties.statusMessage.error.code, 'ParentResourceNotFound');
      assert.equal(failed[0].properties.statusCode, 'NotFound');

      template.parameters.location = { type: 'string', defaultValue: '[resourceGroup().location]' };
      template.resources.unshift({
        name: "[parameters('factoryName')]",
        type: 'Microsoft.DataFactory/factories',
        apiVersion: '2018-06-01',
        location: "[parameters('location')]",
        identity: { type: 'SystemAssigned' },
        properties: {},
      });
      for (const r of template.resources.slice(1))
        r.dependsOn = [
          ...(r.dependsOn ?? []),
          "[resourceId('Microsoft.DataFactory/factories', parameters('factoryName'))]",
        ];
      await put('with-factory', { mode: 'Incremental', template, parameters: exportParameters() });
      assert.equal((await terminal('with-factory')).json.properties.provisioningState, 'Succeeded');
      const f = arm.factory(SUB, RG, 'adf-ml-test')!;
      assert.equal(f.location, 'westeurope');
      assert.ok(f.identity?.principalId);
      assert.equal(f.list('pipelines').length, 1);
    });
  });

  describe('failures', () => {
    it('fails a started trigger with TriggerEnabledCannotUpdate and reports it in operations and the error', async () => {
      const f = arm.addFactory(SUB, RG, 'adf-ml-test');
      await put('release-1', exportDeployment());
      await terminal('release-1');
      f.setTriggerRuntimeState('tr_daily', 'Started');
      const changed = exportDeployment({
        parameters: exportParameters({ tr_daily_properties_pl_train_parameters_env: 'test' }),
      });
      await put('release-2', changed);
      const d = (await terminal('release-2')).json;
      assert.equal(d.properties.provisioningState, 'Failed');
      assert.equal(d.properties.error.code, 'DeploymentFailed');
      assert.equal(
        d.properties.error.message,
        'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.',
      );
      assert.deepEqual(
        d.properties.error.details.map((x: { code: string }) => x.code),
        ['TriggerEnabledCannotUpdate'],
      );
      const ops = await operations('release-2');
      const failed = ops.filter((o) => o.properties.provisioningState === 'Failed');
      assert.equal(failed.length, 1);
      assert.equal(failed[0].properties.statusCode, 'BadRequest');
      assert.deepEqual(failed[0].properties.statusMessage, {
        status: 'Failed',
        error: {
          code: 'TriggerEnabledCannotUpdate',
          message: 'Cannot update enabled Trigger; the trigger needs to be disabled first. ',
          target: null,
          details: null,
        },
      });
      assert.equal(failed[0].properties.targetResource.id, `${f.id}/triggers/tr_daily`);
      assert.equal(failed[0].properties.targetResource.resourceName, 'adf-ml-test/tr_daily');
      assert.equal((f.definition('triggers', 'tr_daily') as Json).pipelines[0].parameters.env, 'dev');
      const status = await call(
        mgmt(),
        'GET',
        `${arm.url}${deploymentPath('release-2')}/operationStatuses/${d.properties.correlationId}`,
        {
          bearer: token,
          query: { 'api-version': API },
        },
      );
      assert.equal(status.status, 404, 'unknown operation id');
    });

    it('fails a resource whose reference is missing with the Data Factory error, and skips its dependants', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      const template = fixture('ARMTemplateForFactory.json') as Json;
      // Drop the blob linked service: the dataset now points at nothing.
      template.resources = template.resources.filter((r: { name: string }) => !r.name.includes("'/ls_blob'"));
      template.resources.find((r: { name: string }) => r.name.includes('/ds_input')).dependsOn = [];
      delete template.parameters.ls_blob_connectionString;
      const params = exportParameters();
      delete params.ls_blob_connectionString;
      await put('broken', { mode: 'Incremental', template, parameters: params });
      const d = (await terminal('broken')).json;
      assert.equal(d.properties.provisioningState, 'Failed');
      const ops = await operations('broken');
      const failed = ops.filter((o) => o.properties.provisioningState === 'Failed');
      assert.equal(failed.length, 1);
      assert.equal(failed[0].properties.statusMessage.error.code, 'BadRequest');
      assert.equal(
        failed[0].properties.statusMessage.error.message,
        "The document creation or update failed because of invalid reference 'ls_blob'.",
      );
      const names = ops.map((o) => o.properties.targetResource.resourceName).sort();
      assert.ok(!names.includes('adf-ml-test/pl_train'), 'dependants of a failed resource are not attempted');
      assert.ok(!names.includes('adf-ml-test/tr_daily'));
      assert.ok(names.includes('adf-ml-test/ls_databricks'), 'independent resources still run');
    });

    it('rejects template problems at PUT time with 400 InvalidTemplate', async () => {
      const params = exportParameters();
      delete params.ls_databricks_accessToken;
      const missing = await put('bad', exportDeployment({ parameters: params }));
      assert.equal(missing.status, 400);
      assert.equal(missing.json.error.code, 'InvalidTemplate');
      assert.match(
        missing.json.error.message,
        /^Deployment template validation failed: 'The value for the template parameter 'ls_databricks_accessToken' at line '1' and column '\d+' is not provided\. Please see https:\/\/aka\.ms\/arm-create-parameter-file for usage details'\.$/,
      );

      const unknown = await put(
        'bad',
        exportDeployment({ parameters: { ...exportParameters(), notInTemplate: { value: 1 } } }),
      );
      assert.equal(unknown.status, 400);
      assert.match(
        unknown.json.error.message,
        /The template parameters 'notInTemplate' in the parameters file are not valid; they are not present in the original template/,
      );

      const template = fixture('ARMTemplateForFactory.json') as Json;
      template.resources[0].properties.typeProperties.connectionString =
        "[frobnicate(parameters('ls_blob_connectionString'))]";
      const expr = await put('bad', { mode: 'Incremental', template, parameters: exportParameters() });
      assert.equal(expr.status, 400);
      assert.equal(expr.json.error.code, 'InvalidTemplate');
      assert.match(
        expr.json.error.message,
        /The template resource '\[concat\(parameters\('factoryName'\), '\/ls_blob'\)\]' at line '1' and column '\d+' is not valid: The template function 'frobnicate' is not valid/,
      );

      const template2 = fixture('ARMTemplateForFactory.json') as Json;
      template2.resources[2].dependsOn = ["[concat(variables('factoryId'), '/linkedServices/ls_nowhere')]"];
      const dep = await put('bad', {
        mode: 'Incremental',
        template: template2,
        parameters: exportParameters(),
      });
      assert.equal(dep.status, 400);
      assert.match(
        dep.json.error.message,
        /The resource 'Microsoft\.DataFactory\/factories\/adf-ml-test\/linkedServices\/ls_nowhere' is not defined in the template/,
      );

      const noMode = await put('bad', { template: fixture('ARMTemplateForFactory.json') });
      assert.equal(noMode.status, 400);
      assert.equal(noMode.json.error.code, 'InvalidRequestContent');
      assert.equal(arm.deployment(SUB, RG, 'bad'), undefined, 'nothing is recorded for a rejected PUT');
    });

    it('rejects a request over 4 MB with 413 RequestContentTooLarge', async () => {
      const template = fixture('ARMTemplateForFactory.json') as Json;
      template.resources[3].properties.description = 'x'.repeat(4 * 1024 * 1024);
      const r = await put('huge', { mode: 'Incremental', template, parameters: exportParameters() });
      assert.equal(r.status, 413);
      assert.deepEqual(r.json.error, {
        code: 'RequestContentTooLarge',
        message: 'The request content size exceeds the maximum size of 4 MB.',
        target: null,
        details: null,
      });
    });

    it('answers 409 DeploymentActive for a concurrent deployment of the same name, and cancels', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      arm.setOptions({ deploymentStartMs: 2000 });
      assert.equal((await put('slow', exportDeployment())).status, 201);
      const second = await put('slow', exportDeployment());
      assert.equal(second.status, 409);
      assert.equal(second.json.error.code, 'DeploymentActive');
      assert.match(
        second.json.error.message,
        /cannot be saved, because this would overwrite an existing deployment which is still active/,
      );
      const cancel = await api('POST', `${deploymentPath('slow')}/cancel`, { query: { 'api-version': API } });
      assert.equal(cancel.status, 204);
      const d = (await terminal('slow')).json;
      assert.equal(d.properties.provisioningState, 'Canceled');
      assert.equal(arm.factory(SUB, RG, 'adf-ml-test')!.list('pipelines').length, 0);
      const late = await api('POST', `${deploymentPath('slow')}/cancel`, { query: { 'api-version': API } });
      assert.equal(late.status, 409);
    });
  });

  describe('validate and whatIf', () => {
    it('validate answers 200 with validatedResources and changes nothing', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      const before = arm.changeCount;
      const r = await api('POST', `${deploymentPath('check')}/validate`, {
        query: { 'api-version': API },
        json: { properties: exportDeployment() },
      });
      assert.equal(r.status, 200);
      assert.equal(r.json.properties.provisioningState, 'Succeeded');
      assert.equal(r.json.properties.validatedResources.length, 6);
      assert.equal(arm.changeCount, before);
      assert.equal(arm.deployment(SUB, RG, 'check'), undefined);
      assert.equal(arm.factory(SUB, RG, 'adf-ml-test')!.objects.size, 0);
    });

    it('validate answers 400 InvalidTemplateDeployment with preflight details, and InvalidTemplate for template errors', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      const template = fixture('ARMTemplateForFactory.json') as Json;
      template.resources = template.resources.filter((r: { name: string }) => !r.name.includes("'/ls_blob'"));
      template.resources.find((r: { name: string }) => r.name.includes('/ds_input')).dependsOn = [];
      const params = exportParameters();
      delete params.ls_blob_connectionString;
      delete template.parameters.ls_blob_connectionString;
      const r = await api('POST', `${deploymentPath('check')}/validate`, {
        query: { 'api-version': API },
        json: { properties: { mode: 'Incremental', template, parameters: params } },
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'InvalidTemplateDeployment');
      assert.match(
        r.json.error.message,
        /^The template deployment 'check' is not valid according to the validation procedure\. The tracking id is '[0-9a-f-]+'\. See inner errors for details\.$/,
      );
      assert.equal(r.json.error.details[0].code, 'PreflightValidationCheckFailed');
      assert.equal(
        r.json.error.details[0].details[0].message,
        "The document creation or update failed because of invalid reference 'ls_blob'.",
      );

      const params2 = exportParameters();
      delete params2.factoryName;
      const t2 = fixture('ARMTemplateForFactory.json') as Json;
      delete t2.parameters.factoryName.defaultValue;
      const bad = await api('POST', `${deploymentPath('check')}/validate`, {
        query: { 'api-version': API },
        json: { properties: { mode: 'Incremental', template: t2, parameters: params2 } },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, 'InvalidTemplate');
    });

    it('whatIf answers 202 + Location, then the changes; nothing is written', async () => {
      const f = arm.addFactory(SUB, RG, 'adf-ml-test');
      arm.addFactory(SUB, RG, 'adf-other');
      const whatIf = async (properties: Record<string, unknown>) => {
        const r = await api('POST', `${deploymentPath('plan')}/whatIf`, {
          query: { 'api-version': API },
          json: { properties },
        });
        assert.equal(r.status, 202);
        assert.ok(r.headers.location);
        assert.ok(r.headers['retry-after']);
        const done = await waitFor(async () => {
          const p = await call(mgmt(), 'GET', r.headers.location, { bearer: token });
          return p.status === 200 ? p : undefined;
        });
        assert.equal(done.json.status, 'Succeeded');
        return done.json.properties.changes as Json[];
      };
      const before = arm.changeCount;
      const first = await whatIf(exportDeployment());
      assert.equal(arm.changeCount, before, 'whatIf writes nothing');
      const byType = (changes: Record<string, unknown>[], t: string) =>
        changes.filter((c) => c.changeType === t).map((c) => String(c.resourceId).split('/').pop());
      assert.deepEqual(byType(first, 'Create').sort(), [
        'default',
        'ds_input',
        'ls_blob',
        'ls_databricks',
        'pl_train',
        'tr_daily',
      ]);
      // The export holds only child resources: the factories themselves are resource-group resources it ignores.
      assert.deepEqual(byType(first, 'Ignore').sort(), ['adf-ml-test', 'adf-other']);

      await put('release-1', exportDeployment());
      await terminal('release-1');
      const second = await whatIf(
        exportDeployment({
          parameters: exportParameters({ tr_daily_properties_pl_train_parameters_env: 'prod' }),
        }),
      );
      assert.deepEqual(byType(second, 'Modify'), ['tr_daily']);
      assert.equal(byType(second, 'NoChange').length, 5);
      const modify = second.find((c) => c.changeType === 'Modify')!;
      assert.deepEqual(modify.delta, [
        {
          path: 'properties.pipelines',
          propertyChangeType: 'Array',
          before: modify.before.properties.pipelines,
          after: modify.after.properties.pipelines,
        },
      ]);
      assert.equal(modify.after.properties.pipelines[0].parameters.env, 'prod');
      assert.equal(
        f.definition('triggers', 'tr_daily')!.pipelines &&
          (f.definition('triggers', 'tr_daily') as Json).pipelines[0].parameters.env,
        'dev',
      );

      const complete = await whatIf({
        ...exportDeployment(),
        mode: 'Complete',
        whatIfSettings: { resultFormat: 'ResourceIdOnly' },
      });
      assert.deepEqual(byType(complete, 'Delete').sort(), ['adf-ml-test', 'adf-other']);
      assert.equal(complete[0].before, undefined, 'ResourceIdOnly omits payloads');
    });
  });

  describe('nested deployments and modes', () => {
    it('deploys linked templates (templateLink relativePath and uri) the way an ADF linked-template export does', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      const full = fixture('ARMTemplateForFactory.json') as Json;
      // Each linked template only depends on resources inside it; the chain orders the files.
      const child = (resources: Record<string, unknown>[]) => {
        const names = resources.map((r) => String(r.name).match(/'\/([^']+)'/)![1]);
        return {
          ...full,
          resources: resources.map((r) => ({
            ...r,
            dependsOn: (r.dependsOn as string[]).filter((d) => names.some((n) => d.endsWith(`/${n}')]`))),
          })),
        };
      };
      arm.putTemplateFile('release/linkedTemplates/ArmTemplate_0.json', child(full.resources.slice(0, 3)));
      arm.putTemplateFile('release/linkedTemplates/ArmTemplate_1.json', child(full.resources.slice(3)));
      const passParams = Object.fromEntries(
        Object.keys(full.parameters).map((p) => [p, { value: `[parameters('${p}')]` }]),
      );
      const master = {
        $schema: full.$schema,
        contentVersion: '1.0.0.0',
        parameters: {
          ...full.parameters,
          containerUri: { type: 'string' },
          containerSasToken: { type: 'string' },
        },
        variables: {},
        resources: [
          {
            name: 'adf-ml-test_ArmTemplate_0',
            type: 'Microsoft.Resources/deployments',
            apiVersion: '2018-02-01',
            properties: {
              mode: 'incremental',
              templateLink: {
                uri: "[concat(parameters('containerUri'), '/ArmTemplate_0.json', parameters('containerSasToken'))]",
                contentVersion: '1.0.0.0',
              },
              parameters: passParams,
            },
            dependsOn: [],
          },
          {
            name: 'adf-ml-test_ArmTemplate_1',
            type: 'Microsoft.Resources/deployments',
            apiVersion: '2024-03-01',
            properties: {
              mode: 'incremental',
              templateLink: { relativePath: 'ArmTemplate_1.json', contentVersion: '1.0.0.0' },
              parameters: passParams,
            },
            dependsOn: ["[resourceId('Microsoft.Resources/deployments', 'adf-ml-test_ArmTemplate_0')]"],
          },
        ],
      };
      const masterUrl = arm.putTemplateFile('release/linkedTemplates/ArmTemplate_master.json', master);
      const containerUri = masterUrl.replace(/\/ArmTemplate_master\.json$/, '');
      const r = await put('linked', {
        mode: 'Incremental',
        templateLink: { uri: `${masterUrl}?sv=2022&sig=abc` },
        parameters: {
          ...exportParameters(),
          containerUri: { value: containerUri },
          containerSasToken: { value: '?sv=2022&sig=abc' },
        },
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      const d = (await terminal('linked')).json;
      assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
      assert.equal(d.properties.templateLink.uri, `${masterUrl}?sv=2022&sig=abc`);
      const f = arm.factory(SUB, RG, 'adf-ml-test')!;
      assert.equal(f.objects.size, 6);
      const nested = await api('GET', deploymentPath('adf-ml-test_ArmTemplate_1'), {
        query: { 'api-version': API },
      });
      assert.equal(nested.status, 200);
      assert.equal(nested.json.properties.provisioningState, 'Succeeded');
      assert.equal((await operations('adf-ml-test_ArmTemplate_1')).length, 3);
      const ops = await operations('linked');
      assert.deepEqual(
        ops.map((o) => o.properties.targetResource.resourceType),
        ['Microsoft.Resources/deployments', 'Microsoft.Resources/deployments'],
      );

      // A failure inside a linked template fails the parent with the nested error.
      f.setTriggerRuntimeState('tr_daily', 'Started');
      await put('linked-2', {
        mode: 'Incremental',
        templateLink: { uri: masterUrl },
        parameters: {
          ...exportParameters({ tr_daily_properties_pl_train_parameters_env: 'x' }),
          containerUri: { value: containerUri },
          containerSasToken: { value: '' },
        },
      });
      const d2 = (await terminal('linked-2')).json;
      assert.equal(d2.properties.provisioningState, 'Failed');
      const failed = (await operations('linked-2')).find((o) => o.properties.provisioningState === 'Failed')!;
      assert.equal(failed.properties.statusCode, 'Conflict');
      assert.equal(failed.properties.statusMessage.error.code, 'DeploymentFailed');
      assert.equal(failed.properties.statusMessage.error.details[0].code, 'TriggerEnabledCannotUpdate');
    });

    it('evaluates inline nested templates in outer and inner scope', async () => {
      arm.addFactory(SUB, RG, 'f1');
      const inner = {
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        parameters: { name: { type: 'string' } },
        resources: [
          {
            name: "[concat('f1/', parameters('name'))]",
            type: 'Microsoft.DataFactory/factories/pipelines',
            apiVersion: '2018-06-01',
            properties: { activities: [], description: "[concat('inner-', deployment().name)]" },
          },
        ],
        outputs: { made: { type: 'string', value: "[parameters('name')]" } },
      };
      const template = {
        contentVersion: '1.0.0.0',
        parameters: { suffix: { type: 'string', defaultValue: 'x' } },
        resources: [
          {
            name: 'outer-scope',
            type: 'Microsoft.Resources/deployments',
            apiVersion: '2022-09-01',
            properties: {
              mode: 'Incremental',
              template: {
                contentVersion: '1.0.0.0',
                resources: [
                  {
                    name: "[concat('f1/pl_outer_', parameters('suffix'))]",
                    type: 'Microsoft.DataFactory/factories/pipelines',
                    apiVersion: '2018-06-01',
                    properties: { activities: [] },
                  },
                ],
              },
            },
          },
          {
            name: 'inner-scope',
            type: 'Microsoft.Resources/deployments',
            apiVersion: '2022-09-01',
            properties: {
              mode: 'Incremental',
              expressionEvaluationOptions: { scope: 'inner' },
              parameters: { name: { value: "[concat('pl_inner_', parameters('suffix'))]" } },
              template: inner,
            },
          },
        ],
        outputs: { rg: { type: 'string', value: '[resourceGroup().name]' } },
      };
      await put('nested', { mode: 'Incremental', template });
      const d = (await terminal('nested')).json;
      assert.equal(d.properties.provisioningState, 'Succeeded', JSON.stringify(d.properties.error));
      assert.deepEqual(d.properties.outputs, { rg: { type: 'String', value: RG } });
      const f = arm.factory(SUB, RG, 'f1')!;
      assert.ok(f.get('pipelines', 'pl_outer_x'));
      assert.equal(f.definition('pipelines', 'pl_inner_x')!.description, 'inner-inner-scope');
      const innerDep = await api('GET', deploymentPath('inner-scope'), { query: { 'api-version': API } });
      assert.deepEqual(innerDep.json.properties.outputs, { made: { type: 'String', value: 'pl_inner_x' } });
    });

    it('Complete mode deletes top-level resources the template does not contain; DELETE removes history only', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      arm.addFactory(SUB, RG, 'adf-legacy');
      await put('complete', exportDeployment({ mode: 'Complete' }));
      // The export does not contain the factory resource itself, so Complete mode removes it too (why DataFactoryDeploy never offers it).
      const d = (await terminal('complete')).json;
      assert.equal(d.properties.provisioningState, 'Succeeded');
      assert.equal(arm.factory(SUB, RG, 'adf-legacy'), undefined);
      assert.equal(arm.factory(SUB, RG, 'adf-ml-test'), undefined);
      const deletes = (await operations('complete')).filter(
        (o) => o.properties.provisioningOperation === 'Delete',
      );
      assert.equal(deletes.length, 2);

      const del = await api('DELETE', deploymentPath('complete'), { query: { 'api-version': API } });
      assert.equal(del.status, 202);
      const final = await waitFor(async () => {
        const p: CallResult = await call(mgmt(), 'GET', del.headers.location, { bearer: token });
        return p.status !== 202 ? p : undefined;
      });
      assert.equal(final.status, 204);
      assert.equal(
        (await api('GET', deploymentPath('complete'), { query: { 'api-version': API } })).status,
        404,
      );
      assert.equal(
        (await api('GET', deploymentPath('complete'), { query: { 'api-version': API } })).json.error.code,
        'DeploymentNotFound',
      );
    });
  });

  describe('faults and limits by api name', () => {
    it('injects faults and rate limits on the documented api names', async () => {
      arm.addFactory(SUB, RG, 'adf-ml-test');
      emu.addFault({ kind: '503', api: 'arm.deployments.put', count: 1 });
      const first = await put('r', exportDeployment());
      assert.equal(first.status, 503);
      assert.equal(first.json.error.code, 'ServiceUnavailable');
      assert.equal((await put('r', exportDeployment())).status, 201);
      emu.setRateLimit('arm.deployments.get', 1, 1);
      const a = await api('GET', deploymentPath('r'), { query: { 'api-version': API } });
      const b = await api('GET', deploymentPath('r'), { query: { 'api-version': API } });
      assert.equal(a.status, 200);
      assert.equal(b.status, 429);
      assert.ok(Number(b.headers['retry-after']) >= 1);
      assert.equal(emu.requests({ api: 'arm.deployments.put' }).length, 2);
    });
  });
});
