/**
 * Azure Resource Manager emulator plugin: host 'management' (role 'arm', error
 * style 'azure') serving resource groups, ARM resource-group deployments and
 * the Data Factory 2018-06-01 API (datafactory.ts). installArm() installs both.
 *
 * API names (for emu.addFault / setLatency / setRateLimit / requests()):
 *   arm.subscriptions.get, arm.resourceGroups.get|head|put, arm.resources.list,
 *   arm.deployments.put|get|head|delete|list, arm.operationStatuses, arm.operationResults,
 *   arm.deployments.operations, arm.deployments.validate, arm.deployments.whatIf,
 *   arm.deployments.cancel, and the adf.* names listed in datafactory.ts.
 *
 * Every response carries x-ms-request-id, x-ms-correlation-request-id (echoed when
 * the client sends one) and x-ms-ratelimit-remaining-subscription-reads|writes|deletes.
 *
 * Authentication: a bearer token minted by emu.tokens (e.g. by the Entra plugin)
 * whose aud is Resource Manager (options.audiences or this host's URL, with or
 * without trailing slash). Missing header → 401 AuthenticationFailed; bad token →
 * 401 InvalidAuthenticationToken; expired → 401 ExpiredAuthenticationToken; wrong
 * audience → 401 InvalidAuthenticationTokenAudience; token tenant ≠ subscription
 * tenant → 401 InvalidAuthenticationTokenTenant. Authorization: grant(sub,
 * principal, role) where principal is the token's appid (or oid); no grant → 403
 * AuthorizationFailed with ARM's message. options.allowAllPrincipals skips grants.
 *
 * Control routes (no auth, not journaled), all POST unless noted, JSON bodies:
 *   /_emulator/arm/subscriptions      {subscriptionId, tenantId?, displayName?}
 *   /_emulator/arm/resourceGroups     {subscriptionId, name, location}
 *   /_emulator/arm/grants             {subscriptionId, principalId, role?, resourceGroup?}
 *   /_emulator/arm/factories          {subscriptionId, resourceGroup, name, location?}
 *   GET /_emulator/arm/factories/{sub}/{rg}/{name}   objects, trigger states, runs, stopped intervals
 *   /_emulator/arm/factories/{sub}/{rg}/{name}/objects   {kind, name, properties, runtimeState?}
 *   /_emulator/arm/scripts            {subscriptionId, resourceGroup, factory, pipelineName, script, once?}
 *   /_emulator/arm/options            partial ArmOptions (timings, page sizes, limits)
 *   /_emulator/arm/keyVaultSecrets    {vaultId, name, value}
 *   GET /_emulator/arm/triggerStoppedIntervals, GET /_emulator/arm/deployments, GET /_emulator/arm/state
 *   PUT|GET /_emulator/arm/files/{path}   linked templates (raw body), served to deployments
 */
import type { EmuHost, EmuResponse, Emulator } from './core';
import { azureError, isObject, lower, rgId } from './azure/common';
import { DeploymentsEngine, type DeploymentRecord } from './azure/deployments';
import { ADF_KINDS, type FactoryState, type TriggerStoppedInterval } from './azure/factory';
import { ArmHttp } from './azure/http';
import type { PipelineRunScript } from './azure/runs';
import { AzureState, defaultArmOptions, type ArmOptions, type ResourceGroup, type Role } from './azure/state';
import { registerDataFactoryRoutes } from './datafactory';

export type { ArmOptions, Role } from './azure/state';
export type { AdfKind, FactoryState, TriggerStoppedInterval } from './azure/factory';
export type { PipelineRunScript, ActivityScript } from './azure/runs';
export type { DeploymentRecord } from './azure/deployments';

export class ArmEmulator {
  readonly state: AzureState;
  readonly deployments: DeploymentsEngine;
  private readonly http: ArmHttp;
  private readonly initialOptions: ArmOptions;

  constructor(
    readonly emu: Emulator,
    readonly host: EmuHost,
    options: Partial<ArmOptions> = {},
  ) {
    this.initialOptions = { ...defaultArmOptions(), ...options };
    this.state = new AzureState({ ...this.initialOptions });
    this.http = new ArmHttp(emu, host, this.state);
    this.deployments = new DeploymentsEngine(this.state, this.http);
  }

  /** Resource Manager URL for connections (no trailing slash). */
  get url(): string {
    return this.host.url;
  }

  /** Live options: change timings at any time (e.g. arm.options.triggerOperationMs = 2000). */
  get options(): ArmOptions {
    return this.state.options;
  }

  setOptions(o: Partial<ArmOptions>): void {
    Object.assign(this.state.options, o);
  }

  /** Bumped on every state change: compare before/after to prove a call wrote nothing. */
  get changeCount(): number {
    return this.state.changeCount;
  }

  addSubscription(subscriptionId: string, opts: { tenantId?: string; displayName?: string } = {}): void {
    this.state.addSubscription(subscriptionId, opts);
  }

  addResourceGroup(subscriptionId: string, name: string, location = 'westeurope'): ResourceGroup {
    return this.state.addResourceGroup(subscriptionId, name, location);
  }

  /** Lets a principal (token appid or oid; '*' for any) act on a subscription or one of its resource groups. */
  grant(
    subscriptionId: string,
    principalId: string,
    role: Role = 'Contributor',
    resourceGroup?: string,
  ): void {
    this.state.grant(subscriptionId, principalId, role, resourceGroup);
  }

  revoke(subscriptionId: string, principalId: string): void {
    this.state.revoke(subscriptionId, principalId);
  }

  /** Creates an empty factory (the resource group must exist). */
  addFactory(subscriptionId: string, resourceGroup: string, name: string, location?: string): FactoryState {
    return this.state.addFactory(subscriptionId, resourceGroup, name, location);
  }

  factory(subscriptionId: string, resourceGroup: string, name: string): FactoryState | undefined {
    return this.state.factory(subscriptionId, resourceGroup, name);
  }

  /** The only factory with this name (throws when the name is ambiguous). */
  factoryByName(name: string): FactoryState | undefined {
    return this.state.factoryByName(name);
  }

  /**
   * Scripts the outcome of the next runs of a pipeline: persistent until replaced,
   * or with once=true for just the next run (once-scripts are used first, in order).
   */
  scriptPipelineRun(
    factory: FactoryState | string,
    pipelineName: string,
    script: PipelineRunScript,
    opts: { once?: boolean } = {},
  ): void {
    const f = typeof factory === 'string' ? this.factoryByName(factory) : factory;
    if (!f) throw new Error(`no factory named ${String(factory)}`);
    f.scriptRun(pipelineName, script, opts.once);
  }

  /** Periods during which previously Started triggers were stopped (all factories, or one). */
  triggerStoppedIntervals(factory?: FactoryState | string): TriggerStoppedInterval[] {
    const list =
      factory === undefined
        ? [...this.state.factories.values()]
        : [typeof factory === 'string' ? this.factoryByName(factory) : factory];
    return list.flatMap((f) => (f ? f.triggerStoppedIntervals() : []));
  }

  deployment(subscriptionId: string, resourceGroup: string, name: string): DeploymentRecord | undefined {
    return this.deployments.get(subscriptionId, resourceGroup, name);
  }

  /** Serves a file (e.g. a linked template) at the returned URL for templateLink.uri / relativePath. */
  putTemplateFile(path: string, content: string | object): string {
    const p = path.replace(/^\/+/, '');
    this.deployments.files.set(p, typeof content === 'string' ? content : JSON.stringify(content));
    return `${this.host.url}/_emulator/arm/files/${p.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** A secret for Key Vault parameter references ({reference:{keyVault:{id}, secretName}}). */
  setKeyVaultSecret(vaultId: string, name: string, value: string): void {
    this.state.keyVaultSecrets.set(`${lower(vaultId)}|${lower(name)}`, value);
  }

  /** A Resource Manager access token straight from the token registry (tests that skip Entra). */
  issueToken(opts: {
    appId: string;
    tenantId?: string;
    objectId?: string;
    audience?: string;
    ttlSeconds?: number;
  }): string {
    const oid = opts.objectId ?? opts.appId;
    return this.emu.tokens.issue(
      {
        aud: opts.audience ?? 'https://management.azure.com/',
        sub: oid,
        oid,
        appid: opts.appId,
        tid: opts.tenantId,
        iss: opts.tenantId ? `https://sts.windows.net/${opts.tenantId}/` : undefined,
      },
      opts.ttlSeconds,
    ).token;
  }

  reset(): void {
    this.state.reset();
    this.deployments.reset();
    this.http.reset();
    for (const k of Object.keys(this.state.options) as (keyof ArmOptions)[]) {
      (this.state.options as unknown as Record<string, unknown>)[k] = this.initialOptions[k];
    }
  }

  // ---- routes --------------------------------------------------------------------------

  registerRoutes(): void {
    const h = this.http;
    const state = this.state;
    const opts = (action: string) => ({ action, apiVersions: 'resources' as const });
    const rgJson = (rg: ResourceGroup) => ({
      id: rgId(rg.subscriptionId, rg.name),
      name: rg.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: rg.location,
      tags: rg.tags,
      properties: { provisioningState: 'Succeeded' },
    });
    const rgMissing = (name: string) =>
      h.error(azureError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`));

    h.route(
      'GET',
      '/subscriptions/:sub',
      'arm.subscriptions.get',
      opts('Microsoft.Resources/subscriptions/read'),
      (c) =>
        h.json(200, {
          id: `/subscriptions/${c.subscription.subscriptionId}`,
          subscriptionId: c.subscription.subscriptionId,
          tenantId: state.tenantOf(c.subscription.subscriptionId),
          displayName: c.subscription.displayName,
          state: 'Enabled',
          subscriptionPolicies: {
            locationPlacementId: 'Public_2014-09-01',
            quotaId: 'PayAsYouGo_2014-09-01',
            spendingLimit: 'Off',
          },
          authorizationSource: 'RoleBased',
        }),
    );
    h.route(
      'GET',
      '/subscriptions/:sub/resourcegroups/:rg',
      'arm.resourceGroups.get',
      opts('Microsoft.Resources/subscriptions/resourceGroups/read'),
      (c) => {
        const rg = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
        return rg ? h.json(200, rgJson(rg)) : rgMissing(c.req.params.rg);
      },
    );
    h.route(
      'HEAD',
      '/subscriptions/:sub/resourcegroups/:rg',
      'arm.resourceGroups.head',
      opts('Microsoft.Resources/subscriptions/resourceGroups/read'),
      (c) => ({
        status: state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg) ? 204 : 404,
      }),
    );
    h.route(
      'PUT',
      '/subscriptions/:sub/resourcegroups/:rg',
      'arm.resourceGroups.put',
      opts('Microsoft.Resources/subscriptions/resourceGroups/write'),
      (c) => {
        const body = isObject(c.req.body) ? c.req.body : {};
        const existing = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
        if (!existing && typeof body.location !== 'string') {
          return h.error(
            azureError(400, 'LocationRequired', 'The location property is required for this definition.'),
          );
        }
        const rg =
          existing ??
          state.addResourceGroup(c.subscription.subscriptionId, c.req.params.rg, String(body.location));
        if (isObject(body.tags)) rg.tags = body.tags as Record<string, string>;
        return h.json(existing ? 200 : 201, rgJson(rg));
      },
    );
    h.route(
      'GET',
      '/subscriptions/:sub/resourcegroups/:rg/resources',
      'arm.resources.list',
      opts('Microsoft.Resources/subscriptions/resourceGroups/resources/read'),
      (c) => {
        const rg = state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
        if (!rg) return rgMissing(c.req.params.rg);
        const value = [
          ...state.factoriesIn(rg.subscriptionId, rg.name).map((f) => ({
            id: f.id,
            name: f.name,
            type: 'Microsoft.DataFactory/factories',
            location: f.location,
          })),
          ...[...rg.resources.values()]
            .filter((r) => r.name.split('/').length === 1)
            .map((r) => ({ id: r.id, name: r.name, type: r.type, location: r.location })),
        ];
        return h.json(200, { value });
      },
    );

    this.deployments.registerRoutes();
    registerDataFactoryRoutes(h, state);
    this.registerControlRoutes();
  }

  private registerControlRoutes(): void {
    const emu = this.emu;
    const ok = (json: unknown = {}): EmuResponse => ({ status: 200, json });
    const bad = (message: string): EmuResponse => ({ status: 400, json: { error: message } });
    const body = (b: unknown): Record<string, unknown> => (isObject(b) ? b : {});
    const factoryOf = (sub: string, rg: string, name: string) => this.factory(sub, rg, name);

    emu.control('POST', '/arm/subscriptions', (req) => {
      const b = body(req.body);
      if (typeof b.subscriptionId !== 'string') return bad('subscriptionId is required');
      this.addSubscription(b.subscriptionId, {
        tenantId: b.tenantId as string | undefined,
        displayName: b.displayName as string | undefined,
      });
      return ok();
    });
    emu.control('POST', '/arm/resourceGroups', (req) => {
      const b = body(req.body);
      if (typeof b.subscriptionId !== 'string' || typeof b.name !== 'string')
        return bad('subscriptionId and name are required');
      this.addResourceGroup(
        b.subscriptionId,
        b.name,
        typeof b.location === 'string' ? b.location : undefined,
      );
      return ok();
    });
    emu.control('POST', '/arm/grants', (req) => {
      const b = body(req.body);
      if (typeof b.subscriptionId !== 'string' || typeof b.principalId !== 'string')
        return bad('subscriptionId and principalId are required');
      this.grant(
        b.subscriptionId,
        b.principalId,
        (b.role as Role | undefined) ?? 'Contributor',
        b.resourceGroup as string | undefined,
      );
      return ok();
    });
    emu.control('POST', '/arm/factories', (req) => {
      const b = body(req.body);
      try {
        const f = this.addFactory(
          String(b.subscriptionId),
          String(b.resourceGroup),
          String(b.name),
          b.location as string | undefined,
        );
        return ok(f.factoryResource());
      } catch (e) {
        return bad(e instanceof Error ? e.message : String(e));
      }
    });
    emu.control('GET', '/arm/factories/:sub/:rg/:name', (req) => {
      const f = factoryOf(req.params.sub, req.params.rg, req.params.name);
      if (!f) return { status: 404, json: { error: 'no such factory' } };
      return ok(factoryDump(f));
    });
    emu.control('POST', '/arm/factories/:sub/:rg/:name/objects', (req) => {
      const f = factoryOf(req.params.sub, req.params.rg, req.params.name);
      if (!f) return { status: 404, json: { error: 'no such factory' } };
      const b = body(req.body);
      const kind = ADF_KINDS.find((k) => lower(k) === lower(String(b.kind)));
      if (!kind || typeof b.name !== 'string' || !isObject(b.properties))
        return bad('kind, name and properties are required');
      f.addObject(kind, b.name, b.properties, {
        runtimeState: b.runtimeState as 'Started' | 'Stopped' | undefined,
      });
      return ok();
    });
    emu.control('POST', '/arm/scripts', (req) => {
      const b = body(req.body);
      const f = factoryOf(String(b.subscriptionId), String(b.resourceGroup), String(b.factory));
      if (!f) return { status: 404, json: { error: 'no such factory' } };
      if (typeof b.pipelineName !== 'string' || !isObject(b.script))
        return bad('pipelineName and script are required');
      f.scriptRun(b.pipelineName, b.script as PipelineRunScript, b.once === true);
      return ok();
    });
    emu.control('POST', '/arm/options', (req) => {
      const b = body(req.body);
      const allowed = Object.keys(defaultArmOptions()).filter((k) => k !== 'notFoundMessage');
      const unknown = Object.keys(b).filter((k) => !allowed.includes(k));
      if (unknown.length > 0) return bad(`unknown options: ${unknown.join(', ')}`);
      this.setOptions(b as Partial<ArmOptions>);
      return ok();
    });
    emu.control('POST', '/arm/keyVaultSecrets', (req) => {
      const b = body(req.body);
      this.setKeyVaultSecret(String(b.vaultId), String(b.name), String(b.value));
      return ok();
    });
    emu.control('GET', '/arm/triggerStoppedIntervals', () => ok(this.triggerStoppedIntervals()));
    emu.control('GET', '/arm/deployments', () =>
      ok(
        this.deployments.list().map((d) => ({
          ...d.toJson(),
          operations: d.operations.map((o) => d.operationJson(o)),
        })),
      ),
    );
    emu.control('GET', '/arm/state', () =>
      ok({ changeCount: this.changeCount, factories: [...this.state.factories.values()].map((f) => f.id) }),
    );
    emu.control('PUT', '/arm/files/*', (req) => {
      this.putTemplateFile(req.params['*'], req.rawBody.toString('utf8'));
      return ok({ url: `${this.host.url}/_emulator/arm/files/${req.params['*']}` });
    });
    emu.control('GET', '/arm/files/*', (req) => {
      const text = this.deployments.files.get(req.params['*']);
      return text === undefined
        ? { status: 404, body: 'Not found', headers: { 'content-type': 'text/plain' } }
        : { status: 200, body: text, headers: { 'content-type': 'application/json' } };
    });
  }
}

/** Everything tests usually assert on, as plain JSON. */
export function factoryDump(f: FactoryState): Record<string, unknown> {
  const triggers: Record<string, string | undefined> = {};
  for (const t of f.list('triggers')) triggers[t.name] = t.runtimeState;
  return {
    id: f.id,
    location: f.location,
    properties: f.properties,
    objects: f.snapshot(),
    triggers,
    runs: [...f.runs.values()].map((r) => r.toJson()),
    triggerStoppedIntervals: f.triggerStoppedIntervals(),
  };
}

/** Adds the 'management' host (role 'arm', style 'azure') with ARM and Data Factory routes. */
export async function installArm(emu: Emulator, options: Partial<ArmOptions> = {}): Promise<ArmEmulator> {
  const host = await emu.addHost('management', { role: 'arm', style: 'azure' });
  const arm = new ArmEmulator(emu, host, options);
  arm.registerRoutes();
  emu.markReadOnly(
    'arm.deployments.validate',
    'arm.deployments.whatIf',
    'adf.pipelineruns.query',
    'adf.activityruns.query',
    'adf.triggers.getEventSubscriptionStatus',
    'adf.integrationRuntimes.getStatus',
  );
  emu.onReset(() => arm.reset());
  return arm;
}
