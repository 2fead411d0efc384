/**
 * Azure Data Factory REST API (api-version 2018-06-01) on the emulated
 * Resource Manager host. Registered by installArm() in arm.ts; state lives in
 * azure/factory.ts (shared with ARM deployments).
 *
 * Routes (base: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataFactory/factories;
 * literal segments match case-insensitively) and their api names for faults,
 * latency and rate limits:
 *   GET    {base}                                   adf.factories.list
 *   GET|PUT|DELETE {base}/{f}                       adf.factories.get|put|delete
 *   GET    {base}/{f}/{kind}                        adf.{kind}.list      (value + nextLink paging)
 *   GET|PUT|DELETE {base}/{f}/{kind}/{name}         adf.{kind}.get|put|delete
 *     kind: pipelines, datasets, linkedServices, dataflows, triggers, integrationRuntimes,
 *           credentials, globalParameters, managedVirtualNetworks
 *   GET|PUT|DELETE {base}/{f}/managedVirtualNetworks/{vnet}/managedPrivateEndpoints[/{name}]
 *                                                   adf.managedPrivateEndpoints.*
 *   POST   {base}/{f}/triggers/{t}/start|stop       adf.triggers.start|stop  (take triggerOperationMs)
 *   POST   {base}/{f}/triggers/{t}/getEventSubscriptionStatus   adf.triggers.getEventSubscriptionStatus
 *   POST   {base}/{f}/pipelines/{p}/createRun       adf.pipelines.createRun
 *   POST   {base}/{f}/queryPipelineRuns             adf.pipelineruns.query
 *   GET    {base}/{f}/pipelineruns/{runId}          adf.pipelineruns.get
 *   POST   {base}/{f}/pipelineruns/{runId}/cancel   adf.pipelineruns.cancel
 *   POST   {base}/{f}/pipelineruns/{runId}/queryActivityruns    adf.activityruns.query
 *   POST   {base}/{f}/integrationRuntimes/{ir}/getStatus         adf.integrationRuntimes.getStatus
 */
import type { EmuRequest, EmuResponse } from './core';
import { azureError, headerValue, isObject, lower, queryParam, type AzureError } from './azure/common';
import { PipelineRun } from './azure/runs';
import type { ArmCall, ArmHttp } from './azure/http';
import type { AzureState } from './azure/state';
import type { AdfKind, FactoryState } from './azure/factory';

const BASE = '/subscriptions/:sub/resourceGroups/:rg/providers/Microsoft.DataFactory/factories';
const ACTION = 'Microsoft.DataFactory/factories';

const ROUTED_KINDS: AdfKind[] = [
  'pipelines',
  'datasets',
  'linkedServices',
  'dataflows',
  'triggers',
  'integrationRuntimes',
  'credentials',
  'globalParameters',
  'managedVirtualNetworks',
];

export function registerDataFactoryRoutes(h: ArmHttp, state: AzureState): void {
  const opts = (action: string) => ({ action, apiVersions: 'datafactory' as const });

  const withFactory = (
    c: ArmCall,
    fn: (f: FactoryState) => EmuResponse | Promise<EmuResponse>,
  ): EmuResponse | Promise<EmuResponse> => {
    const rg = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
    if (!rg)
      return h.error(
        azureError(404, 'ResourceGroupNotFound', `Resource group '${c.req.params.rg}' could not be found.`),
      );
    const f = state.factory(rg.subscriptionId, rg.name, c.req.params.factory);
    if (!f) {
      return h.error(
        azureError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.DataFactory/factories/${c.req.params.factory}' under resource group '${rg.name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        ),
      );
    }
    return fn(f);
  };

  const page = (req: EmuRequest, items: unknown[]): EmuResponse => {
    const size = state.options.listPageSize;
    const skip = Number(queryParam(req.query, '$skipToken') ?? 0) || 0;
    const body: Record<string, unknown> = { value: items.slice(skip, skip + size) };
    if (skip + size < items.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skipToken', String(skip + size));
      body.nextLink = `${h.host.url}${req.path}?${q.toString()}`;
    }
    return h.json(200, body);
  };

  // ---- factories -------------------------------------------------------------------------

  h.route('GET', BASE, 'adf.factories.list', opts(`${ACTION}/read`), (c) => {
    const rg = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
    if (!rg)
      return h.error(
        azureError(404, 'ResourceGroupNotFound', `Resource group '${c.req.params.rg}' could not be found.`),
      );
    return page(
      c.req,
      state.factoriesIn(rg.subscriptionId, rg.name).map((f) => f.factoryResource()),
    );
  });
  h.route('GET', `${BASE}/:factory`, 'adf.factories.get', opts(`${ACTION}/read`), (c) =>
    withFactory(c, (f) => h.json(200, f.factoryResource())),
  );
  h.route('PUT', `${BASE}/:factory`, 'adf.factories.put', opts(`${ACTION}/write`), (c) => {
    const rg = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
    if (!rg)
      return h.error(
        azureError(404, 'ResourceGroupNotFound', `Resource group '${c.req.params.rg}' could not be found.`),
      );
    const body = isObject(c.req.body) ? c.req.body : {};
    let f = state.factory(rg.subscriptionId, rg.name, c.req.params.factory);
    if (!f) {
      if (typeof body.location !== 'string' || body.location === '') {
        return h.error(
          azureError(400, 'LocationRequired', 'The location property is required for this definition.'),
        );
      }
      f = state.addFactory(rg.subscriptionId, rg.name, c.req.params.factory, body.location);
    }
    f.putFactory(body, state.tenantOf(rg.subscriptionId));
    return h.json(200, f.factoryResource());
  });
  h.route('DELETE', `${BASE}/:factory`, 'adf.factories.delete', opts(`${ACTION}/delete`), (c) => {
    const rg = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
    if (!rg)
      return h.error(
        azureError(404, 'ResourceGroupNotFound', `Resource group '${c.req.params.rg}' could not be found.`),
      );
    return { status: state.deleteFactory(rg.subscriptionId, rg.name, c.req.params.factory) ? 200 : 204 };
  });

  // ---- factory objects -------------------------------------------------------------------

  const objectRoutes = (
    kind: AdfKind,
    collection: string,
    nameOf: (c: ArmCall) => string,
    vnetOf?: (c: ArmCall) => string,
  ) => {
    const action = `${ACTION}/${lower(kind)}`;
    h.route('GET', collection, `adf.${kind}.list`, opts(`${action}/read`), (c) =>
      withFactory(c, (f) =>
        page(
          c.req,
          f.list(kind, vnetOf?.(c)).map((o) => f.toResource(o)),
        ),
      ),
    );
    h.route('GET', `${collection}/:name`, `adf.${kind}.get`, opts(`${action}/read`), (c) =>
      withFactory(c, (f) => {
        const o = f.get(kind, nameOf(c));
        if (!o)
          return h.error(azureError(404, 'NotFound', state.options.notFoundMessage(kind, c.req.params.name)));
        if (headerValue(c.req.headers, 'if-none-match') === o.etag) return { status: 304 };
        return h.json(200, f.toResource(o));
      }),
    );
    h.route('PUT', `${collection}/:name`, `adf.${kind}.put`, opts(`${action}/write`), (c) =>
      withFactory(c, (f) => {
        const res = f.put(kind, nameOf(c), c.req.body, { ifMatch: headerValue(c.req.headers, 'if-match') });
        if (!res.ok) return h.error(res.error);
        return h.json(res.status, f.toResource(res.object));
      }),
    );
    h.route('DELETE', `${collection}/:name`, `adf.${kind}.delete`, opts(`${action}/delete`), (c) =>
      withFactory(c, (f) => {
        const res = f.delete(kind, nameOf(c));
        if (!res.ok) return h.error(res.error);
        return { status: res.status };
      }),
    );
  };
  for (const kind of ROUTED_KINDS) objectRoutes(kind, `${BASE}/:factory/${kind}`, (c) => c.req.params.name);
  objectRoutes(
    'managedPrivateEndpoints',
    `${BASE}/:factory/managedVirtualNetworks/:vnet/managedPrivateEndpoints`,
    (c) => `${c.req.params.vnet}/${c.req.params.name}`,
    (c) => c.req.params.vnet,
  );

  // ---- triggers ------------------------------------------------------------------------

  for (const action of ['start', 'stop'] as const) {
    h.route(
      'POST',
      `${BASE}/:factory/triggers/:name/${action}`,
      `adf.triggers.${action}`,
      opts(`${ACTION}/triggers/${action}/action`),
      (c) =>
        withFactory(c, async (f) => {
          const res = await f.triggerOperation(action, c.req.params.name);
          if (!res.ok) return h.error(res.error);
          return { status: 200 };
        }),
    );
  }
  h.route(
    'POST',
    `${BASE}/:factory/triggers/:name/getEventSubscriptionStatus`,
    'adf.triggers.getEventSubscriptionStatus',
    opts(`${ACTION}/triggers/geteventsubscriptionstatus/action`),
    (c) =>
      withFactory(c, (f) => {
        const t = f.get('triggers', c.req.params.name);
        if (!t)
          return h.error(
            azureError(404, 'NotFound', state.options.notFoundMessage('triggers', c.req.params.name)),
          );
        const provisioning = t.provisioningUntil !== undefined && Date.now() < t.provisioningUntil;
        const status = provisioning
          ? t.runtimeState === 'Started'
            ? 'Provisioning'
            : 'Deprovisioning'
          : t.runtimeState === 'Started'
            ? 'Enabled'
            : 'Disabled';
        return h.json(200, { triggerName: t.name, status });
      }),
  );

  // ---- integration runtimes --------------------------------------------------------------

  h.route(
    'POST',
    `${BASE}/:factory/integrationRuntimes/:name/getStatus`,
    'adf.integrationRuntimes.getStatus',
    opts(`${ACTION}/integrationruntimes/getstatus/action`),
    (c) =>
      withFactory(c, (f) => {
        const ir = f.get('integrationRuntimes', c.req.params.name);
        if (!ir && lower(c.req.params.name) !== 'autoresolveintegrationruntime') {
          return h.error(
            azureError(
              404,
              'NotFound',
              state.options.notFoundMessage('integrationRuntimes', c.req.params.name),
            ),
          );
        }
        return h.json(200, {
          name: ir?.name ?? 'AutoResolveIntegrationRuntime',
          properties: {
            dataFactoryName: f.name,
            type: String(ir?.properties.type ?? 'Managed'),
            state: 'Online',
          },
        });
      }),
  );

  // ---- runs ----------------------------------------------------------------------------

  h.route(
    'POST',
    `${BASE}/:factory/pipelines/:name/createRun`,
    'adf.pipelines.createRun',
    opts(`${ACTION}/pipelines/createrun/action`),
    (c) =>
      withFactory(c, (f) => {
        const res = f.createRun(c.req.params.name, c.req.body, {
          referencePipelineRunId: queryParam(c.req.query, 'referencePipelineRunId') || undefined,
        });
        if (!res.ok) return h.error(res.error);
        return h.json(200, { runId: res.run.runId });
      }),
  );
  h.route(
    'GET',
    `${BASE}/:factory/pipelineruns/:runId`,
    'adf.pipelineruns.get',
    opts(`${ACTION}/pipelineruns/read`),
    (c) =>
      withFactory(c, (f) => {
        const run = f.run(c.req.params.runId);
        if (!run) return h.error(f.runNotFound(c.req.params.runId));
        return h.json(200, run.toJson());
      }),
  );
  h.route(
    'POST',
    `${BASE}/:factory/pipelineruns/:runId/cancel`,
    'adf.pipelineruns.cancel',
    opts(`${ACTION}/pipelineruns/cancel/action`),
    (c) =>
      withFactory(c, (f) => {
        const run = f.run(c.req.params.runId);
        if (!run) return h.error(f.runNotFound(c.req.params.runId));
        // Cancelling a finished run is accepted and changes nothing [unverified].
        if (run.cancel()) state.changed();
        return { status: 200 };
      }),
  );
  h.route(
    'POST',
    `${BASE}/:factory/pipelineruns/:runId/queryActivityruns`,
    'adf.activityruns.query',
    opts(`${ACTION}/pipelineruns/queryactivityruns/action`),
    (c) =>
      withFactory(c, (f) => {
        const run = f.run(c.req.params.runId);
        if (!run) return h.error(f.runNotFound(c.req.params.runId));
        const q = parseQuery(c.req.body);
        if ('status' in q) return h.error(q);
        const bad = unknownOperand(q.filters, ['activityname', 'activitytype', 'status', 'activityrunid']);
        if (bad) return h.error(bad);
        const rows = run
          .activityRuns()
          .filter((a) => inWindow(PipelineRun.activityLastUpdated(a), q))
          .filter((a) =>
            matchFilters(q.filters, {
              activityname: a.activityName,
              activitytype: a.activityType,
              status: a.status,
              activityrunid: a.activityRunId,
            }),
          );
        sortRows(
          rows,
          q.orderBy,
          {
            activityrunstart: 'activityRunStart',
            activityrunend: 'activityRunEnd',
            activityname: 'activityName',
            status: 'status',
          },
          'activityRunStart',
          'ASC',
        );
        return h.json(200, pageQuery(rows, q.continuationToken, state.options.queryPageSize));
      }),
  );
  h.route(
    'POST',
    `${BASE}/:factory/queryPipelineRuns`,
    'adf.pipelineruns.query',
    opts(`${ACTION}/querypipelineruns/action`),
    (c) =>
      withFactory(c, (f) => {
        const q = parseQuery(c.req.body);
        if ('status' in q) return h.error(q);
        const bad = unknownOperand(q.filters, [
          'pipelinename',
          'status',
          'rungroupid',
          'triggername',
          'latestonly',
          'runid',
        ]);
        if (bad) return h.error(bad);
        const rows = [...f.runs.values()]
          .map((r) => r.toJson())
          .filter((r) => inWindow(Date.parse(String(r.lastUpdated)), q))
          .filter((r) =>
            matchFilters(q.filters, {
              pipelinename: r.pipelineName,
              status: r.status,
              rungroupid: r.runGroupId,
              runid: r.runId,
              triggername: (r.invokedBy as { name?: string }).name,
            }),
          );
        sortRows(
          rows,
          q.orderBy,
          { runstart: 'runStart', runend: 'runEnd', pipelinename: 'pipelineName', status: 'status' },
          'runStart',
          'DESC',
        );
        return h.json(200, pageQuery(rows, q.continuationToken, state.options.queryPageSize));
      }),
  );
}

interface RunQuery {
  after: number;
  before: number;
  filters: { operand: string; operator: string; values: unknown[] }[];
  orderBy: { orderBy: string; order: string }[];
  continuationToken?: string;
}

function parseQuery(body: unknown): RunQuery | AzureError {
  const b = isObject(body) ? body : {};
  const after = Date.parse(String(b.lastUpdatedAfter ?? ''));
  const before = Date.parse(String(b.lastUpdatedBefore ?? ''));
  if (b.lastUpdatedAfter === undefined || b.lastUpdatedBefore === undefined) {
    return azureError(
      400,
      'BadRequest',
      "The request must specify 'lastUpdatedAfter' and 'lastUpdatedBefore'.",
    );
  }
  if (Number.isNaN(after) || Number.isNaN(before)) {
    return azureError(
      400,
      'BadRequest',
      "'lastUpdatedAfter' and 'lastUpdatedBefore' must be ISO 8601 date-times.",
    );
  }
  const filters = (Array.isArray(b.filters) ? b.filters : []).filter(isObject).map((f) => ({
    operand: String(f.operand ?? ''),
    operator: String(f.operator ?? 'Equals'),
    values: Array.isArray(f.values) ? f.values : [],
  }));
  const orderBy = (Array.isArray(b.orderBy) ? b.orderBy : [])
    .filter(isObject)
    .map((o) => ({ orderBy: String(o.orderBy ?? ''), order: String(o.order ?? 'ASC') }));
  return {
    after,
    before,
    filters,
    orderBy,
    continuationToken: typeof b.continuationToken === 'string' ? b.continuationToken : undefined,
  };
}

function inWindow(t: number, q: RunQuery): boolean {
  return t >= q.after && t <= q.before;
}

function unknownOperand(filters: RunQuery['filters'], known: string[]): AzureError | undefined {
  const bad = filters.find((f) => !known.includes(lower(f.operand)));
  return bad
    ? azureError(400, 'BadRequest', `The filter operand '${bad.operand}' is not supported by this emulator.`)
    : undefined;
}

function matchFilters(filters: RunQuery['filters'], fields: Record<string, unknown>): boolean {
  return filters.every((f) => {
    const op = lower(f.operand);
    if (op === 'latestonly') return true;
    const v = String(fields[op] ?? '');
    const values = f.values.map(String);
    switch (lower(f.operator)) {
      case 'equals':
      case 'in':
        return values.includes(v);
      case 'notequals':
      case 'notin':
        return !values.includes(v);
      default:
        return false;
    }
  });
}

function sortRows(
  rows: Record<string, unknown>[],
  orderBy: RunQuery['orderBy'],
  fields: Record<string, string>,
  defaultField: string,
  defaultOrder: 'ASC' | 'DESC',
): void {
  const spec =
    orderBy.length > 0
      ? orderBy.map((o) => ({
          field: fields[lower(o.orderBy)] ?? defaultField,
          desc: lower(o.order) === 'desc',
        }))
      : [{ field: defaultField, desc: defaultOrder === 'DESC' }];
  rows.sort((a, b) => {
    for (const s of spec) {
      const x = String(a[s.field] ?? '');
      const y = String(b[s.field] ?? '');
      if (x !== y) return (x < y ? -1 : 1) * (s.desc ? -1 : 1);
    }
    return 0;
  });
}

function pageQuery(rows: unknown[], token: string | undefined, size: number): Record<string, unknown> {
  const skip = token ? Number(Buffer.from(token, 'base64').toString('utf8')) || 0 : 0;
  const out: Record<string, unknown> = { value: rows.slice(skip, skip + size) };
  if (skip + size < rows.length) out.continuationToken = Buffer.from(String(skip + size)).toString('base64');
  return out;
}
