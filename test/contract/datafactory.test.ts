/**
 * Contract tests of the emulated Data Factory REST API (2018-06-01): object
 * CRUD with the service's reference rules and error bodies, triggers (start/stop
 * timing, TriggerEnabledCannotUpdate, event-trigger provisioning), pipeline runs
 * (scripted outcomes, activity runs, cancel, queries) as in
 * shared/reference/api-contracts.md section 5.
 */
import assert from 'node:assert/strict';
import { Emulator } from '../emulator/core';
import { installArm, type ArmEmulator, type FactoryState } from '../emulator/arm';
import { rawClient, waitFor } from './raw-client';

// Response bodies are read loosely on purpose (any field of any response).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const SUB = '21111111-2222-3333-4444-555555555555';
const RG = 'rg-adf';
const APP = '1f1f1f1f-1111-2222-3333-444444444444';
const V = { 'api-version': '2018-06-01' };

const linkedService = (type = 'AzureBlobStorage') => ({
  properties: {
    type,
    typeProperties: {
      connectionString: { type: 'SecureString', value: 'DefaultEndpointsProtocol=https;AccountKey=abc' },
    },
  },
});
const dataset = (ls: string) => ({
  properties: {
    type: 'DelimitedText',
    linkedServiceName: { referenceName: ls, type: 'LinkedServiceReference' },
    typeProperties: {},
  },
});
const pipeline = (activities: unknown[] = [], parameters: Record<string, unknown> = {}) => ({
  properties: { activities, parameters },
});
const notebookActivity = (name: string, ls = 'ls_dbx') => ({
  name,
  type: 'DatabricksNotebook',
  linkedServiceName: { referenceName: ls, type: 'LinkedServiceReference' },
  typeProperties: { notebookPath: `/Shared/${name}` },
});
const scheduleTrigger = (pipelineName: string, extra: Record<string, unknown> = {}) => ({
  properties: {
    type: 'ScheduleTrigger',
    pipelines: [
      { pipelineReference: { referenceName: pipelineName, type: 'PipelineReference' }, parameters: {} },
    ],
    typeProperties: {
      recurrence: { frequency: 'Hour', interval: 1, startTime: '2024-01-01T00:00:00Z', timeZone: 'UTC' },
    },
    ...extra,
  },
});

describe('contract: Azure Data Factory REST API (emulator)', function () {
  let emu: Emulator;
  let arm: ArmEmulator;
  let f: FactoryState;
  let api: ReturnType<typeof rawClient>;
  const base = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.DataFactory/factories/adf1`;
  const get = (p: string) => api('GET', `${base}${p}`, { query: V });
  const putObj = (p: string, json: unknown, headers: Record<string, string> = {}) =>
    api('PUT', `${base}${p}`, { query: V, json, headers });
  const del = (p: string) => api('DELETE', `${base}${p}`, { query: V });
  const post = (p: string, json?: unknown, query: Record<string, string> = {}) =>
    api('POST', `${base}${p}`, { query: { ...V, ...query }, json: json ?? {} });

  before(async () => {
    emu = await Emulator.create({ seed: 3 });
    arm = await installArm(emu, { triggerOperationMs: 60, runQueueMs: 20, cancelMs: 30, listPageSize: 2 });
  });
  after(async () => emu.stop());
  beforeEach(() => {
    emu.reset();
    arm.addResourceGroup(SUB, RG, 'northeurope');
    arm.grant(SUB, APP, 'Data Factory Contributor');
    f = arm.addFactory(SUB, RG, 'adf1');
    api = rawClient({ url: arm.url, caPem: emu.caPem }, { bearer: arm.issueToken({ appId: APP }) });
  });

  describe('control routes', () => {
    it('mirror the controller: resource groups, grants, factories, objects, scripts, options and state', async () => {
      const ctl = rawClient({ url: arm.url, caPem: emu.caPem });
      const sub2 = '31111111-2222-3333-4444-555555555555';
      assert.equal(
        (
          await ctl('POST', '/_emulator/arm/subscriptions', {
            json: { subscriptionId: sub2, tenantId: 't2' },
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await ctl('POST', '/_emulator/arm/resourceGroups', {
            json: { subscriptionId: sub2, name: 'rg2', location: 'uksouth' },
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await ctl('POST', '/_emulator/arm/grants', {
            json: { subscriptionId: sub2, principalId: APP, role: 'Contributor' },
          })
        ).status,
        200,
      );
      const fac = await ctl('POST', '/_emulator/arm/factories', {
        json: { subscriptionId: sub2, resourceGroup: 'rg2', name: 'adf9' },
      });
      assert.equal(fac.json.location, 'uksouth');
      const seeded = await ctl('POST', `/_emulator/arm/factories/${sub2}/rg2/adf9/objects`, {
        json: { kind: 'pipelines', name: 'p', properties: { activities: [] } },
      });
      assert.equal(seeded.status, 200);
      await ctl('POST', `/_emulator/arm/factories/${sub2}/rg2/adf9/objects`, {
        json: {
          kind: 'triggers',
          name: 't',
          properties: scheduleTrigger('p').properties,
          runtimeState: 'Started',
        },
      });
      await ctl('POST', '/_emulator/arm/scripts', {
        json: {
          subscriptionId: sub2,
          resourceGroup: 'rg2',
          factory: 'adf9',
          pipelineName: 'p',
          script: { status: 'Failed', durationMs: 1 },
        },
      });
      assert.equal(
        (await ctl('POST', '/_emulator/arm/options', { json: { triggerOperationMs: 5 } })).status,
        200,
      );
      assert.equal(arm.options.triggerOperationMs, 5);
      assert.equal((await ctl('POST', '/_emulator/arm/options', { json: { nonsense: 1 } })).status, 400);
      const token2 = arm.issueToken({ appId: APP, tenantId: 't2' });
      const run = await api(
        'POST',
        `/subscriptions/${sub2}/resourceGroups/rg2/providers/Microsoft.DataFactory/factories/adf9/pipelines/p/createRun`,
        {
          query: V,
          json: {},
          bearer: token2,
        },
      );
      assert.equal(run.status, 200);
      const dump = await waitFor(async () => {
        const d = await ctl('GET', `/_emulator/arm/factories/${sub2}/rg2/adf9`);
        return d.json.runs[0]?.status === 'Failed' ? d : undefined;
      });
      assert.deepEqual(Object.keys(dump.json.objects).sort(), ['pipelines', 'triggers']);
      assert.deepEqual(dump.json.triggers, { t: 'Started' });
      assert.equal((await ctl('GET', '/_emulator/arm/state')).json.factories.length, 2);
      const url = (
        await ctl('PUT', '/_emulator/arm/files/a/b.json', {
          body: '{"x":1}',
          headers: { 'content-type': 'application/json' },
        })
      ).json.url;
      assert.deepEqual((await ctl('GET', url)).json, { x: 1 });
    });
  });

  describe('factories', () => {
    it('GET and PUT the factory; 404 ResourceNotFound for a missing one', async () => {
      const r = await get('');
      assert.equal(r.status, 200);
      assert.equal(r.json.type, 'Microsoft.DataFactory/factories');
      assert.equal(r.json.location, 'northeurope');
      assert.equal(r.json.properties.provisioningState, 'Succeeded');
      assert.ok(r.json.eTag);
      const missing = await api(
        'GET',
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.DataFactory/factories/nope/pipelines`,
        { query: V },
      );
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json.error, {
        code: 'ResourceNotFound',
        message: `The Resource 'Microsoft.DataFactory/factories/nope' under resource group '${RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        target: null,
        details: null,
      });
      const created = await api(
        'PUT',
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.DataFactory/factories/adf2`,
        {
          query: V,
          json: { location: 'westeurope', identity: { type: 'SystemAssigned' }, properties: {} },
        },
      );
      assert.equal(created.status, 200);
      assert.match(created.json.identity.principalId, /^[0-9a-f-]{36}$/);
      const noLocation = await api(
        'PUT',
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.DataFactory/factories/adf3`,
        { query: V, json: {} },
      );
      assert.equal(noLocation.status, 400);
      assert.equal(noLocation.json.error.code, 'LocationRequired');
      const wrongVersion = await api('GET', base, { query: { 'api-version': '2015-10-01' } });
      assert.equal(wrongVersion.status, 400);
      assert.equal(wrongVersion.json.error.code, 'NoRegisteredProviderFound');
    });
  });

  describe('objects', () => {
    it('PUT returns the resource with id, type and etag; GET, If-None-Match, If-Match', async () => {
      const r = await putObj('/linkedservices/ls_blob', linkedService());
      assert.equal(r.status, 200);
      assert.equal(r.json.id, `${f.id}/linkedservices/ls_blob`);
      assert.equal(r.json.name, 'ls_blob');
      assert.equal(r.json.type, 'Microsoft.DataFactory/factories/linkedservices');
      assert.match(r.json.etag, /^"[0-9a-f-]+"$/);
      assert.equal(
        r.json.properties.typeProperties.connectionString.value,
        '**********',
        'secure strings are masked on reads',
      );
      assert.equal(
        (
          f.definition('linkedServices', 'ls_blob') as {
            typeProperties: { connectionString: { value: string } };
          }
        ).typeProperties.connectionString.value,
        'DefaultEndpointsProtocol=https;AccountKey=abc',
      );
      const g = await get('/linkedServices/LS_BLOB');
      assert.equal(g.status, 200, 'names and path segments are case-insensitive');
      assert.equal(g.json.etag, r.json.etag);
      const cached = await api('GET', `${base}/linkedservices/ls_blob`, {
        query: V,
        headers: { 'if-none-match': r.json.etag },
      });
      assert.equal(cached.status, 304);
      const stale = await putObj('/linkedservices/ls_blob', linkedService(), { 'if-match': '"stale"' });
      assert.equal(stale.status, 412);
      const fresh = await putObj('/linkedservices/ls_blob', linkedService(), { 'if-match': r.json.etag });
      assert.equal(fresh.status, 200);
      assert.notEqual(fresh.json.etag, r.json.etag);
    });

    it('GET of a missing object is 404 NotFound; DELETE is 200, then 204', async () => {
      const missing = await get('/pipelines/nope');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json.error, {
        code: 'NotFound',
        message: 'Entity nope not found',
        target: null,
        details: null,
      });
      await putObj('/pipelines/p1', pipeline());
      assert.equal((await del('/pipelines/p1')).status, 200);
      assert.equal((await del('/pipelines/p1')).status, 204);
    });

    it('lists with value and nextLink paging', async () => {
      for (const n of ['a', 'b', 'c', 'd', 'e']) await putObj(`/pipelines/${n}`, pipeline());
      const names: string[] = [];
      let r = await get('/pipelines');
      for (;;) {
        assert.equal(r.status, 200);
        names.push(...r.json.value.map((x: { name: string }) => x.name));
        if (!r.json.nextLink) break;
        assert.ok(r.json.value.length === 2);
        r = await api('GET', r.json.nextLink);
      }
      assert.deepEqual(names, ['a', 'b', 'c', 'd', 'e']);
    });

    it('rejects a missing reference with the service error (name lower-cased)', async () => {
      const ds = await putObj('/datasets/ds1', dataset('LS_Missing'));
      assert.equal(ds.status, 400);
      assert.deepEqual(ds.json.error, {
        code: 'BadRequest',
        message: "The document creation or update failed because of invalid reference 'ls_missing'.",
        target: null,
        details: null,
      });
      const pl = await putObj(
        '/pipelines/p1',
        pipeline([
          {
            name: 'run',
            type: 'ExecutePipeline',
            typeProperties: { pipeline: { referenceName: 'child', type: 'PipelineReference' } },
          },
        ]),
      );
      assert.equal(pl.status, 400);
      assert.match(pl.json.error.message, /invalid reference 'child'/);
      const tr = await putObj('/triggers/t1', scheduleTrigger('nope'));
      assert.equal(tr.status, 400);
      // Dynamic references and the built-in integration runtime are fine.
      await putObj('/linkedservices/ls_dbx', {
        properties: {
          type: 'AzureDatabricks',
          connectVia: { referenceName: 'AutoResolveIntegrationRuntime', type: 'IntegrationRuntimeReference' },
          typeProperties: {},
        },
      });
      const dyn = await putObj(
        '/pipelines/p2',
        pipeline([
          {
            name: 'x',
            type: 'ExecutePipeline',
            typeProperties: {
              pipeline: { referenceName: '@pipeline().parameters.child', type: 'PipelineReference' },
            },
          },
        ]),
      );
      assert.equal(dyn.status, 200);
      const noProps = await putObj('/pipelines/p3', { name: 'p3' });
      assert.equal(noProps.status, 400);
    });

    it('refuses to delete an object that is still referenced', async () => {
      await putObj('/linkedservices/ls_blob', linkedService());
      await putObj('/datasets/ds1', dataset('ls_blob'));
      const r = await del('/linkedservices/ls_blob');
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.error, {
        code: 'BadRequest',
        message: 'The document cannot be deleted since it is referenced by ds1.',
        target: `${f.id}/linkedservices/ls_blob`,
        details: null,
      });
      assert.equal((await del('/datasets/ds1')).status, 200);
      assert.equal((await del('/linkedservices/ls_blob')).status, 200);
    });

    it('supports data flows, integration runtimes, credentials, global parameters and managed private endpoints', async () => {
      await putObj('/linkedservices/ls_blob', linkedService());
      await putObj('/datasets/ds1', dataset('ls_blob'));
      const df = await putObj('/dataflows/df1', {
        properties: {
          type: 'MappingDataFlow',
          typeProperties: {
            sources: [{ name: 'src', dataset: { referenceName: 'ds1', type: 'DatasetReference' } }],
            sinks: [],
            transformations: [],
            script: '',
          },
        },
      });
      assert.equal(df.status, 200);
      assert.equal(df.json.type, 'Microsoft.DataFactory/factories/dataflows');
      const pl = await putObj(
        '/pipelines/p_df',
        pipeline([
          {
            name: 'flow',
            type: 'ExecuteDataFlow',
            typeProperties: { dataflow: { referenceName: 'df1', type: 'DataFlowReference' } },
          },
        ]),
      );
      assert.equal(pl.status, 200);
      assert.equal(
        (await putObj('/integrationRuntimes/ir-shir', { properties: { type: 'SelfHosted' } })).status,
        200,
      );
      const irStatus = await post('/integrationRuntimes/ir-shir/getStatus');
      assert.equal(irStatus.json.properties.state, 'Online');
      assert.equal(
        (await putObj('/credentials/cred1', { properties: { type: 'ManagedIdentity', typeProperties: {} } }))
          .status,
        200,
      );
      const gp = await putObj('/globalParameters/default', {
        properties: { env: { type: 'String', value: 'test' } },
      });
      assert.equal(gp.status, 200);
      assert.deepEqual((await get('')).json.properties.globalParameters, {
        env: { type: 'String', value: 'test' },
      });
      assert.equal((await putObj('/globalParameters/other', { properties: {} })).status, 400);
      assert.equal((await putObj('/managedVirtualNetworks/default', { properties: {} })).status, 200);
      const mpePath = '/managedVirtualNetworks/default/managedPrivateEndpoints/mpe-sql';
      const mpe = {
        properties: {
          privateLinkResourceId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Sql/servers/sql1',
          groupId: 'sqlServer',
        },
      };
      const m = await putObj(mpePath, mpe);
      assert.equal(m.status, 200);
      assert.equal(
        m.json.type,
        'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints',
      );
      assert.equal(m.json.properties.connectionState.status, 'Approved');
      assert.equal((await putObj(mpePath, mpe)).status, 200, 'an unchanged endpoint is accepted');
      const changed = await putObj(mpePath, { properties: { ...mpe.properties, groupId: 'other' } });
      assert.equal(changed.status, 400);
      assert.equal(
        (await get('/managedVirtualNetworks/default/managedPrivateEndpoints')).json.value.length,
        1,
      );
      assert.equal(
        (await del('/managedVirtualNetworks/default')).status,
        400,
        'a vnet with endpoints cannot be deleted',
      );
    });
  });

  describe('triggers', () => {
    beforeEach(async () => {
      await putObj('/pipelines/p1', pipeline());
    });

    it('creates triggers Stopped (runtimeState is read-only) and starts/stops them taking triggerOperationMs', async () => {
      const t = await putObj('/triggers/t1', scheduleTrigger('p1', { runtimeState: 'Started' }));
      assert.equal(t.status, 200);
      assert.equal(t.json.properties.runtimeState, 'Stopped');
      const t0 = Date.now();
      const start = await post('/triggers/t1/start');
      const took = Date.now() - t0;
      assert.equal(start.status, 200);
      assert.ok(took >= 55, `start took ${took} ms`);
      assert.equal((await get('/triggers/t1')).json.properties.runtimeState, 'Started');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal((await post('/triggers/t1/stop')).status, 200);
      assert.equal(f.triggerRuntimeState('t1'), 'Stopped');
      const iv = arm.triggerStoppedIntervals('adf1');
      assert.equal(iv.length, 1);
      assert.equal(iv[0].trigger, 't1');
      assert.equal(iv[0].startedAt, undefined);
      await post('/triggers/t1/start');
      const closed = arm.triggerStoppedIntervals(f)[0];
      assert.ok(closed.startedAt! >= closed.stoppedAt);
      assert.ok(closed.durationMs >= 100 && closed.durationMs < 1000, `stopped for ${closed.durationMs} ms`);
    });

    it('answers TriggerEnabledCannotUpdate (exact body) for PUT and DELETE of a started trigger', async () => {
      await putObj('/triggers/t1', scheduleTrigger('p1'));
      await post('/triggers/t1/start');
      const expected = {
        error: {
          code: 'TriggerEnabledCannotUpdate',
          message: 'Cannot update enabled Trigger; the trigger needs to be disabled first. ',
          target: null,
          details: null,
        },
      };
      const p = await putObj('/triggers/t1', scheduleTrigger('p1'));
      assert.equal(p.status, 400);
      assert.deepEqual(p.json, expected);
      const d = await del('/triggers/t1');
      assert.equal(d.status, 400);
      assert.deepEqual(d.json, expected);
      const pl = await del('/pipelines/p1');
      assert.equal(pl.status, 400, 'a pipeline referenced by a trigger cannot be deleted');
      assert.match(pl.json.error.message, /referenced by t1/);
    });

    it('serialises concurrent operations on one trigger and runs different triggers in parallel', async () => {
      arm.setOptions({ triggerOperationMs: 150 });
      for (const n of ['t1', 't2', 't3']) await putObj(`/triggers/${n}`, scheduleTrigger('p1'));
      const t0 = Date.now();
      await Promise.all(['t1', 't2', 't3'].map((n) => post(`/triggers/${n}/start`)));
      const parallel = Date.now() - t0;
      assert.ok(
        parallel >= 145 && parallel < 400,
        `three triggers started in parallel in ${parallel} ms (sequentially: 450)`,
      );
      const t1 = Date.now();
      await Promise.all([post('/triggers/t1/stop'), post('/triggers/t1/start')]);
      assert.ok(Date.now() - t1 >= 295, 'operations on one trigger run one after the other');
      assert.equal(f.triggerRuntimeState('t1'), 'Started');
    });

    it('rejects starting a trigger with missing pipeline references', async () => {
      arm.setOptions({ validateTriggerReferences: false });
      await putObj('/triggers/t_orphan', scheduleTrigger('gone'));
      const r = await post('/triggers/t_orphan/start');
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.error, {
        code: 'BadRequest',
        message: 'Missing or invalid pipeline references for trigger t_orphan',
        target: 't_orphan',
        details: null,
      });
      assert.equal((await post('/triggers/nope/start')).status, 404);
    });

    it('starts a tumbling window trigger, whose one pipeline is under properties.pipeline', async () => {
      const tumbling = (pipelineName: string) => ({
        properties: {
          type: 'TumblingWindowTrigger',
          typeProperties: {
            frequency: 'Hour',
            interval: 1,
            startTime: '2024-01-01T00:00:00Z',
            delay: '00:00:00',
            maxConcurrency: 1,
            retryPolicy: { intervalInSeconds: 30 },
            dependsOn: [],
          },
          pipeline: {
            pipelineReference: { referenceName: pipelineName, type: 'PipelineReference' },
            parameters: { windowStart: '@trigger().outputs.windowStartTime' },
          },
        },
      });
      assert.equal((await putObj('/triggers/tw', tumbling('p1'))).status, 200);
      assert.equal((await post('/triggers/tw/start')).status, 200);
      assert.equal(f.triggerRuntimeState('tw'), 'Started');
      assert.equal((await post('/triggers/tw/stop')).status, 200);

      arm.setOptions({ validateTriggerReferences: false });
      await putObj('/triggers/tw_orphan', tumbling('gone'));
      const r = await post('/triggers/tw_orphan/start');
      assert.equal(r.status, 400);
      assert.equal(r.json.error.message, 'Missing or invalid pipeline references for trigger tw_orphan');
    });

    it('event triggers answer "cannot be updated during provisioning" for a while after an update or stop', async () => {
      arm.setOptions({ eventTriggerProvisioningMs: 400, triggerOperationMs: 10 });
      const blob = {
        properties: {
          type: 'BlobEventsTrigger',
          pipelines: [{ pipelineReference: { referenceName: 'p1', type: 'PipelineReference' } }],
          typeProperties: {
            blobPathBeginsWith: '/in/blobs/',
            events: ['Microsoft.Storage.BlobCreated'],
            scope: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z',
          },
        },
      };
      await putObj('/triggers/ev', blob);
      const early = await post('/triggers/ev/start');
      assert.equal(early.status, 400);
      assert.deepEqual(early.json.error, {
        code: 'BadRequest',
        message: 'Resource cannot be updated during provisioning',
        target: 'ev',
        details: null,
      });
      const status = await post('/triggers/ev/getEventSubscriptionStatus');
      assert.deepEqual(status.json, { triggerName: 'ev', status: 'Deprovisioning' });
      await waitFor(async () => ((await post('/triggers/ev/start')).status === 200 ? true : undefined), {
        timeoutMs: 2000,
        intervalMs: 30,
      });
      assert.equal((await post('/triggers/ev/getEventSubscriptionStatus')).json.status, 'Enabled');
      await post('/triggers/ev/stop');
      assert.equal(
        (await post('/triggers/ev/start')).status,
        400,
        'unsubscribing after stop also takes a while',
      );
    });
  });

  describe('pipeline runs', () => {
    beforeEach(async () => {
      await putObj('/linkedservices/ls_dbx', {
        properties: {
          type: 'AzureDatabricks',
          typeProperties: { domain: 'https://adb-1.1.azuredatabricks.net' },
        },
      });
      await putObj(
        '/pipelines/pl_train',
        pipeline([notebookActivity('prepare'), notebookActivity('train')], {
          env: { type: 'string', defaultValue: 'dev' },
          date: { type: 'string' },
        }),
      );
    });

    const runStatus = async (runId: string) => (await get(`/pipelineruns/${runId}`)).json;
    const until = (runId: string, states: string[]) =>
      waitFor(
        async () => {
          const r = await runStatus(runId);
          return states.includes(r.status) ? r : undefined;
        },
        { what: `run ${runId} to reach ${states.join('/')}` },
      );
    const activities = async (runId: string, filters: unknown[] = []) => {
      const r = await post(`/pipelineruns/${runId}/queryActivityruns`, {
        lastUpdatedAfter: new Date(Date.now() - 60_000).toISOString(),
        lastUpdatedBefore: new Date(Date.now() + 60_000).toISOString(),
        filters,
      });
      assert.equal(r.status, 200);
      return r.json.value as Json[];
    };

    it('createRun returns a runId; the run goes Queued → InProgress → Succeeded', async () => {
      arm.scriptPipelineRun(f, 'pl_train', { status: 'Succeeded', queueMs: 250, durationMs: 300 });
      const r = await post('/pipelines/pl_train/createRun', { date: '2024-05-01', env: { x: 1 } });
      assert.equal(r.status, 200);
      assert.match(r.json.runId, /^[0-9a-f-]{36}$/);
      const first = await runStatus(r.json.runId);
      assert.equal(first.status, 'Queued');
      assert.equal(first.pipelineName, 'pl_train');
      assert.deepEqual(first.parameters, { date: '2024-05-01', env: '{"x":1}' });
      assert.deepEqual(first.invokedBy.name, 'Manual');
      assert.equal(first.runEnd, null);
      await until(r.json.runId, ['InProgress']);
      const done = await until(r.json.runId, ['Succeeded']);
      assert.ok(done.durationInMs >= 550);
      assert.equal(done.message, '');
      assert.ok(Date.parse(done.runEnd) >= Date.parse(done.runStart));
      const acts = await activities(r.json.runId);
      assert.deepEqual(
        acts.map((a) => [a.activityName, a.activityType, a.status]),
        [
          ['prepare', 'DatabricksNotebook', 'Succeeded'],
          ['train', 'DatabricksNotebook', 'Succeeded'],
        ],
      );
      assert.deepEqual(acts[0].error, {
        errorCode: '',
        message: '',
        failureType: '',
        target: 'prepare',
        details: '',
      });
    });

    it('a scripted failure in a Databricks notebook activity: run message, activity error and runPageUrl', async () => {
      const runPageUrl = 'https://adb-1.1.azuredatabricks.net/?o=1#job/11/run/22';
      arm.scriptPipelineRun(
        f,
        'pl_train',
        {
          status: 'Failed',
          durationMs: 80,
          activities: [
            {
              activityName: 'prepare',
              status: 'Succeeded',
              output: {
                runPageUrl: 'https://adb-1.1.azuredatabricks.net/?o=1#job/10/run/21',
                runOutput: 'ok',
              },
            },
            {
              activityName: 'train',
              status: 'Failed',
              error: {
                errorCode: '3204',
                message: 'AssertionError: accuracy 0.61 < 0.8',
                failureType: 'UserError',
              },
              output: { runPageUrl },
            },
          ],
        },
        { once: true },
      );
      const r = await post('/pipelines/pl_train/createRun', { date: 'x' });
      const done = await until(r.json.runId, ['Failed', 'Succeeded']);
      assert.equal(done.status, 'Failed');
      assert.equal(done.message, 'Operation on target train failed: AssertionError: accuracy 0.61 < 0.8');
      const failed = await activities(r.json.runId, [
        { operand: 'Status', operator: 'Equals', values: ['Failed'] },
      ]);
      assert.equal(failed.length, 1);
      assert.equal(failed[0].activityName, 'train');
      assert.equal(failed[0].activityType, 'DatabricksNotebook');
      assert.equal(failed[0].pipelineRunId, r.json.runId);
      assert.deepEqual(failed[0].error, {
        errorCode: '3204',
        message: 'AssertionError: accuracy 0.61 < 0.8',
        failureType: 'UserError',
        target: 'train',
        details: '',
      });
      assert.equal(failed[0].output.runPageUrl, runPageUrl);
      for (const k of ['activityRunId', 'activityRunStart', 'activityRunEnd', 'durationInMs', 'input'])
        assert.ok(k in failed[0], k);
      // The once-script is used up: the next run succeeds.
      const next = await post('/pipelines/pl_train/createRun', { date: 'x' });
      assert.equal((await until(next.json.runId, ['Failed', 'Succeeded'])).status, 'Succeeded');
    });

    it('cancel moves a run through Canceling to Cancelled; cancelling a finished run changes nothing', async () => {
      arm.setOptions({ cancelMs: 300 });
      arm.scriptPipelineRun(f, 'pl_train', {
        durationMs: 5000,
        activities: [{ activityName: 'prepare' }, { activityName: 'train' }],
      });
      const r = await post('/pipelines/pl_train/createRun', { date: 'x' });
      await until(r.json.runId, ['InProgress']);
      assert.equal(
        (await post(`/pipelineruns/${r.json.runId}/cancel`, undefined, { isRecursive: 'true' })).status,
        200,
      );
      assert.equal((await runStatus(r.json.runId)).status, 'Canceling');
      const done = await until(r.json.runId, ['Cancelled']);
      assert.ok(done.runEnd);
      const acts = await activities(r.json.runId);
      assert.deepEqual(
        acts.map((a) => [a.activityName, a.status]),
        [['prepare', 'Cancelled']],
      );
      assert.equal((await post(`/pipelineruns/${r.json.runId}/cancel`)).status, 200);
      assert.equal((await runStatus(r.json.runId)).status, 'Cancelled');
    });

    it('createRun errors: unknown pipeline, missing required parameter, bad referencePipelineRunId', async () => {
      const unknown = await post('/pipelines/nope/createRun', {});
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error.code, 'NotFound');
      const missing = await post('/pipelines/pl_train/createRun', {});
      assert.equal(missing.status, 400);
      assert.match(missing.json.error.message, /'date'/);
      const ref = await post(
        '/pipelines/pl_train/createRun',
        { date: 'x' },
        { referencePipelineRunId: '00000000-0000-0000-0000-000000000000', isRecovery: 'true' },
      );
      assert.equal(ref.status, 400);
      assert.deepEqual(ref.json.error, {
        code: 'ReferencedPipelineRunNotValid',
        message: 'Referenced pipeline run id 00000000-0000-0000-0000-000000000000 is not a valid run id.',
        target: 'pipeline/pl_train/',
        details: null,
      });
      const run404 = await get('/pipelineruns/00000000-0000-0000-0000-000000000000');
      assert.equal(run404.status, 404);
    });

    it('queryPipelineRuns filters, orders and pages with continuationToken', async () => {
      await putObj('/pipelines/other', pipeline());
      arm.setOptions({ queryPageSize: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await post('/pipelines/pl_train/createRun', { date: String(i) })).json.runId);
      await post('/pipelines/other/createRun', {});
      const body = {
        lastUpdatedAfter: new Date(Date.now() - 60_000).toISOString(),
        lastUpdatedBefore: new Date(Date.now() + 60_000).toISOString(),
        filters: [{ operand: 'PipelineName', operator: 'Equals', values: ['pl_train'] }],
        orderBy: [{ orderBy: 'RunStart', order: 'ASC' }],
      };
      const page1 = await post('/queryPipelineRuns', body);
      assert.equal(page1.status, 200);
      assert.equal(page1.json.value.length, 2);
      assert.ok(page1.json.continuationToken);
      const page2 = await post('/queryPipelineRuns', {
        ...body,
        continuationToken: page1.json.continuationToken,
      });
      assert.equal(page2.json.value.length, 1);
      assert.equal(page2.json.continuationToken, undefined);
      assert.deepEqual(
        [...page1.json.value, ...page2.json.value].map((r: { runId: string }) => r.runId).sort(),
        [...ids].sort(),
      );
      const missingDates = await post('/queryPipelineRuns', { filters: [] });
      assert.equal(missingDates.status, 400);
    });

    it('rate limits and faults apply to the documented api names', async () => {
      const r = await post('/pipelines/pl_train/createRun', { date: 'x' });
      emu.setRateLimit('adf.pipelineruns.get', 1, 1);
      assert.equal((await get(`/pipelineruns/${r.json.runId}`)).status, 200);
      const limited = await get(`/pipelineruns/${r.json.runId}`);
      assert.equal(limited.status, 429);
      assert.ok(limited.headers['retry-after']);
      emu.addFault({ kind: '500', api: 'adf.pipelines.put', count: 1 });
      assert.equal((await putObj('/pipelines/p9', pipeline())).status, 500);
      assert.equal((await putObj('/pipelines/p9', pipeline())).status, 200);
      assert.equal(emu.requests({ api: 'adf.pipelines.createRun' }).length, 1);
      assert.ok(
        emu
          .requests({ api: 'adf.pipelines.put' })
          .every((e) => e.headers['content-type']?.startsWith('application/json')),
      );
    });
  });
});
