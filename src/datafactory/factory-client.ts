/**
 * Typed client for the Data Factory REST API (api-version 2018-06-01) over the
 * shared HttpClient: the factory resource, its child objects (get/put/delete/list
 * with paging), trigger start/stop (following a 202 when the service sends one),
 * pipeline runs (createRun, get, cancel) and activity-run queries.
 */
import { isHttpError } from '../http/errors';
import type { HttpClient, HttpResponse } from '../http/types';
import { waitForAsyncOperation, type AsyncPollOptions } from './arm-client';

export const DATA_FACTORY_API_VERSION = '2018-06-01';

/** Child collections of a factory, spelt as the REST paths spell them. */
export type FactoryChildType =
  | 'integrationRuntimes'
  | 'linkedservices'
  | 'datasets'
  | 'dataflows'
  | 'pipelines'
  | 'triggers'
  | 'credentials'
  | 'globalParameters'
  | 'managedVirtualNetworks'
  | 'managedPrivateEndpoints'
  | 'adfcdcs';

export const FACTORY_CHILD_TYPES: readonly FactoryChildType[] = [
  'integrationRuntimes',
  'linkedservices',
  'datasets',
  'dataflows',
  'pipelines',
  'triggers',
  'credentials',
  'globalParameters',
  'managedVirtualNetworks',
  'managedPrivateEndpoints',
  'adfcdcs',
];

/** A factory child object as the service returns it. */
export interface FactoryObject {
  id?: string;
  /** For managed private endpoints: '<vnet>/<name>' (the client joins them). */
  name: string;
  type?: string;
  properties: Record<string, unknown>;
  etag?: string;
}

export interface FactoryResource {
  id?: string;
  name: string;
  location?: string;
  tags?: Record<string, string>;
  identity?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  eTag?: string;
}

export type PipelineRunStatus =
  'Queued' | 'InProgress' | 'Succeeded' | 'Failed' | 'Canceling' | 'Cancelled' | string;

export interface PipelineRun {
  runId: string;
  pipelineName?: string;
  status: PipelineRunStatus;
  message?: string;
  runStart?: string | null;
  runEnd?: string | null;
  durationInMs?: number | null;
  parameters?: Record<string, string>;
  lastUpdated?: string;
  [key: string]: unknown;
}

export interface ActivityRun {
  activityRunId?: string;
  activityName: string;
  activityType?: string;
  status: string;
  activityRunStart?: string | null;
  activityRunEnd?: string | null;
  durationInMs?: number | null;
  input?: unknown;
  output?: unknown;
  error?: {
    errorCode?: string;
    message?: string;
    failureType?: string;
    target?: string;
    details?: unknown;
  } | null;
  [key: string]: unknown;
}

export interface FactoryLocation {
  /** Resource Manager URL, e.g. https://management.azure.com/ */
  resourceManagerUrl: string;
  subscriptionId: string;
  resourceGroupName: string;
  factoryName: string;
}

export interface FactoryClientOptions {
  /** How 202 answers to trigger start/stop are polled. */
  poll?: AsyncPollOptions;
}

interface ListPage<T> {
  value?: T[];
  nextLink?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const seg = (s: string): string => encodeURIComponent(s);

export class FactoryClient {
  readonly factoryUrl: string;

  constructor(
    private readonly http: HttpClient,
    readonly location: FactoryLocation,
    private readonly options: FactoryClientOptions = {},
  ) {
    const base = location.resourceManagerUrl.replace(/\/+$/, '');
    this.factoryUrl =
      `${base}/subscriptions/${seg(location.subscriptionId)}/resourceGroups/${seg(location.resourceGroupName)}` +
      `/providers/Microsoft.DataFactory/factories/${seg(location.factoryName)}`;
  }

  /** Resource id of the factory, as ARM spells it. */
  get factoryId(): string {
    const l = this.location;
    return `/subscriptions/${l.subscriptionId}/resourceGroups/${l.resourceGroupName}/providers/Microsoft.DataFactory/factories/${l.factoryName}`;
  }

  private query(extra: Record<string, string | number | boolean | undefined> = {}) {
    return { 'api-version': DATA_FACTORY_API_VERSION, ...extra };
  }

  /** URL of a child collection; managed private endpoints live under their managed virtual network. */
  collectionUrl(type: FactoryChildType, vnet?: string): string {
    if (type === 'managedPrivateEndpoints') {
      if (!vnet) throw new Error('Managed private endpoints are listed per managed virtual network.');
      return `${this.factoryUrl}/managedVirtualNetworks/${seg(vnet)}/managedPrivateEndpoints`;
    }
    return `${this.factoryUrl}/${type}`;
  }

  objectUrl(type: FactoryChildType, name: string): string {
    if (type === 'managedPrivateEndpoints') {
      const [vnet, mpe] = splitEndpointName(name);
      return `${this.collectionUrl(type, vnet)}/${seg(mpe)}`;
    }
    return `${this.collectionUrl(type)}/${seg(name)}`;
  }

  // ---- factory -------------------------------------------------------------------------

  /** The factory, or undefined when it does not exist. */
  async getFactory(signal?: AbortSignal): Promise<FactoryResource | undefined> {
    const res = await this.http.request<FactoryResource>({
      method: 'GET',
      url: this.factoryUrl,
      query: this.query(),
      acceptStatuses: [404],
      signal,
      operation: `get factory ${this.location.factoryName}`,
    });
    return res.status === 404 ? undefined : res.data;
  }

  async putFactory(body: Record<string, unknown>, signal?: AbortSignal): Promise<FactoryResource> {
    const res = await this.http.request<FactoryResource>({
      method: 'PUT',
      url: this.factoryUrl,
      query: this.query(),
      json: body,
      signal,
      operation: `create or update factory ${this.location.factoryName}`,
    });
    return res.data;
  }

  // ---- child objects -------------------------------------------------------------------

  /** Every object of a type, following nextLink. Managed private endpoints: pass the vnet. */
  async list(type: FactoryChildType, signal?: AbortSignal, vnet?: string): Promise<FactoryObject[]> {
    const out: FactoryObject[] = [];
    let url: string | undefined = this.collectionUrl(type, vnet);
    let first = true;
    while (url) {
      const res: HttpResponse<ListPage<FactoryObject>> = await this.http.request<ListPage<FactoryObject>>({
        method: 'GET',
        url,
        query: first ? this.query() : undefined,
        signal,
        operation: `list ${type}`,
      });
      first = false;
      for (const o of res.data?.value ?? []) {
        if (!isObject(o) || typeof o.name !== 'string') continue;
        out.push({
          ...o,
          name: type === 'managedPrivateEndpoints' && vnet ? `${vnet}/${o.name}` : o.name,
          properties: isObject(o.properties) ? o.properties : {},
        });
      }
      url = res.data?.nextLink || undefined;
    }
    return out;
  }

  /** One object, or undefined when it does not exist. */
  async get(type: FactoryChildType, name: string, signal?: AbortSignal): Promise<FactoryObject | undefined> {
    const res = await this.http.request<FactoryObject>({
      method: 'GET',
      url: this.objectUrl(type, name),
      query: this.query(),
      acceptStatuses: [404],
      signal,
      operation: `get ${describeType(type)} ${name}`,
    });
    if (res.status === 404) return undefined;
    return { ...res.data, name, properties: isObject(res.data?.properties) ? res.data.properties : {} };
  }

  async put(
    type: FactoryChildType,
    name: string,
    properties: Record<string, unknown>,
    opts: { ifMatch?: string; signal?: AbortSignal } = {},
  ): Promise<FactoryObject> {
    const res = await this.http.request<FactoryObject>({
      method: 'PUT',
      url: this.objectUrl(type, name),
      query: this.query(),
      json: { properties },
      headers: opts.ifMatch ? { 'If-Match': opts.ifMatch } : undefined,
      signal: opts.signal,
      operation: `create or update ${describeType(type)} ${name}`,
    });
    return {
      ...res.data,
      name,
      properties: isObject(res.data?.properties) ? res.data.properties : properties,
    };
  }

  /** Deletes an object; true when it existed (200), false when it was already gone (204/404). */
  async delete(type: FactoryChildType, name: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.http.request({
      method: 'DELETE',
      url: this.objectUrl(type, name),
      query: this.query(),
      acceptStatuses: [404],
      signal,
      operation: `delete ${describeType(type)} ${name}`,
    });
    return res.status === 200 || res.status === 202;
  }

  // ---- triggers ------------------------------------------------------------------------

  startTrigger(name: string, signal?: AbortSignal): Promise<void> {
    return this.triggerAction('start', name, signal);
  }

  stopTrigger(name: string, signal?: AbortSignal): Promise<void> {
    return this.triggerAction('stop', name, signal);
  }

  private async triggerAction(action: 'start' | 'stop', name: string, signal?: AbortSignal): Promise<void> {
    const operation = `${action} trigger ${name}`;
    const res = await this.http.request({
      method: 'POST',
      url: `${this.objectUrl('triggers', name)}/${action}`,
      query: this.query(),
      // Starting a started trigger (or stopping a stopped one) is harmless: safe to resend.
      idempotent: true,
      signal,
      operation,
    });
    if (res.status === 202)
      await waitForAsyncOperation(this.http, res, { ...this.options.poll, signal, operation });
  }

  // ---- runs ----------------------------------------------------------------------------

  /** Starts a pipeline run. Never resent automatically: a resend could start a second run. */
  async createRun(
    pipelineName: string,
    parameters: Record<string, unknown>,
    opts: {
      referencePipelineRunId?: string;
      isRecovery?: boolean;
      startActivityName?: string;
      signal?: AbortSignal;
    } = {},
  ): Promise<string> {
    const res = await this.http.request<{ runId?: string }>({
      method: 'POST',
      url: `${this.objectUrl('pipelines', pipelineName)}/createRun`,
      query: this.query({
        referencePipelineRunId: opts.referencePipelineRunId,
        isRecovery: opts.isRecovery,
        startActivityName: opts.startActivityName,
      }),
      json: parameters,
      signal: opts.signal,
      operation: `start a run of pipeline ${pipelineName}`,
    });
    const runId = res.data?.runId;
    if (typeof runId !== 'string' || runId === '') {
      throw new Error(`Data Factory accepted the run of pipeline ${pipelineName} but returned no runId.`);
    }
    return runId;
  }

  async getPipelineRun(runId: string, signal?: AbortSignal): Promise<PipelineRun> {
    const res = await this.http.request<PipelineRun>({
      method: 'GET',
      url: `${this.factoryUrl}/pipelineruns/${seg(runId)}`,
      query: this.query(),
      signal,
      operation: `get pipeline run ${runId}`,
    });
    return res.data;
  }

  async cancelPipelineRun(
    runId: string,
    opts: { recursive?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: `${this.factoryUrl}/pipelineruns/${seg(runId)}/cancel`,
      query: this.query({ isRecursive: opts.recursive ?? true }),
      idempotent: true,
      signal: opts.signal,
      operation: `cancel pipeline run ${runId}`,
    });
  }

  /**
   * Pipeline runs of the factory updated in the window, optionally filtered (operands such as
   * PipelineName, Status, RunId), following continuationToken.
   */
  async queryPipelineRuns(
    query: {
      lastUpdatedAfter: string;
      lastUpdatedBefore: string;
      filters?: { operand: string; operator: 'Equals' | 'NotEquals' | 'In' | 'NotIn'; values: string[] }[];
      orderBy?: { orderBy: string; order: 'ASC' | 'DESC' }[];
    },
    signal?: AbortSignal,
  ): Promise<PipelineRun[]> {
    const out: PipelineRun[] = [];
    let continuationToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res: HttpResponse<{ value?: PipelineRun[]; continuationToken?: string }> =
        await this.http.request<{ value?: PipelineRun[]; continuationToken?: string }>({
          method: 'POST',
          url: `${this.factoryUrl}/queryPipelineRuns`,
          query: this.query(),
          json: { ...query, ...(continuationToken ? { continuationToken } : {}) },
          // A read: safe to resend.
          idempotent: true,
          signal,
          operation: 'query pipeline runs',
        });
      for (const r of res.data?.value ?? []) if (isObject(r) && typeof r.runId === 'string') out.push(r);
      continuationToken = res.data?.continuationToken || undefined;
      if (!continuationToken) break;
    }
    return out;
  }

  /** Activity runs of a pipeline run updated in the window, following continuationToken. */
  async queryActivityRuns(
    runId: string,
    window: { lastUpdatedAfter: string; lastUpdatedBefore: string },
    signal?: AbortSignal,
  ): Promise<ActivityRun[]> {
    const out: ActivityRun[] = [];
    let continuationToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res: HttpResponse<{ value?: ActivityRun[]; continuationToken?: string }> =
        await this.http.request<{
          value?: ActivityRun[];
          continuationToken?: string;
        }>({
          method: 'POST',
          url: `${this.factoryUrl}/pipelineruns/${seg(runId)}/queryActivityruns`,
          query: this.query(),
          json: { ...window, ...(continuationToken ? { continuationToken } : {}) },
          // A read: safe to resend.
          idempotent: true,
          signal,
          operation: `query activity runs of run ${runId}`,
        });
      for (const a of res.data?.value ?? []) if (isObject(a)) out.push(a);
      continuationToken = res.data?.continuationToken || undefined;
      if (!continuationToken) break;
    }
    return out;
  }
}

/** 'vnet/mpe' → ['vnet', 'mpe']. */
export function splitEndpointName(name: string): [string, string] {
  const i = name.indexOf('/');
  if (i <= 0 || i === name.length - 1) {
    throw new Error(
      `Managed private endpoint name '${name}' must be '<managed virtual network>/<endpoint>'.`,
    );
  }
  return [name.slice(0, i), name.slice(i + 1)];
}

const TYPE_LABELS: Record<FactoryChildType, string> = {
  integrationRuntimes: 'integration runtime',
  linkedservices: 'linked service',
  datasets: 'dataset',
  dataflows: 'data flow',
  pipelines: 'pipeline',
  triggers: 'trigger',
  credentials: 'credential',
  globalParameters: 'global parameters',
  managedVirtualNetworks: 'managed virtual network',
  managedPrivateEndpoints: 'managed private endpoint',
  adfcdcs: 'change data capture',
};

export function describeType(type: FactoryChildType): string {
  return TYPE_LABELS[type];
}

/** ARM resource type (any case) → child type, e.g. Microsoft.DataFactory/factories/linkedServices → linkedservices. */
export function childTypeOfArmType(armType: string): FactoryChildType | undefined {
  const l = armType.toLowerCase();
  if (l === 'microsoft.datafactory/factories/managedvirtualnetworks/managedprivateendpoints')
    return 'managedPrivateEndpoints';
  const m = /^microsoft\.datafactory\/factories\/([a-z]+)$/.exec(l);
  if (!m) return undefined;
  return FACTORY_CHILD_TYPES.find((t) => t.toLowerCase() === m[1]);
}

/** ARM type string for a child type (the spelling ADF exports use). */
export function armTypeOf(type: FactoryChildType): string {
  const spelled: Record<FactoryChildType, string> = {
    integrationRuntimes: 'integrationRuntimes',
    linkedservices: 'linkedServices',
    datasets: 'datasets',
    dataflows: 'dataflows',
    pipelines: 'pipelines',
    triggers: 'triggers',
    credentials: 'credentials',
    globalParameters: 'globalParameters',
    managedVirtualNetworks: 'managedVirtualNetworks',
    managedPrivateEndpoints: 'managedVirtualNetworks/managedPrivateEndpoints',
    adfcdcs: 'adfcdcs',
  };
  return `Microsoft.DataFactory/factories/${spelled[type]}`;
}

/** The service's error code of a failed request (e.g. TriggerEnabledCannotUpdate), if any. */
export function serviceErrorCode(err: unknown): string | undefined {
  return isHttpError(err) ? err.code : undefined;
}
