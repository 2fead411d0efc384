/**
 * Everything the emulated Azure Resource Manager holds: subscriptions, resource
 * groups, role grants, generic resources, data factories and deployments, plus
 * the timing knobs the plugins read on each call.
 */
import * as crypto from 'node:crypto';
import type { AdfKind } from './factory';
import { FactoryState, type FactoryTiming } from './factory';
import { lower, rgId } from './common';

export type Role = 'Owner' | 'Contributor' | 'Reader' | 'Data Factory Contributor';

export interface Grant {
  principalId: string;
  role: Role;
  /** Resource group scope; undefined means the whole subscription. */
  resourceGroup?: string;
}

export interface Subscription {
  subscriptionId: string;
  tenantId?: string;
  displayName: string;
  grants: Grant[];
}

export interface GenericResource {
  id: string;
  name: string;
  type: string;
  apiVersion?: string;
  location?: string;
  properties?: unknown;
}

export interface ResourceGroup {
  subscriptionId: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  /** Non-factory resources deployed by templates, by lower-case id. */
  resources: Map<string, GenericResource>;
}

export interface ArmOptions {
  /** How long POST triggers/{t}/start and /stop take (ms). */
  triggerOperationMs: number;
  /** After an event trigger is created, updated or stopped: window in which PUT/start/delete fail with "cannot be updated during provisioning". */
  eventTriggerProvisioningMs: number;
  /** Time a deployment stays Accepted before it starts running. */
  deploymentStartMs: number;
  /** Time each resource of a deployment takes. */
  deploymentStepMs: number;
  /** Retry-After (seconds) on async responses (deployment PUT, operationStatuses, whatIf, delete). */
  asyncRetryAfterSeconds: number;
  /** Time before a whatIf result is ready (the first poll before then gets 202). */
  whatIfMs: number;
  /** Time a pipeline run stays Queued unless its script says otherwise. */
  runQueueMs: number;
  /** How long Canceling lasts before Cancelled. */
  cancelMs: number;
  /** Page size of list calls (value + nextLink). */
  listPageSize: number;
  /** Page size of queryPipelineRuns / queryActivityruns (value + continuationToken). */
  queryPageSize: number;
  /** Request body limit of deployment PUT/validate/whatIf (ARM: 4 MB). */
  maxRequestBytes: number;
  /** validate: 'references' also simulates the Data Factory writes and reports their errors as preflight errors [unverified]. */
  preflight: 'none' | 'references';
  /** Whether a trigger PUT checks that its pipelines exist (start always does). */
  validateTriggerReferences: boolean;
  /** createRun rejects a missing value for a parameter without default [unverified]. */
  requireRunParameters: boolean;
  /** createRun rejects parameters the pipeline does not declare [unverified]. */
  rejectUnknownRunParameters: boolean;
  /** Token audiences ARM accepts besides its own URL (with or without trailing slash). */
  audiences: string[];
  /** ADF's message for a missing entity [unverified wording]. */
  notFoundMessage: (kind: AdfKind | 'pipelineruns', name: string) => string;
  /** Any valid token may do anything (skips role grants). */
  allowAllPrincipals: boolean;
}

export function defaultArmOptions(): ArmOptions {
  return {
    triggerOperationMs: 100,
    eventTriggerProvisioningMs: 0,
    deploymentStartMs: 20,
    deploymentStepMs: 10,
    asyncRetryAfterSeconds: 1,
    whatIfMs: 0,
    runQueueMs: 50,
    cancelMs: 50,
    listPageSize: 50,
    queryPageSize: 100,
    maxRequestBytes: 4 * 1024 * 1024,
    preflight: 'references',
    validateTriggerReferences: true,
    requireRunParameters: true,
    rejectUnknownRunParameters: false,
    audiences: [
      'https://management.azure.com',
      'https://management.core.windows.net',
      'https://management.usgovcloudapi.net',
      'https://management.chinacloudapi.cn',
    ],
    notFoundMessage: (_kind, name) => `Entity ${name} not found`,
    allowAllPrincipals: false,
  };
}

export class AzureState {
  readonly subscriptions = new Map<string, Subscription>();
  readonly resourceGroups = new Map<string, ResourceGroup>();
  readonly factories = new Map<string, FactoryState>();
  /** Key Vault secrets for parameter references: `${vaultId}|${secretName}` (lower-case). */
  readonly keyVaultSecrets = new Map<string, string>();
  /** Bumped on every state change (factories, objects, triggers, runs, deployments' effects). */
  changeCount = 0;
  /** Bumped on reset so background work started before it stops touching state. */
  generation = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly options: ArmOptions) {}

  reset(): void {
    this.subscriptions.clear();
    this.resourceGroups.clear();
    this.factories.clear();
    this.keyVaultSecrets.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.changeCount = 0;
    this.generation++;
  }

  /** A timer that reset() cancels; never keeps the process alive. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      t.unref();
      this.timers.add(t);
    });
  }

  changed(): void {
    this.changeCount++;
  }

  addSubscription(
    subscriptionId: string,
    opts: { tenantId?: string; displayName?: string } = {},
  ): Subscription {
    const existing = this.subscriptions.get(lower(subscriptionId));
    if (existing) {
      if (opts.tenantId) existing.tenantId = opts.tenantId;
      if (opts.displayName) existing.displayName = opts.displayName;
      return existing;
    }
    const s: Subscription = {
      subscriptionId,
      tenantId: opts.tenantId,
      displayName: opts.displayName ?? `Subscription ${subscriptionId.slice(0, 8)}`,
      grants: [],
    };
    this.subscriptions.set(lower(subscriptionId), s);
    return s;
  }

  subscription(subscriptionId: string): Subscription | undefined {
    return this.subscriptions.get(lower(subscriptionId));
  }

  addResourceGroup(subscriptionId: string, name: string, location: string): ResourceGroup {
    this.addSubscription(subscriptionId);
    const key = lower(rgId(subscriptionId, name));
    const existing = this.resourceGroups.get(key);
    if (existing) return existing;
    const rg: ResourceGroup = { subscriptionId, name, location, tags: {}, resources: new Map() };
    this.resourceGroups.set(key, rg);
    this.changed();
    return rg;
  }

  resourceGroup(subscriptionId: string, name: string): ResourceGroup | undefined {
    return this.resourceGroups.get(lower(rgId(subscriptionId, name)));
  }

  grant(
    subscriptionId: string,
    principalId: string,
    role: Role = 'Contributor',
    resourceGroup?: string,
  ): void {
    const s = this.addSubscription(subscriptionId);
    s.grants.push({ principalId, role, resourceGroup });
  }

  revoke(subscriptionId: string, principalId: string): void {
    const s = this.subscription(subscriptionId);
    if (s) s.grants = s.grants.filter((g) => lower(g.principalId) !== lower(principalId));
  }

  private factoryKey(sub: string, rg: string, name: string): string {
    return `${lower(sub)}|${lower(rg)}|${lower(name)}`;
  }

  factoryTiming(): FactoryTiming {
    const o = this.options;
    // Getters so changes to options apply immediately.
    return {
      get triggerOperationMs() {
        return o.triggerOperationMs;
      },
      get eventTriggerProvisioningMs() {
        return o.eventTriggerProvisioningMs;
      },
      get runQueueMs() {
        return o.runQueueMs;
      },
      get cancelMs() {
        return o.cancelMs;
      },
      get validateTriggerReferences() {
        return o.validateTriggerReferences;
      },
      get requireRunParameters() {
        return o.requireRunParameters;
      },
      get rejectUnknownRunParameters() {
        return o.rejectUnknownRunParameters;
      },
      notFoundMessage: (kind, name) => o.notFoundMessage(kind, name),
      sleep: (ms) => this.sleep(ms),
      onChange: () => this.changed(),
    };
  }

  /** Creates (or returns) a factory; the resource group must exist. */
  addFactory(sub: string, rg: string, name: string, location?: string): FactoryState {
    const group = this.resourceGroup(sub, rg);
    if (!group)
      throw new Error(
        `resource group ${rg} does not exist in subscription ${sub}; call addResourceGroup first`,
      );
    const key = this.factoryKey(sub, rg, name);
    const existing = this.factories.get(key);
    if (existing) return existing;
    const f = new FactoryState(
      group.subscriptionId,
      group.name,
      name,
      location ?? group.location,
      this.factoryTiming(),
    );
    this.factories.set(key, f);
    this.changed();
    return f;
  }

  factory(sub: string, rg: string, name: string): FactoryState | undefined {
    return this.factories.get(this.factoryKey(sub, rg, name));
  }

  deleteFactory(sub: string, rg: string, name: string): boolean {
    const ok = this.factories.delete(this.factoryKey(sub, rg, name));
    if (ok) this.changed();
    return ok;
  }

  factoriesIn(sub: string, rg: string): FactoryState[] {
    const prefix = `${lower(sub)}|${lower(rg)}|`;
    return [...this.factories.entries()].filter(([k]) => k.startsWith(prefix)).map(([, f]) => f);
  }

  /** A unique factory by name across subscriptions and resource groups. */
  factoryByName(name: string): FactoryState | undefined {
    const found = [...this.factories.values()].filter((f) => lower(f.name) === lower(name));
    if (found.length > 1)
      throw new Error(`more than one factory is named ${name}; use factory(sub, rg, name)`);
    return found[0];
  }

  tenantOf(sub: string): string {
    return (
      this.subscription(sub)?.tenantId ??
      crypto
        .createHash('sha1')
        .update(sub)
        .digest('hex')
        .slice(0, 32)
        .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')
    );
  }
}
