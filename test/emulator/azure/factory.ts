/**
 * State and rules of one emulated data factory: its objects (pipelines,
 * datasets, linked services, data flows, triggers, integration runtimes,
 * credentials, global parameters, managed virtual networks and private
 * endpoints), reference validation, trigger runtime state and pipeline runs.
 *
 * The same put/delete functions serve the Data Factory REST API and ARM
 * deployments, so both paths enforce identical rules and error bodies.
 */
import * as crypto from 'node:crypto';
import {
  azureError,
  clone,
  deepEqual,
  factoryId,
  isObject,
  isoNow,
  lower,
  newEtag,
  type AzureError,
} from './common';
import { PipelineRun, type PipelineRunScript } from './runs';

export type AdfKind =
  | 'pipelines'
  | 'datasets'
  | 'linkedServices'
  | 'dataflows'
  | 'triggers'
  | 'integrationRuntimes'
  | 'credentials'
  | 'globalParameters'
  | 'managedVirtualNetworks'
  | 'managedPrivateEndpoints';

export const ADF_KINDS: AdfKind[] = [
  'integrationRuntimes',
  'managedVirtualNetworks',
  'managedPrivateEndpoints',
  'credentials',
  'linkedServices',
  'datasets',
  'dataflows',
  'pipelines',
  'triggers',
  'globalParameters',
];

/** Resource type strings as the service returns them. */
export const ADF_TYPES: Record<AdfKind, string> = {
  pipelines: 'Microsoft.DataFactory/factories/pipelines',
  datasets: 'Microsoft.DataFactory/factories/datasets',
  linkedServices: 'Microsoft.DataFactory/factories/linkedservices',
  dataflows: 'Microsoft.DataFactory/factories/dataflows',
  triggers: 'Microsoft.DataFactory/factories/triggers',
  integrationRuntimes: 'Microsoft.DataFactory/factories/integrationruntimes',
  credentials: 'Microsoft.DataFactory/factories/credentials',
  globalParameters: 'Microsoft.DataFactory/factories/globalParameters',
  managedVirtualNetworks: 'Microsoft.DataFactory/factories/managedVirtualNetworks',
  managedPrivateEndpoints: 'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints',
};

/** URL segment or ARM type suffix → kind (case-insensitive). */
export function kindFromSegment(seg: string): AdfKind | undefined {
  const l = lower(seg);
  return ADF_KINDS.find((k) => lower(k) === l);
}

/** 'Microsoft.DataFactory/factories/linkedServices' → 'linkedServices'. */
export function kindFromArmType(type: string): AdfKind | undefined {
  const l = lower(type);
  if (l === 'microsoft.datafactory/factories/managedvirtualnetworks/managedprivateendpoints')
    return 'managedPrivateEndpoints';
  const m = /^microsoft\.datafactory\/factories\/([^/]+)$/.exec(l);
  return m ? kindFromSegment(m[1]) : undefined;
}

const REFERENCE_KINDS: Record<string, AdfKind> = {
  linkedservicereference: 'linkedServices',
  datasetreference: 'datasets',
  pipelinereference: 'pipelines',
  dataflowreference: 'dataflows',
  integrationruntimereference: 'integrationRuntimes',
  credentialreference: 'credentials',
  managedvirtualnetworkreference: 'managedVirtualNetworks',
  triggerreference: 'triggers',
};

const BUILT_IN: Partial<Record<AdfKind, string[]>> = {
  integrationRuntimes: ['autoresolveintegrationruntime'],
};

const EVENT_TRIGGER_TYPES = new Set(['blobeventstrigger', 'customeventstrigger']);
/** Trigger types that run one pipeline, given as `properties.pipeline` (not `pipelines`). */
const SINGLE_PIPELINE_TRIGGER_TYPES = new Set(['tumblingwindowtrigger', 'chainingtrigger']);

export interface AdfReference {
  kind: AdfKind;
  name: string;
}

/** Every static {referenceName, type: '*Reference'} inside a definition (expressions are skipped). */
export function findReferences(value: unknown, out: AdfReference[] = []): AdfReference[] {
  if (Array.isArray(value)) {
    for (const v of value) findReferences(v, out);
  } else if (isObject(value)) {
    const type = typeof value.type === 'string' ? REFERENCE_KINDS[lower(value.type)] : undefined;
    if (type && typeof value.referenceName === 'string' && !value.referenceName.startsWith('@')) {
      out.push({ kind: type, name: value.referenceName });
    }
    for (const v of Object.values(value)) findReferences(v, out);
  }
  return out;
}

export interface AdfObject {
  kind: AdfKind;
  /** For managed private endpoints: '<vnet>/<name>'. */
  name: string;
  properties: Record<string, unknown>;
  etag: string;
  createdAt: number;
  updatedAt: number;
  /** Triggers only. */
  runtimeState?: 'Started' | 'Stopped' | 'Disabled';
  /** Event triggers: until when start/update answer "cannot be updated during provisioning". */
  provisioningUntil?: number;
  /** Serialises start/stop of one trigger. */
  opChain?: Promise<void>;
}

export interface TriggerEvent {
  trigger: string;
  action: 'start' | 'stop';
  requestedAt: number;
  completedAt?: number;
  /** The state before the operation. */
  from: string;
}

export interface TriggerStoppedInterval {
  factory: string;
  trigger: string;
  /** When the stop was requested (the trigger may stop firing from then on). */
  stopRequestedAt: number;
  stoppedAt: number;
  startRequestedAt?: number;
  startedAt?: number;
  /** Until started again (or until now while still stopped), from the stop request. */
  durationMs: number;
}

/** Knobs the factory reads on every call (owned by the ARM emulator, mutable at run time). */
export interface FactoryTiming {
  triggerOperationMs: number;
  eventTriggerProvisioningMs: number;
  runQueueMs: number;
  cancelMs: number;
  /** ADF's NotFound message for a missing entity [unverified wording]. */
  notFoundMessage: (kind: AdfKind | 'pipelineruns', name: string) => string;
  /** Whether a trigger PUT checks that its pipelines exist (start always does). */
  validateTriggerReferences: boolean;
  /** createRun: reject a run missing a value for a pipeline parameter without default [unverified]. */
  requireRunParameters: boolean;
  /** createRun: reject parameters the pipeline does not declare [unverified]. */
  rejectUnknownRunParameters: boolean;
  sleep: (ms: number) => Promise<void>;
  onChange: () => void;
}

export type PutResult =
  { ok: true; status: number; created: boolean; object: AdfObject } | { ok: false; error: AzureError };

export class FactoryState {
  location: string;
  tags: Record<string, string> = {};
  identity?: { type: string; principalId: string; tenantId: string };
  properties: Record<string, unknown> = {};
  eTag = newEtag();
  readonly createTime = isoNow();
  readonly objects = new Map<string, AdfObject>();
  readonly runs = new Map<string, PipelineRun>();
  readonly triggerEvents: TriggerEvent[] = [];
  private readonly scripts = new Map<string, { persistent?: PipelineRunScript; once: PipelineRunScript[] }>();

  constructor(
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly name: string,
    location: string,
    private readonly timing: FactoryTiming,
  ) {
    this.location = location;
  }

  get id(): string {
    return factoryId(this.subscriptionId, this.resourceGroup, this.name);
  }

  private key(kind: AdfKind, name: string): string {
    return `${kind}|${lower(name)}`;
  }

  objectId(kind: AdfKind, name: string): string {
    if (kind === 'managedPrivateEndpoints') {
      const [vnet, mpe] = name.split('/');
      return `${this.id}/managedVirtualNetworks/${vnet}/managedPrivateEndpoints/${mpe}`;
    }
    // Ids use the service's type segment (e.g. 'linkedservices', lower case).
    return `${this.id}/${ADF_TYPES[kind].split('/').pop()}/${name}`;
  }

  get(kind: AdfKind, name: string): AdfObject | undefined {
    return this.objects.get(this.key(kind, name));
  }

  has(kind: AdfKind, name: string): boolean {
    return this.objects.has(this.key(kind, name)) || (BUILT_IN[kind] ?? []).includes(lower(name));
  }

  /** Objects of a kind, in creation order; for managed private endpoints optionally of one vnet. */
  list(kind: AdfKind, vnet?: string): AdfObject[] {
    return [...this.objects.values()].filter(
      (o) => o.kind === kind && (vnet === undefined || lower(o.name.split('/')[0]) === lower(vnet)),
    );
  }

  /** Definitions by kind: {pipelines: {name: properties}, …} (raw, secrets unmasked). */
  snapshot(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const o of this.objects.values()) {
      (out[o.kind] ??= {})[o.name] = clone(o.properties);
    }
    return out;
  }

  definition(kind: AdfKind, name: string): Record<string, unknown> | undefined {
    const o = this.get(kind, name);
    return o ? clone(o.properties) : undefined;
  }

  triggerRuntimeState(name: string): string | undefined {
    return this.get('triggers', name)?.runtimeState;
  }

  /** The resource JSON the REST API returns (SecureString values masked as the service does). */
  toResource(o: AdfObject): Record<string, unknown> {
    const properties = maskSecureStrings(clone(o.properties)) as Record<string, unknown>;
    if (o.kind === 'triggers') properties.runtimeState = o.runtimeState ?? 'Stopped';
    if (o.kind === 'managedPrivateEndpoints' || o.kind === 'managedVirtualNetworks') {
      properties.provisioningState ??= 'Succeeded';
    }
    if (o.kind === 'managedPrivateEndpoints') {
      properties.connectionState ??= {
        status: 'Approved',
        description: 'Auto-Approved',
        actionsRequired: 'None',
      };
    }
    return {
      id: this.objectId(o.kind, o.name),
      name: o.name.split('/').pop(),
      type: ADF_TYPES[o.kind],
      properties,
      etag: o.etag,
    };
  }

  factoryResource(): Record<string, unknown> {
    const properties: Record<string, unknown> = {
      provisioningState: 'Succeeded',
      createTime: this.createTime,
      version: '2018-06-01',
      ...clone(this.properties),
    };
    const out: Record<string, unknown> = {
      id: this.id,
      name: this.name,
      type: 'Microsoft.DataFactory/factories',
      location: this.location,
      tags: this.tags,
      properties,
      eTag: this.eTag,
    };
    if (this.identity) out.identity = this.identity;
    return out;
  }

  /** PUT of the factory resource itself (ARM or REST): replaces properties, keeps identity ids. */
  putFactory(body: Record<string, unknown>, tenantId: string): void {
    if (typeof body.location === 'string') this.location = body.location;
    if (isObject(body.tags)) this.tags = body.tags as Record<string, string>;
    const identity = isObject(body.identity) ? body.identity : undefined;
    if (identity && typeof identity.type === 'string' && /systemassigned/i.test(identity.type)) {
      this.identity = {
        type: identity.type,
        principalId: this.identity?.principalId ?? crypto.randomUUID(),
        tenantId: this.identity?.tenantId ?? tenantId,
      };
    }
    const props = isObject(body.properties) ? clone(body.properties) : {};
    delete props.provisioningState;
    delete props.createTime;
    delete props.version;
    this.properties = props;
    if (isObject(props.globalParameters)) this.syncGlobalParameters(props.globalParameters);
    this.eTag = newEtag();
    this.timing.onChange();
  }

  private syncGlobalParameters(gp: Record<string, unknown>): void {
    const existing = this.get('globalParameters', 'default');
    const now = Date.now();
    this.objects.set(this.key('globalParameters', 'default'), {
      kind: 'globalParameters',
      name: existing?.name ?? 'default',
      properties: clone(gp),
      etag: newEtag(),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
  }

  private notFound(kind: AdfKind | 'pipelineruns', name: string): AzureError {
    return azureError(404, 'NotFound', this.timing.notFoundMessage(kind, name));
  }

  private provisioningError(o: AdfObject): AzureError | undefined {
    if (o.provisioningUntil !== undefined && Date.now() < o.provisioningUntil) {
      return azureError(400, 'BadRequest', 'Resource cannot be updated during provisioning', {
        target: o.name,
      });
    }
    return undefined;
  }

  /** References in a definition that do not resolve, in order of appearance. */
  missingReferences(kind: AdfKind, properties: unknown): AdfReference[] {
    if (kind === 'triggers' && !this.timing.validateTriggerReferences) return [];
    return findReferences(properties).filter((r) => !this.has(r.kind, r.name));
  }

  /**
   * Creates or updates an object with the service's rules: body shape, If-Match,
   * started triggers, event-trigger provisioning, references, global parameter name,
   * managed private endpoint immutability.
   */
  put(kind: AdfKind, name: string, body: unknown, opts: { ifMatch?: string } = {}): PutResult {
    if (!isObject(body) || !isObject(body.properties)) {
      return {
        ok: false,
        error: azureError(
          400,
          'BadRequest',
          "The request body is invalid: the required property 'properties' is missing.",
        ),
      };
    }
    const properties = clone(body.properties);
    const existing = this.get(kind, name);
    if (kind === 'globalParameters' && lower(name) !== 'default') {
      return {
        ok: false,
        error: azureError(
          400,
          'BadRequest',
          `Global parameters must be written to 'globalParameters/default', not '${name}'.`,
        ),
      };
    }
    if (kind === 'managedPrivateEndpoints') {
      const vnet = name.split('/')[0];
      if (!this.has('managedVirtualNetworks', vnet))
        return { ok: false, error: this.notFound('managedVirtualNetworks', vnet) };
    }
    if (
      ['datasets', 'linkedServices', 'triggers', 'dataflows', 'integrationRuntimes'].includes(kind) &&
      typeof properties.type !== 'string'
    ) {
      return {
        ok: false,
        error: azureError(
          400,
          'BadRequest',
          `The request body is invalid: the required property 'properties.type' is missing.`,
          {
            target: name,
          },
        ),
      };
    }
    if (existing) {
      if (opts.ifMatch && opts.ifMatch !== '*' && opts.ifMatch !== existing.etag) {
        return {
          ok: false,
          error: azureError(
            412,
            'PreconditionFailed',
            `The etag '${opts.ifMatch}' does not match the current etag of ${name}; the entity was changed since it was read.`,
          ),
        };
      }
      if (kind === 'triggers' && existing.runtimeState === 'Started') {
        return {
          ok: false,
          error: azureError(
            400,
            'TriggerEnabledCannotUpdate',
            'Cannot update enabled Trigger; the trigger needs to be disabled first. ',
          ),
        };
      }
      const prov = this.provisioningError(existing);
      if (prov) return { ok: false, error: prov };
      if (kind === 'managedPrivateEndpoints') {
        const keep = ['privateLinkResourceId', 'groupId', 'fqdns'];
        const changed = keep.some(
          (k) => k in properties && !deepEqual(properties[k], existing.properties[k]),
        );
        if (changed) {
          return {
            ok: false,
            error: azureError(
              400,
              'BadRequest',
              `Managed private endpoint '${name.split('/')[1]}' already exists with different properties. A managed private endpoint cannot be updated; delete it first.`,
            ),
          };
        }
      }
    } else if (opts.ifMatch && opts.ifMatch !== '*') {
      return { ok: false, error: this.notFound(kind, name) };
    }
    const missing = this.missingReferences(kind, properties);
    if (missing.length > 0) {
      return {
        ok: false,
        error: azureError(
          400,
          'BadRequest',
          `The document creation or update failed because of invalid reference '${lower(missing[0].name)}'.`,
        ),
      };
    }
    // runtimeState is read-only: the service ignores it on PUT.
    delete properties.runtimeState;
    const now = Date.now();
    const obj: AdfObject = {
      kind,
      name: existing?.name ?? name,
      properties,
      etag: newEtag(),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      opChain: existing?.opChain,
    };
    if (kind === 'triggers') {
      obj.runtimeState = existing?.runtimeState ?? 'Stopped';
      if (
        EVENT_TRIGGER_TYPES.has(lower(String(properties.type))) &&
        this.timing.eventTriggerProvisioningMs > 0
      ) {
        obj.provisioningUntil = now + this.timing.eventTriggerProvisioningMs;
      }
    }
    if (kind === 'managedPrivateEndpoints' && existing) {
      // Unchanged endpoint: nothing to do (the service answers with the existing resource).
      return { ok: true, status: 200, created: false, object: existing };
    }
    this.objects.set(this.key(kind, name), obj);
    if (kind === 'globalParameters') {
      this.properties.globalParameters = clone(properties);
    }
    this.timing.onChange();
    return { ok: true, status: 200, created: !existing, object: obj };
  }

  /** Objects whose definitions reference the given one. */
  referrers(kind: AdfKind, name: string): AdfObject[] {
    const l = lower(name);
    return [...this.objects.values()].filter(
      (o) =>
        !(o.kind === kind && lower(o.name) === l) &&
        findReferences(o.properties).some((r) => r.kind === kind && lower(r.name) === l),
    );
  }

  /** DELETE: 200 when deleted, 204 when absent; errors as the service gives them. */
  delete(kind: AdfKind, name: string): { ok: true; status: 200 | 204 } | { ok: false; error: AzureError } {
    const o = this.get(kind, name);
    if (!o) return { ok: true, status: 204 };
    if (kind === 'triggers' && o.runtimeState === 'Started') {
      return {
        ok: false,
        error: azureError(
          400,
          'TriggerEnabledCannotUpdate',
          'Cannot update enabled Trigger; the trigger needs to be disabled first. ',
        ),
      };
    }
    const prov = this.provisioningError(o);
    if (prov) return { ok: false, error: prov };
    const refs =
      kind === 'managedVirtualNetworks'
        ? this.list('managedPrivateEndpoints', o.name)
        : this.referrers(kind, name);
    if (refs.length > 0) {
      return {
        ok: false,
        error: azureError(
          400,
          'BadRequest',
          `The document cannot be deleted since it is referenced by ${refs[0].name.split('/').pop()}.`,
          {
            target: this.objectId(kind, o.name),
          },
        ),
      };
    }
    this.objects.delete(this.key(kind, name));
    if (kind === 'globalParameters') delete this.properties.globalParameters;
    this.timing.onChange();
    return { ok: true, status: 200 };
  }

  /** Seeds an object without validation (tests and benchmarks). */
  addObject(
    kind: AdfKind,
    name: string,
    properties: Record<string, unknown>,
    opts: { runtimeState?: 'Started' | 'Stopped' } = {},
  ): AdfObject {
    const now = Date.now();
    const props = clone(properties);
    const state = opts.runtimeState ?? (props.runtimeState === 'Started' ? 'Started' : 'Stopped');
    delete props.runtimeState;
    const obj: AdfObject = { kind, name, properties: props, etag: newEtag(), createdAt: now, updatedAt: now };
    if (kind === 'triggers') obj.runtimeState = state;
    this.objects.set(this.key(kind, name), obj);
    if (kind === 'globalParameters') this.properties.globalParameters = clone(props);
    this.timing.onChange();
    return obj;
  }

  /** Sets a trigger's state directly (no delay, no history). */
  setTriggerRuntimeState(name: string, state: 'Started' | 'Stopped'): void {
    const t = this.get('triggers', name);
    if (!t) throw new Error(`no trigger ${name} in factory ${this.name}`);
    t.runtimeState = state;
    this.timing.onChange();
  }

  // ---- triggers ------------------------------------------------------------------------

  /** POST triggers/{name}/start|stop: takes triggerOperationMs; operations on one trigger are serialised. */
  async triggerOperation(
    action: 'start' | 'stop',
    name: string,
  ): Promise<{ ok: true } | { ok: false; error: AzureError }> {
    const t = this.get('triggers', name);
    if (!t) return { ok: false, error: this.notFound('triggers', name) };
    if (action === 'start') {
      const prov = this.provisioningError(t);
      if (prov) return { ok: false, error: prov };
      // Multiple-pipeline triggers (schedule, blob and custom events) list `pipelines`; a
      // tumbling window or chaining trigger runs one pipeline, under `pipeline` (both are
      // TriggerPipelineReference {pipelineReference, parameters}). A rerun trigger has neither.
      const type = lower(String(t.properties.type ?? ''));
      const single = SINGLE_PIPELINE_TRIGGER_TYPES.has(type);
      const pipelines = single
        ? t.properties.pipeline === undefined
          ? []
          : [t.properties.pipeline]
        : Array.isArray(t.properties.pipelines)
          ? t.properties.pipelines
          : [];
      const refs = pipelines.map((p) =>
        isObject(p) && isObject(p.pipelineReference) ? p.pipelineReference.referenceName : undefined,
      );
      const needsPipelines = type !== 'reruntumblingwindowtrigger';
      if (
        (needsPipelines && refs.length === 0) ||
        refs.some((r) => typeof r !== 'string' || !this.has('pipelines', r))
      ) {
        return {
          ok: false,
          error: azureError(
            400,
            'BadRequest',
            `Missing or invalid pipeline references for trigger ${t.name}`,
            { target: t.name },
          ),
        };
      }
    }
    const event: TriggerEvent = {
      trigger: t.name,
      action,
      requestedAt: Date.now(),
      from: t.runtimeState ?? 'Stopped',
    };
    this.triggerEvents.push(event);
    const previous = t.opChain ?? Promise.resolve();
    const run = previous.then(async () => {
      await this.timing.sleep(this.timing.triggerOperationMs);
      const current = this.get('triggers', name);
      if (!current) return;
      event.from = current.runtimeState ?? 'Stopped';
      current.runtimeState = action === 'start' ? 'Started' : 'Stopped';
      if (
        action === 'stop' &&
        EVENT_TRIGGER_TYPES.has(lower(String(current.properties.type ?? ''))) &&
        this.timing.eventTriggerProvisioningMs > 0
      ) {
        // Unsubscribing from events takes a while; starting again too early fails like the service.
        current.provisioningUntil = Date.now() + this.timing.eventTriggerProvisioningMs;
      }
      event.completedAt = Date.now();
      this.timing.onChange();
    });
    t.opChain = run.catch(() => undefined);
    await run;
    return { ok: true };
  }

  /** Periods during which triggers that had been Started were stopped. */
  triggerStoppedIntervals(now = Date.now()): TriggerStoppedInterval[] {
    const out: TriggerStoppedInterval[] = [];
    const open = new Map<string, TriggerStoppedInterval>();
    for (const e of this.triggerEvents) {
      if (e.completedAt === undefined) continue;
      const key = lower(e.trigger);
      if (e.action === 'stop' && e.from === 'Started' && !open.has(key)) {
        const iv: TriggerStoppedInterval = {
          factory: this.name,
          trigger: e.trigger,
          stopRequestedAt: e.requestedAt,
          stoppedAt: e.completedAt,
          durationMs: 0,
        };
        open.set(key, iv);
        out.push(iv);
      } else if (e.action === 'start' && open.has(key)) {
        const iv = open.get(key)!;
        iv.startRequestedAt = e.requestedAt;
        iv.startedAt = e.completedAt;
        open.delete(key);
      }
    }
    for (const iv of out) iv.durationMs = (iv.startedAt ?? now) - iv.stopRequestedAt;
    return out;
  }

  // ---- runs ----------------------------------------------------------------------------

  scriptRun(pipelineName: string, script: PipelineRunScript, once = false): void {
    const key = lower(pipelineName);
    const entry = this.scripts.get(key) ?? { once: [] };
    if (once) entry.once.push(clone(script));
    else entry.persistent = clone(script);
    this.scripts.set(key, entry);
  }

  private nextScript(pipelineName: string): PipelineRunScript | undefined {
    const entry = this.scripts.get(lower(pipelineName));
    if (!entry) return undefined;
    return entry.once.shift() ?? entry.persistent;
  }

  createRun(
    pipelineName: string,
    parameters: unknown,
    opts: { referencePipelineRunId?: string } = {},
  ): { ok: true; run: PipelineRun } | { ok: false; error: AzureError } {
    const p = this.get('pipelines', pipelineName);
    if (!p) return { ok: false, error: this.notFound('pipelines', pipelineName) };
    if (opts.referencePipelineRunId && !this.runs.has(opts.referencePipelineRunId)) {
      return {
        ok: false,
        error: azureError(
          400,
          'ReferencedPipelineRunNotValid',
          `Referenced pipeline run id ${opts.referencePipelineRunId} is not a valid run id.`,
          {
            target: `pipeline/${p.name}/`,
          },
        ),
      };
    }
    const params = isObject(parameters) ? parameters : {};
    const declared = isObject(p.properties.parameters) ? p.properties.parameters : {};
    const declaredLower = new Map(Object.keys(declared).map((k) => [lower(k), k]));
    if (this.timing.rejectUnknownRunParameters) {
      const unknown = Object.keys(params).filter((k) => !declaredLower.has(lower(k)));
      if (unknown.length > 0) {
        return {
          ok: false,
          error: azureError(
            400,
            'BadRequest',
            `The parameters '${unknown.join(', ')}' are not defined in pipeline '${p.name}'.`,
            {
              target: `pipeline/${p.name}/runid/`,
            },
          ),
        };
      }
    }
    if (this.timing.requireRunParameters) {
      const given = new Set(Object.keys(params).map(lower));
      const missing = Object.entries(declared)
        .filter(([k, d]) => !given.has(lower(k)) && !(isObject(d) && 'defaultValue' in d))
        .map(([k]) => k);
      if (missing.length > 0) {
        return {
          ok: false,
          error: azureError(
            400,
            'BadRequest',
            `Missing value for required parameter '${missing[0]}' of pipeline '${p.name}'.`,
            {
              target: `pipeline/${p.name}/runid/`,
            },
          ),
        };
      }
    }
    const script = this.nextScript(p.name) ?? this.defaultScript(p);
    if (!script.activities) script.activities = this.defaultScript(p).activities;
    const types = new Map(
      (Array.isArray(p.properties.activities) ? p.properties.activities : [])
        .filter(isObject)
        .map((a) => [lower(String(a.name)), String(a.type ?? 'Unknown')]),
    );
    script.activities = script.activities?.map((a) => ({
      ...a,
      activityType: a.activityType ?? types.get(lower(a.activityName)),
    }));
    const run = new PipelineRun(this.id, p.name, params, script, this.timing.runQueueMs, {
      cancelMs: this.timing.cancelMs,
    });
    this.runs.set(run.runId, run);
    this.timing.onChange();
    return { ok: true, run };
  }

  private defaultScript(p: AdfObject): PipelineRunScript {
    const acts = Array.isArray(p.properties.activities) ? p.properties.activities.filter(isObject) : [];
    return {
      status: 'Succeeded',
      activities: acts.map((a) => ({
        activityName: String(a.name),
        activityType: String(a.type ?? 'Unknown'),
        status: 'Succeeded' as const,
      })),
    };
  }

  run(runId: string): PipelineRun | undefined {
    return this.runs.get(runId);
  }

  runNotFound(runId: string): AzureError {
    return this.notFound('pipelineruns', runId);
  }
}

/** ADF returns SecureString values as asterisks on reads. */
export function maskSecureStrings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecureStrings);
  if (isObject(v)) {
    if (v.type === 'SecureString' && typeof v.value === 'string') return { ...v, value: '**********' };
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = maskSecureStrings(x);
    return out;
  }
  return v;
}
