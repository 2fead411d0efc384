/**
 * Emulated ARM resource-group deployments: PUT (201/200 + Azure-AsyncOperation,
 * then an asynchronous run that applies the template), GET, list, HEAD, DELETE,
 * operationStatuses, operationResults, operations, validate, whatIf and cancel.
 *
 * Applying a resource: Microsoft.DataFactory/factories and its child types go
 * through the same FactoryState.put the Data Factory REST API uses (so a
 * started trigger fails with TriggerEnabledCannotUpdate and a missing
 * reference with ADF's "invalid reference" error); Microsoft.Resources/
 * deployments runs a nested deployment (inline template with inner or outer
 * expression scope, or templateLink uri/relativePath fetched from 127.0.0.1);
 * any other type is recorded as a generic resource of the resource group.
 * Independent resources run concurrently, as in ARM; a failed resource skips
 * its dependants and fails the deployment with DeploymentFailed.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { EmuRequest, EmuResponse } from '../core';
import {
  azureError,
  clone,
  deepEqual,
  diffJson,
  errorObject,
  isAzureError,
  isObject,
  isoDuration,
  isoNow,
  lower,
  operationId,
  queryParam,
  rgId,
  type AzureError,
} from './common';
import { ADF_TYPES, findReferences, kindFromArmType, maskSecureStrings, type FactoryState } from './factory';
import type { ArmCall, ArmHttp } from './http';
import type { AzureState, ResourceGroup } from './state';
import {
  evaluateOutputs,
  parametersEcho,
  prepareTemplate,
  unwrapParameters,
  type DeploymentScope,
  type PlannedResource,
  type PreparedTemplate,
} from './template';

export type DeploymentState = 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

export interface DeploymentOperation {
  operationId: string;
  provisioningOperation: 'Create' | 'Delete' | 'Read' | 'Action';
  provisioningState: 'Running' | 'Succeeded' | 'Failed';
  startedAt: number;
  endedAt?: number;
  statusCode?: string;
  statusMessage?: unknown;
  targetResource?: { id: string; resourceType: string; resourceName: string; apiVersion?: string };
  trackingId: string;
  serviceRequestId: string;
  /** The error, for failed operations. */
  error?: AzureError;
}

const ADF_API_VERSIONS = ['2018-06-01', '2017-09-01-preview'];
const DEPLOYMENT_FAILED_MESSAGE =
  'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.';

const STATUS_NAMES: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  413: 'RequestEntityTooLarge',
  429: 'TooManyRequests',
  500: 'InternalServerError',
};

export class DeploymentRecord {
  readonly id: string;
  state: DeploymentState = 'Accepted';
  readonly createdAt = Date.now();
  updatedAt = Date.now();
  startedAt?: number;
  endedAt?: number;
  readonly asyncOperationId = operationId();
  readonly operations: DeploymentOperation[] = [];
  error?: AzureError;
  outputs?: Record<string, { type: string; value: unknown }>;
  outputResources: string[] = [];
  cancelRequested = false;
  /** Ids of every resource written by this deployment and its nested deployments. */
  readonly deployedIds = new Set<string>();
  /** Where the template was downloaded from (relativePath links resolve against it). */
  templateUri?: string;
  /** The deployment this one is nested in (cancelling the parent cancels it). */
  parent?: DeploymentRecord;
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly name: string,
    readonly mode: 'Incremental' | 'Complete',
    readonly correlationId: string,
    readonly prepared: PreparedTemplate,
    readonly templateLink?: Record<string, unknown>,
    readonly parametersLink?: Record<string, unknown>,
    readonly debugSetting?: unknown,
  ) {
    this.id = `${rgId(subscriptionId, resourceGroup)}/providers/Microsoft.Resources/deployments/${name}`;
  }

  get cancelled(): boolean {
    return this.cancelRequested || (this.parent?.cancelled ?? false);
  }

  get active(): boolean {
    return this.state === 'Accepted' || this.state === 'Running';
  }

  toJson(): Record<string, unknown> {
    const end = this.endedAt ?? Date.now();
    const properties: Record<string, unknown> = {
      templateHash: this.prepared.templateHash,
      parameters: parametersEcho(this.prepared),
      mode: this.mode,
      provisioningState: this.state,
      timestamp: isoNow(this.updatedAt),
      duration: isoDuration(end - this.createdAt),
      correlationId: this.correlationId,
      providers: providersOf(this.prepared.resources),
      dependencies: dependenciesOf(this.prepared.resources),
    };
    if (this.templateLink) properties.templateLink = this.templateLink;
    if (this.parametersLink) properties.parametersLink = this.parametersLink;
    if (this.debugSetting) properties.debugSetting = this.debugSetting;
    if (this.state === 'Succeeded') {
      properties.outputs = this.outputs ?? {};
      properties.outputResources = this.outputResources.map((id) => ({ id }));
    }
    if (this.error) properties.error = errorObject(this.error);
    return { id: this.id, name: this.name, type: 'Microsoft.Resources/deployments', properties };
  }

  operationJson(op: DeploymentOperation): Record<string, unknown> {
    const properties: Record<string, unknown> = {
      provisioningOperation: op.provisioningOperation,
      provisioningState: op.provisioningState,
      timestamp: isoNow(op.endedAt ?? op.startedAt),
      duration: isoDuration((op.endedAt ?? Date.now()) - op.startedAt),
      trackingId: op.trackingId,
      serviceRequestId: op.serviceRequestId,
    };
    if (op.statusCode) properties.statusCode = op.statusCode;
    if (op.statusMessage !== undefined) properties.statusMessage = op.statusMessage;
    if (op.targetResource) properties.targetResource = op.targetResource;
    return { id: `${this.id}/operations/${op.operationId}`, operationId: op.operationId, properties };
  }
}

function providersOf(resources: PlannedResource[]): unknown[] {
  const byNs = new Map<string, Map<string, Set<string>>>();
  for (const r of resources) {
    const [ns, ...rest] = r.type.split('/');
    const types = byNs.get(ns) ?? new Map<string, Set<string>>();
    const t = rest.join('/');
    const locs = types.get(t) ?? new Set<string>();
    if (typeof r.body.location === 'string') locs.add(r.body.location);
    types.set(t, locs);
    byNs.set(ns, types);
  }
  return [...byNs.entries()].map(([namespace, types]) => ({
    namespace,
    resourceTypes: [...types.entries()].map(([resourceType, locs]) => ({
      resourceType,
      locations: [...locs],
    })),
  }));
}

function dependenciesOf(resources: PlannedResource[]): unknown[] {
  const byId = new Map(resources.map((r) => [lower(r.id), r]));
  return resources
    .filter((r) => r.dependsOn.length > 0)
    .map((r) => ({
      dependsOn: r.dependsOn.map((d) => {
        const t = byId.get(lower(d));
        return { id: d, resourceType: t?.type ?? '', resourceName: t?.name ?? '' };
      }),
      id: r.id,
      resourceType: r.type,
      resourceName: r.name,
    }));
}

interface AsyncResult {
  readyAt: number;
  subscriptionId: string;
  result: () => EmuResponse;
}

interface ParsedRequest {
  mode: 'Incremental' | 'Complete';
  template: unknown;
  parameters: Record<string, unknown>;
  templateLink?: Record<string, unknown>;
  parametersLink?: Record<string, unknown>;
  templateUri?: string;
  debugSetting?: unknown;
  whatIfSettings?: Record<string, unknown>;
}

/** A leaf resource of a fully expanded template (nested deployments resolved), for whatIf and preflight. */
interface ExpandedResource {
  resource: PlannedResource;
  scope: DeploymentScope;
}

export class DeploymentsEngine {
  readonly records = new Map<string, DeploymentRecord>();
  readonly files = new Map<string, string>();
  private readonly asyncResults = new Map<string, AsyncResult>();

  constructor(
    private readonly state: AzureState,
    private readonly http: ArmHttp,
  ) {}

  reset(): void {
    this.records.clear();
    this.files.clear();
    this.asyncResults.clear();
  }

  private key(sub: string, rg: string, name: string): string {
    return `${lower(sub)}|${lower(rg)}|${lower(name)}`;
  }

  get(sub: string, rg: string, name: string): DeploymentRecord | undefined {
    return this.records.get(this.key(sub, rg, name));
  }

  list(sub?: string, rg?: string): DeploymentRecord[] {
    return [...this.records.values()].filter(
      (d) =>
        (!sub || lower(d.subscriptionId) === lower(sub)) && (!rg || lower(d.resourceGroup) === lower(rg)),
    );
  }

  private get base(): string {
    return this.http.host.url;
  }

  // ---- routes --------------------------------------------------------------------------

  registerRoutes(): void {
    const h = this.http;
    const dep = '/subscriptions/:sub/resourcegroups/:rg/providers/Microsoft.Resources/deployments/:name';
    const opts = (action: string) => ({ action, apiVersions: 'resources' as const });
    h.route(
      'GET',
      '/subscriptions/:sub/resourcegroups/:rg/providers/Microsoft.Resources/deployments',
      'arm.deployments.list',
      opts('Microsoft.Resources/deployments/read'),
      (c) =>
        this.withRg(c, (rg) => {
          const top = Number(queryParam(c.req.query, '$top') ?? 0);
          let list = this.list(rg.subscriptionId, rg.name).map((d) => d.toJson());
          if (top > 0) list = list.slice(0, top);
          return h.json(200, { value: list });
        }),
    );
    h.route('PUT', dep, 'arm.deployments.put', opts('Microsoft.Resources/deployments/write'), (c) =>
      this.put(c),
    );
    h.route('GET', dep, 'arm.deployments.get', opts('Microsoft.Resources/deployments/read'), (c) =>
      this.withDeployment(c, (d) => h.json(200, d.toJson())),
    );
    h.route('HEAD', dep, 'arm.deployments.head', opts('Microsoft.Resources/deployments/read'), (c) =>
      this.withRg(c, (rg) => ({
        status: this.get(rg.subscriptionId, rg.name, c.req.params.name) ? 204 : 404,
      })),
    );
    h.route('DELETE', dep, 'arm.deployments.delete', opts('Microsoft.Resources/deployments/delete'), (c) =>
      this.deleteDeployment(c),
    );
    h.route(
      'GET',
      `${dep}/operationStatuses/:op`,
      'arm.operationStatuses',
      opts('Microsoft.Resources/deployments/operationstatuses/read'),
      (c) =>
        this.withDeployment(c, (d) => {
          if (c.req.params.op !== d.asyncOperationId) {
            return h.error(
              azureError(
                404,
                'OperationNotFound',
                `The operation '${c.req.params.op}' could not be found for deployment '${d.name}'.`,
              ),
            );
          }
          const status = d.active ? 'Running' : d.state;
          const body: Record<string, unknown> = { status };
          if (d.state === 'Failed' && d.error) body.error = errorObject(d.error);
          return h.json(
            200,
            body,
            d.active ? { 'retry-after': String(this.state.options.asyncRetryAfterSeconds) } : {},
          );
        }),
    );
    h.route(
      'GET',
      `${dep}/operationResults/:op`,
      'arm.operationResults',
      opts('Microsoft.Resources/deployments/read'),
      (c) =>
        this.withDeployment(c, (d) => {
          if (d.active) {
            return {
              status: 202,
              headers: {
                location: this.locationFor(c.req, d),
                'retry-after': String(this.state.options.asyncRetryAfterSeconds),
              },
            };
          }
          return h.json(200, d.toJson());
        }),
    );
    h.route(
      'GET',
      `${dep}/operations`,
      'arm.deployments.operations',
      opts('Microsoft.Resources/deployments/operations/read'),
      (c) => this.withDeployment(c, (d) => this.operations(c.req, d)),
    );
    h.route(
      'GET',
      `${dep}/operations/:opId`,
      'arm.deployments.operations',
      opts('Microsoft.Resources/deployments/operations/read'),
      (c) =>
        this.withDeployment(c, (d) => {
          const op = d.operations.find((o) => o.operationId === c.req.params.opId);
          if (!op)
            return h.error(
              azureError(
                404,
                'DeploymentOperationNotFound',
                `Deployment operation '${c.req.params.opId}' could not be found.`,
              ),
            );
          return h.json(200, d.operationJson(op));
        }),
    );
    h.route(
      'POST',
      `${dep}/cancel`,
      'arm.deployments.cancel',
      opts('Microsoft.Resources/deployments/cancel/action'),
      (c) =>
        this.withDeployment(c, (d) => {
          if (!d.active) {
            return h.error(
              azureError(
                409,
                'DeploymentCannotBeCancelled',
                `The deployment '${d.name}' cannot be cancelled because it is in '${d.state}' state.`,
              ),
            );
          }
          d.cancelRequested = true;
          // Not started yet: nothing to wait for.
          if (d.state === 'Accepted') this.finish(d, 'Canceled');
          return { status: 204 };
        }),
    );
    h.route(
      'POST',
      `${dep}/validate`,
      'arm.deployments.validate',
      opts('Microsoft.Resources/deployments/validate/action'),
      (c) => this.validate(c),
    );
    h.route(
      'POST',
      `${dep}/whatIf`,
      'arm.deployments.whatIf',
      opts('Microsoft.Resources/deployments/whatIf/action'),
      (c) => this.whatIf(c),
    );
    h.route(
      'GET',
      '/subscriptions/:sub/operationresults/:id',
      'arm.operationResults',
      opts('Microsoft.Resources/deployments/read'),
      (c) => {
        const r = this.asyncResults.get(c.req.params.id);
        if (!r || lower(r.subscriptionId) !== lower(c.subscription.subscriptionId)) {
          return h.error(
            azureError(404, 'OperationNotFound', `The operation '${c.req.params.id}' could not be found.`),
          );
        }
        if (Date.now() < r.readyAt) {
          return {
            status: 202,
            headers: {
              location: `${this.base}${c.req.path}?${c.req.query.toString()}`,
              'retry-after': String(this.state.options.asyncRetryAfterSeconds),
            },
          };
        }
        return r.result();
      },
    );
  }

  private withRg(
    c: ArmCall,
    fn: (rg: ResourceGroup) => EmuResponse | Promise<EmuResponse>,
  ): EmuResponse | Promise<EmuResponse> {
    const rg = this.state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
    if (!rg)
      return this.http.error(
        azureError(404, 'ResourceGroupNotFound', `Resource group '${c.req.params.rg}' could not be found.`),
      );
    return fn(rg);
  }

  private withDeployment(
    c: ArmCall,
    fn: (d: DeploymentRecord) => EmuResponse | Promise<EmuResponse>,
  ): EmuResponse | Promise<EmuResponse> {
    return this.withRg(c, (rg) => {
      const d = this.get(rg.subscriptionId, rg.name, c.req.params.name);
      if (!d)
        return this.http.error(
          azureError(404, 'DeploymentNotFound', `Deployment '${c.req.params.name}' could not be found.`),
        );
      return fn(d);
    });
  }

  private apiVersion(req: EmuRequest): string {
    return queryParam(req.query, 'api-version') ?? '2024-03-01';
  }

  private deploymentUrl(d: { subscriptionId: string; resourceGroup: string; name: string }): string {
    return `${this.base}${rgId(d.subscriptionId, d.resourceGroup)}/providers/Microsoft.Resources/deployments/${d.name}`;
  }

  private locationFor(req: EmuRequest, d: DeploymentRecord): string {
    return `${this.deploymentUrl(d)}/operationResults/${d.asyncOperationId}?api-version=${this.apiVersion(req)}`;
  }

  private asyncHeaders(req: EmuRequest, d: DeploymentRecord): Record<string, string> {
    return {
      'azure-asyncoperation': `${this.deploymentUrl(d)}/operationStatuses/${d.asyncOperationId}?api-version=${this.apiVersion(req)}`,
      location: this.locationFor(req, d),
      'retry-after': String(this.state.options.asyncRetryAfterSeconds),
    };
  }

  private operations(req: EmuRequest, d: DeploymentRecord): EmuResponse {
    const all = [...d.operations].reverse().map((op) => d.operationJson(op));
    const top = Number(queryParam(req.query, '$top') ?? 0);
    const list = top > 0 ? all.slice(0, top) : all;
    const size = this.state.options.listPageSize;
    const skip = Number(queryParam(req.query, '$skiptoken') ?? 0) || 0;
    const page = list.slice(skip, skip + size);
    const body: Record<string, unknown> = { value: page };
    if (skip + size < list.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skiptoken', String(skip + size));
      body.nextLink = `${this.base}${req.path}?${q.toString()}`;
    }
    return this.http.json(200, body);
  }

  // ---- request parsing -----------------------------------------------------------------

  private async parseRequest(req: EmuRequest): Promise<ParsedRequest | AzureError> {
    const max = this.state.options.maxRequestBytes;
    if (req.rawBody.length > max) {
      return azureError(
        413,
        'RequestContentTooLarge',
        `The request content size exceeds the maximum size of ${Math.round(max / 1024 / 1024) || max} ${max >= 1024 * 1024 ? 'MB' : 'bytes'}.`,
      );
    }
    const body = req.body;
    if (!isObject(body)) {
      return azureError(
        400,
        'InvalidRequestContent',
        "The request content was invalid and could not be deserialized: 'Unexpected end when deserializing object. Path '', line 1, position 1.'.",
      );
    }
    const props = body.properties;
    if (!isObject(props)) {
      return azureError(
        400,
        'InvalidRequestContent',
        "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON. Path '', line 1, position 2.'.",
      );
    }
    const modeRaw = props.mode;
    if (typeof modeRaw !== 'string') {
      return azureError(
        400,
        'InvalidRequestContent',
        "The request content was invalid and could not be deserialized: 'Required property 'mode' not found in JSON. Path 'properties', line 1, position 15.'.",
      );
    }
    const mode =
      lower(modeRaw) === 'incremental'
        ? 'Incremental'
        : lower(modeRaw) === 'complete'
          ? 'Complete'
          : undefined;
    if (!mode) {
      return azureError(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: 'Error converting value "${modeRaw}" to type 'Microsoft.WindowsAzure.ResourceStack.Frontdoor.Data.Definitions.DeploymentMode'. Path 'properties.mode'.'.`,
      );
    }
    if (props.template !== undefined && props.templateLink !== undefined) {
      return azureError(
        400,
        'InvalidDeployment',
        "The deployment must have either 'template' or 'templateLink', not both.",
      );
    }
    let template = props.template;
    let templateUri: string | undefined;
    const templateLink = isObject(props.templateLink) ? props.templateLink : undefined;
    if (template === undefined) {
      if (!templateLink)
        return azureError(
          400,
          'InvalidDeployment',
          "The deployment must have a 'template' or a 'templateLink' property.",
        );
      if (typeof templateLink.id === 'string') {
        return azureError(
          400,
          'InvalidDeployment',
          'Template specs (templateLink.id) are not supported by this emulator.',
        );
      }
      if (typeof templateLink.uri !== 'string') {
        return azureError(
          400,
          'InvalidDeployment',
          "A top-level templateLink needs an absolute 'uri' (relativePath is only valid in a linked template).",
        );
      }
      templateUri = templateLink.uri;
      const fetched = await this.fetchJson(templateUri);
      if (isAzureError(fetched)) return fetched;
      template = fetched;
    }
    let paramsRaw = props.parameters;
    const parametersLink = isObject(props.parametersLink) ? props.parametersLink : undefined;
    if (parametersLink) {
      if (paramsRaw !== undefined)
        return azureError(
          400,
          'InvalidDeployment',
          "The deployment must have either 'parameters' or 'parametersLink', not both.",
        );
      const fetched = await this.fetchJson(String(parametersLink.uri ?? ''));
      if (isAzureError(fetched)) return fetched;
      paramsRaw = isObject(fetched) && isObject(fetched.parameters) ? fetched.parameters : fetched;
    }
    const parameters = unwrapParameters(paramsRaw, (vault, name) =>
      this.state.keyVaultSecrets.get(`${lower(vault)}|${lower(name)}`),
    );
    if (isAzureError(parameters)) return parameters;
    return {
      mode,
      template,
      parameters,
      templateLink,
      parametersLink,
      templateUri,
      debugSetting: props.debugSetting,
      whatIfSettings: isObject(props.whatIfSettings) ? props.whatIfSettings : undefined,
    };
  }

  private scopeFor(rg: ResourceGroup, name: string, templateUri?: string): DeploymentScope {
    const sub = this.state.subscription(rg.subscriptionId);
    return {
      subscriptionId: rg.subscriptionId,
      resourceGroup: rg.name,
      location: rg.location,
      tenantId: this.state.tenantOf(rg.subscriptionId),
      subscriptionDisplayName: sub?.displayName,
      deploymentName: name,
      templateLinkUri: templateUri,
    };
  }

  private prepare(
    template: unknown,
    params: Record<string, unknown>,
    scope: DeploymentScope,
  ): PreparedTemplate | AzureError {
    try {
      return prepareTemplate(template, params, scope);
    } catch (e) {
      if (isAzureError(e)) return e;
      throw e;
    }
  }

  /** Downloads a linked template or parameters file (127.0.0.1 only; the emulator's own files are served from memory). */
  async fetchJson(uri: string): Promise<unknown> {
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      return azureError(
        400,
        'InvalidContentLink',
        `The provided content link '${uri}' is invalid or not supported. Content link must be an absolute URI not referencing local host or UNC path.`,
      );
    }
    const tracking = crypto.randomUUID();
    const downloadError = (why: string) =>
      azureError(
        400,
        'InvalidContentLink',
        `Unable to download deployment content from '${uri}'. The tracking Id is '${tracking}'. Please see https://aka.ms/arm-deploy for usage details. (${why})`,
      );
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
      return downloadError('the emulator only downloads content from 127.0.0.1');
    }
    let text: string | undefined;
    const own = new URL(this.base);
    const prefix = '/_emulator/arm/files/';
    if (u.host === own.host && u.pathname.startsWith(prefix)) {
      text = this.files.get(decodeURIComponent(u.pathname.slice(prefix.length)));
      if (text === undefined) return downloadError('404 Not Found');
    } else {
      const got = await download(u, this.http.emu.caPem);
      if (typeof got !== 'string') return downloadError(got.error);
      text = got;
    }
    try {
      return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    } catch (e) {
      return azureError(
        400,
        'InvalidTemplate',
        `Deployment template parse failed: '${e instanceof Error ? e.message : String(e)}'.`,
      );
    }
  }

  // ---- PUT and the asynchronous run ----------------------------------------------------

  private async put(c: ArmCall): Promise<EmuResponse> {
    const rg = this.state.resourceGroup(c.subscription.subscriptionId, c.req.params.rg);
    if (!rg)
      return this.http.error(
        azureError(404, 'ResourceGroupNotFound', `Resource group '${c.req.params.rg}' could not be found.`),
      );
    const name = c.req.params.name;
    const existing = this.get(rg.subscriptionId, rg.name, name);
    if (existing?.active) return this.http.error(this.activeError(existing));
    const parsed = await this.parseRequest(c.req);
    if (isAzureError(parsed)) return this.http.error(parsed);
    const prepared = this.prepare(
      parsed.template,
      parsed.parameters,
      this.scopeFor(rg, name, parsed.templateUri),
    );
    if (isAzureError(prepared)) return this.http.error(prepared);
    // A concurrent PUT may have started the same deployment while this one fetched templates.
    const again = this.get(rg.subscriptionId, rg.name, name);
    if (again?.active) return this.http.error(this.activeError(again));
    const d = new DeploymentRecord(
      rg.subscriptionId,
      rg.name,
      name,
      parsed.mode,
      c.correlationId,
      prepared,
      parsed.templateLink,
      parsed.parametersLink,
      parsed.debugSetting,
    );
    d.templateUri = parsed.templateUri;
    this.records.set(this.key(rg.subscriptionId, rg.name, name), d);
    d.done = this.runTopLevel(d);
    return this.http.json(existing ? 200 : 201, d.toJson(), this.asyncHeaders(c.req, d));
  }

  private activeError(d: DeploymentRecord): AzureError {
    return azureError(
      409,
      'DeploymentActive',
      `The deployment with resource id '${d.id}' cannot be saved, because this would overwrite an existing deployment which is still active. Please see https://aka.ms/arm-deploy for usage details.`,
    );
  }

  private async runTopLevel(d: DeploymentRecord): Promise<void> {
    const gen = this.state.generation;
    await this.state.sleep(this.state.options.deploymentStartMs);
    if (gen !== this.state.generation || !d.active) return;
    if (d.cancelRequested) {
      this.finish(d, 'Canceled');
      return;
    }
    d.state = 'Running';
    d.startedAt = Date.now();
    d.updatedAt = Date.now();
    await this.execute(d, gen);
    if (gen !== this.state.generation) return;
    await this.complete(d, gen);
  }

  private finish(d: DeploymentRecord, state: DeploymentState, error?: AzureError): void {
    d.state = state;
    d.error = error;
    d.endedAt = Date.now();
    d.updatedAt = d.endedAt;
    this.state.changed();
  }

  /** Decides the final state: failures, cancellation, Complete-mode deletions, outputs. */
  private async complete(d: DeploymentRecord, gen: number, topLevel = true): Promise<void> {
    const failed = d.operations.filter((o) => o.provisioningState === 'Failed');
    if (failed.length > 0) {
      this.finish(
        d,
        'Failed',
        azureError(400, 'DeploymentFailed', DEPLOYMENT_FAILED_MESSAGE, {
          details: failed.map((o) => ({
            code: o.error?.code ?? 'ResourceDeploymentFailure',
            message: o.error?.message ?? '',
            target: o.targetResource?.id ?? null,
            ...(o.error?.details ? { details: o.error.details } : {}),
          })),
        }),
      );
      return;
    }
    if (d.cancelled) {
      this.finish(d, 'Canceled');
      return;
    }
    if (topLevel && d.mode === 'Complete') {
      await this.completeModeDeletes(d, gen);
      if (gen !== this.state.generation) return;
    }
    try {
      d.outputs = evaluateOutputs(d.prepared);
    } catch (e) {
      if (isAzureError(e)) {
        this.finish(d, 'Failed', e);
        return;
      }
      throw e;
    }
    d.outputResources = d.operations
      .filter(
        (o) =>
          o.provisioningOperation === 'Create' &&
          o.targetResource &&
          lower(o.targetResource.resourceType) !== 'microsoft.resources/deployments',
      )
      .map((o) => o.targetResource!.id);
    this.finish(d, 'Succeeded');
  }

  /** Complete mode: top-level resources of the resource group that the template does not contain are deleted. */
  private async completeModeDeletes(d: DeploymentRecord, gen: number): Promise<void> {
    const rg = this.state.resourceGroup(d.subscriptionId, d.resourceGroup);
    if (!rg) return;
    const keep = new Set([...d.deployedIds].map(lower));
    const doomed: { id: string; type: string; name: string; remove: () => void }[] = [];
    for (const f of this.state.factoriesIn(rg.subscriptionId, rg.name)) {
      if (!keep.has(lower(f.id))) {
        doomed.push({
          id: f.id,
          type: 'Microsoft.DataFactory/factories',
          name: f.name,
          remove: () => this.state.deleteFactory(rg.subscriptionId, rg.name, f.name),
        });
      }
    }
    for (const r of rg.resources.values()) {
      if (!keep.has(lower(r.id)))
        doomed.push({ id: r.id, type: r.type, name: r.name, remove: () => rg.resources.delete(lower(r.id)) });
    }
    for (const x of doomed) {
      const op = this.newOperation(d, 'Delete', { id: x.id, resourceType: x.type, resourceName: x.name });
      await this.state.sleep(this.state.options.deploymentStepMs);
      if (gen !== this.state.generation) return;
      x.remove();
      this.state.changed();
      op.provisioningState = 'Succeeded';
      op.statusCode = 'OK';
      op.endedAt = Date.now();
    }
  }

  private newOperation(
    d: DeploymentRecord,
    kind: DeploymentOperation['provisioningOperation'],
    target?: DeploymentOperation['targetResource'],
  ): DeploymentOperation {
    const op: DeploymentOperation = {
      operationId: operationId(),
      provisioningOperation: kind,
      provisioningState: 'Running',
      startedAt: Date.now(),
      targetResource: target,
      trackingId: crypto.randomUUID(),
      serviceRequestId: crypto.randomUUID(),
    };
    d.operations.push(op);
    d.updatedAt = Date.now();
    return op;
  }

  /** Runs every planned resource once its dependencies succeeded; independent ones run concurrently. */
  private async execute(d: DeploymentRecord, gen: number): Promise<void> {
    const byId = new Map(d.prepared.resources.map((r) => [lower(r.id), r]));
    const results = new Map<string, Promise<boolean>>();
    const run = (r: PlannedResource): Promise<boolean> => {
      const k = lower(r.id);
      let p = results.get(k);
      if (!p) {
        p = (async () => {
          const deps = await Promise.all(r.dependsOn.map((id) => run(byId.get(lower(id))!)));
          if (!deps.every(Boolean) || d.cancelled || gen !== this.state.generation) return false;
          return this.applyOne(d, r, gen);
        })();
        results.set(k, p);
      }
      return p;
    };
    await Promise.all(d.prepared.resources.map(run));
  }

  private async applyOne(d: DeploymentRecord, r: PlannedResource, gen: number): Promise<boolean> {
    const op = this.newOperation(d, 'Create', {
      id: r.id,
      resourceType: r.type,
      resourceName: r.name,
      apiVersion: r.apiVersion,
    });
    await this.state.sleep(this.state.options.deploymentStepMs);
    if (gen !== this.state.generation) return false;
    const result = await this.applyResource(d, r, gen);
    op.endedAt = Date.now();
    d.updatedAt = op.endedAt;
    if (result.ok) {
      op.provisioningState = 'Succeeded';
      op.statusCode = STATUS_NAMES[result.status] ?? 'OK';
      op.statusMessage = result.body;
      d.deployedIds.add(r.id);
      for (const id of result.nestedIds ?? []) d.deployedIds.add(id);
      return true;
    }
    op.provisioningState = 'Failed';
    op.statusCode = STATUS_NAMES[result.error.status] ?? String(result.error.status);
    op.statusMessage = { status: 'Failed', error: errorObject(result.error) };
    op.error = result.error;
    return false;
  }

  private async applyResource(
    d: DeploymentRecord,
    r: PlannedResource,
    gen: number,
  ): Promise<
    { ok: true; status: number; body?: unknown; nestedIds?: string[] } | { ok: false; error: AzureError }
  > {
    const typeLower = lower(r.type);
    if (typeLower === 'microsoft.resources/deployments') return this.applyNested(d, r, gen);
    const rg = this.state.resourceGroup(r.targetSubscriptionId, r.targetResourceGroup);
    if (!rg)
      return {
        ok: false,
        error: azureError(
          404,
          'ResourceGroupNotFound',
          `Resource group '${r.targetResourceGroup}' could not be found.`,
        ),
      };
    if (typeLower.startsWith('microsoft.datafactory/')) {
      if (!ADF_API_VERSIONS.includes(r.apiVersion)) {
        return {
          ok: false,
          error: azureError(
            400,
            'NoRegisteredProviderFound',
            `No registered resource provider found for location '${rg.location}' and API version '${r.apiVersion}' for type '${r.type.split('/').slice(1).join('/')}'. The supported api-versions are '2017-09-01-preview, 2018-06-01'.`,
          ),
        };
      }
      const names = r.name.split('/');
      if (typeLower === 'microsoft.datafactory/factories') {
        let f = this.state.factory(rg.subscriptionId, rg.name, names[0]);
        const created = !f;
        if (!f) {
          const location = typeof r.body.location === 'string' ? r.body.location : undefined;
          if (!location)
            return {
              ok: false,
              error: azureError(
                400,
                'LocationRequired',
                'The location property is required for this definition.',
              ),
            };
          f = this.state.addFactory(rg.subscriptionId, rg.name, names[0], location);
        }
        f.putFactory(r.body, this.state.tenantOf(rg.subscriptionId));
        return { ok: true, status: created ? 201 : 200, body: f.factoryResource() };
      }
      const kind = kindFromArmType(r.type);
      if (!kind) {
        return {
          ok: false,
          error: azureError(
            404,
            'InvalidResourceType',
            `The resource type '${r.type.split('/').slice(1).join('/')}' could not be found in the namespace 'Microsoft.DataFactory' for api version '${r.apiVersion}'.`,
          ),
        };
      }
      const f = this.state.factory(rg.subscriptionId, rg.name, names[0]);
      if (!f) {
        return {
          ok: false,
          error: azureError(
            404,
            'ParentResourceNotFound',
            `Can not perform requested operation on nested resource. Parent resource '${names[0]}' not found.`,
          ),
        };
      }
      const res = f.put(kind, names.slice(1).join('/'), r.body);
      if (!res.ok) return res;
      return { ok: true, status: 200, body: f.toResource(res.object) };
    }
    // Any other resource type is recorded so Complete mode and whatIf can see it.
    const existed = rg.resources.has(lower(r.id));
    rg.resources.set(lower(r.id), {
      id: r.id,
      name: r.name,
      type: r.type,
      apiVersion: r.apiVersion,
      location: typeof r.body.location === 'string' ? r.body.location : undefined,
      properties: clone(r.body.properties),
    });
    this.state.changed();
    return {
      ok: true,
      status: existed ? 200 : 201,
      body: { id: r.id, name: r.name, type: r.type, properties: r.body.properties ?? {} },
    };
  }

  /** Loads a nested deployment's template and parameters (inline or linked). */
  private async nestedInputs(
    parentUri: string | undefined,
    r: PlannedResource,
  ): Promise<
    | {
        template: unknown;
        parameters: Record<string, unknown>;
        uri?: string;
        mode: 'Incremental' | 'Complete';
        link?: Record<string, unknown>;
      }
    | AzureError
  > {
    const props = isObject(r.body.properties) ? r.body.properties : {};
    const mode = lower(String(props.mode ?? 'Incremental')) === 'complete' ? 'Complete' : 'Incremental';
    let template = r.innerTemplate ?? props.template;
    let uri: string | undefined;
    const link = isObject(props.templateLink) ? props.templateLink : undefined;
    if (template === undefined) {
      if (!link)
        return azureError(
          400,
          'InvalidDeployment',
          `The nested deployment '${r.name}' has neither 'template' nor 'templateLink'.`,
        );
      if (typeof link.uri === 'string') {
        uri = link.uri;
      } else if (typeof link.relativePath === 'string') {
        if (!parentUri) {
          return azureError(
            400,
            'InvalidDeployment',
            `The relative path '${link.relativePath}' of nested deployment '${r.name}' cannot be resolved: the parent template was not deployed from a URI.`,
          );
        }
        const parent = new URL(parentUri);
        const resolved = new URL(link.relativePath, parent);
        resolved.search =
          typeof link.queryString === 'string' ? `?${link.queryString.replace(/^\?/, '')}` : parent.search;
        uri = resolved.toString();
      } else {
        return azureError(
          400,
          'InvalidDeployment',
          `The templateLink of nested deployment '${r.name}' needs a 'uri' or a 'relativePath'.`,
        );
      }
      const fetched = await this.fetchJson(uri);
      if (isAzureError(fetched)) return fetched;
      template = fetched;
    }
    let paramsRaw = props.parameters;
    if (isObject(props.parametersLink)) {
      const fetched = await this.fetchJson(String(props.parametersLink.uri ?? ''));
      if (isAzureError(fetched)) return fetched;
      paramsRaw = isObject(fetched) && isObject(fetched.parameters) ? fetched.parameters : fetched;
    }
    const parameters = unwrapParameters(paramsRaw, (vault, name) =>
      this.state.keyVaultSecrets.get(`${lower(vault)}|${lower(name)}`),
    );
    if (isAzureError(parameters)) return parameters;
    return { template, parameters, uri, mode, link };
  }

  private async applyNested(
    d: DeploymentRecord,
    r: PlannedResource,
    gen: number,
  ): Promise<
    { ok: true; status: number; body?: unknown; nestedIds?: string[] } | { ok: false; error: AzureError }
  > {
    const rg = this.state.resourceGroup(r.targetSubscriptionId, r.targetResourceGroup);
    if (!rg)
      return {
        ok: false,
        error: azureError(
          404,
          'ResourceGroupNotFound',
          `Resource group '${r.targetResourceGroup}' could not be found.`,
        ),
      };
    const inputs = await this.nestedInputs(d.templateUri, r);
    if (isAzureError(inputs)) return { ok: false, error: inputs };
    const name = r.name.split('/').pop() as string;
    const existing = this.get(rg.subscriptionId, rg.name, name);
    if (existing?.active) return { ok: false, error: this.activeError(existing) };
    const prepared = this.prepare(inputs.template, inputs.parameters, this.scopeFor(rg, name, inputs.uri));
    if (isAzureError(prepared)) return { ok: false, error: prepared };
    const child = new DeploymentRecord(
      rg.subscriptionId,
      rg.name,
      name,
      inputs.mode,
      d.correlationId,
      prepared,
      inputs.link && inputs.uri ? { ...inputs.link, uri: inputs.uri } : undefined,
    );
    child.templateUri = inputs.uri;
    child.parent = d;
    this.records.set(this.key(rg.subscriptionId, rg.name, name), child);
    child.state = 'Running';
    child.startedAt = Date.now();
    await this.execute(child, gen);
    if (gen !== this.state.generation)
      return { ok: false, error: azureError(500, 'Canceled', 'The emulator was reset.') };
    await this.complete(child, gen, false);
    if ((child.state as DeploymentState) === 'Succeeded')
      return { ok: true, status: 200, body: child.toJson(), nestedIds: [...child.deployedIds] };
    const error =
      child.error ?? azureError(409, 'DeploymentCanceled', `The nested deployment '${name}' was canceled.`);
    return { ok: false, error: { ...error, status: 409 } };
  }

  private async deleteDeployment(c: ArmCall): Promise<EmuResponse> {
    return this.withRg(c, (rg) => {
      const d = this.get(rg.subscriptionId, rg.name, c.req.params.name);
      if (!d) return { status: 204 };
      if (d.active) return this.http.error(this.activeError(d));
      this.records.delete(this.key(rg.subscriptionId, rg.name, d.name));
      const id = crypto.randomUUID();
      this.asyncResults.set(id, {
        readyAt: Date.now() + this.state.options.deploymentStepMs,
        subscriptionId: rg.subscriptionId,
        result: () => ({ status: 204 }),
      });
      return {
        status: 202,
        headers: {
          location: `${this.base}/subscriptions/${rg.subscriptionId}/operationresults/${id}?api-version=${this.apiVersion(c.req)}`,
          'retry-after': String(this.state.options.asyncRetryAfterSeconds),
        },
      };
    });
  }

  // ---- validate and whatIf (no state change) -------------------------------------------

  /** Expands nested deployments (inline and linked) into leaf resources with their scopes. */
  private async expand(
    prepared: PreparedTemplate,
    scope: DeploymentScope,
    depth = 0,
  ): Promise<ExpandedResource[] | AzureError> {
    const out: ExpandedResource[] = [];
    for (const r of prepared.resources) {
      if (lower(r.type) !== 'microsoft.resources/deployments') {
        out.push({ resource: r, scope });
        continue;
      }
      if (depth > 10)
        return azureError(
          400,
          'InvalidTemplate',
          'Deployment template validation failed: nested deployments are nested too deeply.',
        );
      const inputs = await this.nestedInputs(scope.templateLinkUri, r);
      if (isAzureError(inputs)) return inputs;
      const rg = this.state.resourceGroup(r.targetSubscriptionId, r.targetResourceGroup);
      if (!rg)
        return azureError(
          404,
          'ResourceGroupNotFound',
          `Resource group '${r.targetResourceGroup}' could not be found.`,
        );
      const name = r.name.split('/').pop() as string;
      const childScope = this.scopeFor(rg, name, inputs.uri);
      const child = this.prepare(inputs.template, inputs.parameters, childScope);
      if (isAzureError(child)) return child;
      const nested = await this.expand(child, childScope, depth + 1);
      if (isAzureError(nested)) return nested;
      out.push(...nested);
    }
    return out;
  }

  /** Preflight: parents and references of Data Factory resources must exist or be in the template. */
  private preflight(leaves: ExpandedResource[]): { code: string; message: string; target: string }[] {
    const problems: { code: string; message: string; target: string }[] = [];
    const inTemplate = new Set(leaves.map((l) => lower(l.resource.id)));
    for (const { resource: r } of leaves) {
      const typeLower = lower(r.type);
      if (!typeLower.startsWith('microsoft.datafactory/')) continue;
      if (!ADF_API_VERSIONS.includes(r.apiVersion)) {
        problems.push({
          code: 'NoRegisteredProviderFound',
          message: `No registered resource provider found for API version '${r.apiVersion}' for type '${r.type.split('/').slice(1).join('/')}'. The supported api-versions are '2017-09-01-preview, 2018-06-01'.`,
          target: r.id,
        });
        continue;
      }
      if (typeLower === 'microsoft.datafactory/factories') continue;
      const names = r.name.split('/');
      const factoryResId = `${rgId(r.targetSubscriptionId, r.targetResourceGroup)}/providers/Microsoft.DataFactory/factories/${names[0]}`;
      const f = this.state.factory(r.targetSubscriptionId, r.targetResourceGroup, names[0]);
      if (!f && !inTemplate.has(lower(factoryResId))) {
        problems.push({
          code: 'ParentResourceNotFound',
          message: `Can not perform requested operation on nested resource. Parent resource '${names[0]}' not found.`,
          target: r.id,
        });
        continue;
      }
      const kind = kindFromArmType(r.type);
      if (!kind) continue;
      const props = isObject(r.body.properties) ? r.body.properties : {};
      const missing = (f ? f.missingReferences(kind, props) : []).filter((ref) => {
        const refId = lower(`${factoryResId}/${ref.kind}/${ref.name}`);
        return !inTemplate.has(refId);
      });
      if (!f) {
        // New factory: everything referenced must come from the template.
        for (const ref of findReferences(props)) {
          if (ref.kind === 'integrationRuntimes' && lower(ref.name) === 'autoresolveintegrationruntime')
            continue;
          if (!inTemplate.has(lower(`${factoryResId}/${ref.kind}/${ref.name}`))) missing.push(ref);
        }
      }
      if (missing.length > 0) {
        problems.push({
          code: 'BadRequest',
          message: `The document creation or update failed because of invalid reference '${lower(missing[0].name)}'.`,
          target: r.id,
        });
      }
    }
    return problems;
  }

  private async validate(c: ArmCall): Promise<EmuResponse> {
    return this.withRg(c, async (rg) => {
      const name = c.req.params.name;
      const parsed = await this.parseRequest(c.req);
      if (isAzureError(parsed)) return this.http.error(parsed);
      const scope = this.scopeFor(rg, name, parsed.templateUri);
      const prepared = this.prepare(parsed.template, parsed.parameters, scope);
      if (isAzureError(prepared)) return this.http.error(prepared);
      const leaves = await this.expand(prepared, scope);
      if (isAzureError(leaves)) return this.http.error(leaves);
      if (this.state.options.preflight === 'references') {
        const problems = this.preflight(leaves);
        if (problems.length > 0) {
          return this.http.error(
            azureError(
              400,
              'InvalidTemplateDeployment',
              `The template deployment '${name}' is not valid according to the validation procedure. The tracking id is '${crypto.randomUUID()}'. See inner errors for details.`,
              {
                details: [
                  {
                    code: 'PreflightValidationCheckFailed',
                    message:
                      'Preflight validation failed. Please refer to the details for the specific errors.',
                    details: problems,
                  },
                ],
              },
            ),
          );
        }
      }
      const id = `${rgId(rg.subscriptionId, rg.name)}/providers/Microsoft.Resources/deployments/${name}`;
      return this.http.json(200, {
        id,
        name,
        type: 'Microsoft.Resources/deployments',
        properties: {
          templateHash: prepared.templateHash,
          parameters: parametersEcho(prepared),
          mode: parsed.mode,
          provisioningState: 'Succeeded',
          timestamp: isoNow(),
          duration: 'PT0S',
          correlationId: c.correlationId,
          providers: providersOf(prepared.resources),
          dependencies: dependenciesOf(prepared.resources),
          validatedResources: leaves.map((l) => ({ id: l.resource.id })),
          diagnostics: [],
        },
      });
    });
  }

  private async whatIf(c: ArmCall): Promise<EmuResponse> {
    return this.withRg(c, async (rg) => {
      const name = c.req.params.name;
      const parsed = await this.parseRequest(c.req);
      if (isAzureError(parsed)) return this.http.error(parsed);
      const scope = this.scopeFor(rg, name, parsed.templateUri);
      const prepared = this.prepare(parsed.template, parsed.parameters, scope);
      if (isAzureError(prepared)) return this.http.error(prepared);
      const leaves = await this.expand(prepared, scope);
      if (isAzureError(leaves)) return this.http.error(leaves);
      const idOnly = lower(String(parsed.whatIfSettings?.resultFormat ?? '')) === 'resourceidonly';
      const changes = this.computeChanges(rg, leaves, parsed.mode, idOnly);
      const id = crypto.randomUUID();
      this.asyncResults.set(id, {
        readyAt: Date.now() + this.state.options.whatIfMs,
        subscriptionId: rg.subscriptionId,
        result: () => this.http.json(200, { status: 'Succeeded', properties: { changes }, error: null }),
      });
      return {
        status: 202,
        headers: {
          location: `${this.base}/subscriptions/${rg.subscriptionId}/operationresults/${id}?api-version=${this.apiVersion(c.req)}`,
          'retry-after': String(this.state.options.asyncRetryAfterSeconds),
        },
      };
    });
  }

  /** What each template resource would do to the current state (nothing is written). */
  private computeChanges(
    rg: ResourceGroup,
    leaves: ExpandedResource[],
    mode: 'Incremental' | 'Complete',
    idOnly: boolean,
  ): Record<string, unknown>[] {
    const changes: Record<string, unknown>[] = [];
    const add = (resourceId: string, changeType: string, before?: unknown, after?: unknown) => {
      const change: Record<string, unknown> = { resourceId, changeType };
      if (!idOnly) {
        change.before = before ?? null;
        change.after = after ?? null;
        change.delta = changeType === 'Modify' ? diffJson(before, after) : null;
      }
      changes.push(change);
    };
    const touchedRgs = new Set<string>();
    const inTemplate = new Set<string>();
    for (const { resource: r } of leaves) {
      inTemplate.add(lower(r.id));
      touchedRgs.add(lower(rgId(r.targetSubscriptionId, r.targetResourceGroup)));
      const typeLower = lower(r.type);
      const names = r.name.split('/');
      const target = this.state.resourceGroup(r.targetSubscriptionId, r.targetResourceGroup);
      const after = {
        id: r.id,
        name: names[names.length - 1],
        type: r.type,
        apiVersion: r.apiVersion,
        properties: clone(r.body.properties ?? {}),
      };
      if (typeLower === 'microsoft.datafactory/factories') {
        const f = this.state.factory(r.targetSubscriptionId, r.targetResourceGroup, names[0]);
        if (!f) {
          add(r.id, 'Create', undefined, { ...after, location: r.body.location });
          continue;
        }
        const before = {
          id: f.id,
          name: f.name,
          type: 'Microsoft.DataFactory/factories',
          apiVersion: r.apiVersion,
          location: f.location,
          properties: clone(f.properties),
        };
        const afterF = { ...after, location: r.body.location ?? f.location };
        add(
          r.id,
          deepEqual(before.properties, afterF.properties) &&
            lower(String(before.location)) === lower(String(afterF.location))
            ? 'NoChange'
            : 'Modify',
          before,
          afterF,
        );
        continue;
      }
      const kind = kindFromArmType(r.type);
      if (typeLower.startsWith('microsoft.datafactory/') && kind) {
        const f: FactoryState | undefined = this.state.factory(
          r.targetSubscriptionId,
          r.targetResourceGroup,
          names[0],
        );
        const existing = f?.get(kind, names.slice(1).join('/'));
        const props = clone(isObject(r.body.properties) ? r.body.properties : {});
        delete props.runtimeState;
        after.type = ADF_TYPES[kind];
        after.properties = maskSecureStrings(props) as Record<string, unknown>;
        if (!f || !existing) {
          add(r.id, 'Create', undefined, after);
          continue;
        }
        const before = {
          id: r.id,
          name: after.name,
          type: ADF_TYPES[kind],
          apiVersion: r.apiVersion,
          properties: maskSecureStrings(clone(existing.properties)),
        };
        add(r.id, deepEqual(existing.properties, props) ? 'NoChange' : 'Modify', before, after);
        continue;
      }
      const generic = target?.resources.get(lower(r.id));
      if (!generic) add(r.id, 'Create', undefined, after);
      else {
        const before = {
          id: generic.id,
          name: after.name,
          type: generic.type,
          apiVersion: generic.apiVersion,
          properties: generic.properties ?? {},
        };
        add(
          r.id,
          deepEqual(generic.properties ?? {}, after.properties) ? 'NoChange' : 'Modify',
          before,
          after,
        );
      }
    }
    touchedRgs.add(lower(rgId(rg.subscriptionId, rg.name)));
    // Top-level resources the template does not mention: Ignore (Incremental) or Delete (Complete).
    for (const g of this.state.resourceGroups.values()) {
      if (!touchedRgs.has(lower(rgId(g.subscriptionId, g.name)))) continue;
      const existing: { id: string; type: string; name: string }[] = [
        ...this.state
          .factoriesIn(g.subscriptionId, g.name)
          .map((f) => ({ id: f.id, type: 'Microsoft.DataFactory/factories', name: f.name })),
        ...[...g.resources.values()].filter((r) => r.name.split('/').length === 1),
      ];
      for (const e of existing) {
        if (inTemplate.has(lower(e.id))) continue;
        add(
          e.id,
          mode === 'Complete' ? 'Delete' : 'Ignore',
          { id: e.id, name: e.name, type: e.type },
          undefined,
        );
      }
    }
    return changes;
  }
}

/** GET over HTTP(S) with the emulator's CA trusted; resolves to the body or {error}. */
function download(u: URL, caPem: string): Promise<string | { error: string }> {
  return new Promise((resolve) => {
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.get(
      u,
      { ca: u.protocol === 'https:' ? [...tls.rootCertificates, caPem] : undefined, timeout: 10000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200)
            resolve({ error: `${res.statusCode} ${res.statusMessage ?? ''}`.trim() });
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}
