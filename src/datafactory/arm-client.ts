/**
 * Azure Resource Manager deployments at resource-group scope over the shared
 * HttpClient: create (PUT) and follow the long-running operation through
 * Azure-AsyncOperation or Location, get, list operations (paged), validate and
 * what-if (both may answer 202 + Location). Also the generic async-operation
 * poller the Data Factory client uses for 202 answers.
 */
import { sleep as realSleep, throwIfAborted } from '../common/sleep';
import { HttpError, parseRetryAfter } from '../http';
import type { HttpClient, HttpResponse } from '../http/types';

export const DEPLOYMENTS_API_VERSION = '2024-03-01';
export const RESOURCE_GROUPS_API_VERSION = '2021-04-01';

export interface AsyncPollOptions {
  /** First delay when the service sends no Retry-After (doubles up to maxDelayMs). Default 1000 ms. */
  initialDelayMs?: number;
  /** Cap on any delay, Retry-After included. Default 15000 ms. */
  maxDelayMs?: number;
  /** Floor on any delay, so "Retry-After: 0" does not turn into a busy loop. Default 250 ms. */
  minDelayMs?: number;
  /** Give up after this long. Default: no limit (ARM ends deployments itself). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Human name for errors, e.g. "deployment x". */
  operation?: string;
  /** Called before each poll with the status seen so far. */
  onPoll?: (status: string | undefined, elapsedMs: number) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface AsyncOperationResult {
  /** Succeeded, Failed, Canceled, or the HTTP status of a Location poll ("200"). */
  status: string;
  /** Body of the last poll. */
  body: unknown;
  /** The error of a failed operation status ({code, message, details}). */
  error?: ArmErrorInfo;
  response: HttpResponse;
}

export interface ArmErrorInfo {
  code?: string;
  message?: string;
  target?: string | null;
  details?: ArmErrorInfo[] | null;
  additionalInfo?: unknown;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function retryAfterMs(res: HttpResponse): number | undefined {
  const v = res.headers['retry-after'];
  return v ? parseRetryAfter(v) : undefined;
}

/**
 * Follows a long-running operation from its first response: Azure-AsyncOperation
 * (poll until status is terminal) or Location (poll until not 202). Delays honour
 * Retry-After, capped at maxDelayMs.
 */
export async function waitForAsyncOperation(
  http: HttpClient,
  first: HttpResponse,
  opts: AsyncPollOptions = {},
): Promise<AsyncOperationResult> {
  const asyncUrl = first.headers['azure-asyncoperation'];
  const locationUrl = first.headers['location'];
  const doSleep = opts.sleep ?? realSleep;
  const maxDelay = opts.maxDelayMs ?? 15_000;
  let nextDelay = opts.initialDelayMs ?? 1000;
  const started = Date.now();
  let last: HttpResponse = first;
  let status: string | undefined;
  const operation = opts.operation ?? 'long-running operation';

  if (!asyncUrl && !locationUrl) {
    return { status: String(first.status), body: first.data, response: first };
  }
  for (;;) {
    throwIfAborted(opts.signal);
    const hinted = retryAfterMs(last);
    const delay = Math.max(opts.minDelayMs ?? 250, Math.min(maxDelay, hinted ?? nextDelay));
    if (hinted === undefined) nextDelay = Math.min(maxDelay, nextDelay * 2);
    if (opts.timeoutMs !== undefined && Date.now() - started + delay > opts.timeoutMs) {
      throw new Error(`${operation} did not finish within ${Math.round(opts.timeoutMs / 1000)} s.`);
    }
    opts.onPoll?.(status, Date.now() - started);
    await doSleep(delay, opts.signal);
    if (asyncUrl) {
      last = await http.request({
        method: 'GET',
        url: asyncUrl,
        signal: opts.signal,
        operation: `poll ${operation}`,
      });
      const body = last.data;
      status = isObject(body) && typeof body.status === 'string' ? body.status : undefined;
      if (status && TERMINAL.has(status.toLowerCase())) {
        const error = isObject(body) && isObject(body.error) ? (body.error as ArmErrorInfo) : undefined;
        return { status, body, error, response: last };
      }
    } else {
      last = await http.request({
        method: 'GET',
        url: locationUrl,
        signal: opts.signal,
        acceptStatuses: [202],
        operation: `poll ${operation}`,
      });
      if (last.status !== 202) return { status: String(last.status), body: last.data, response: last };
    }
  }
}

export interface ResourceGroupScope {
  resourceManagerUrl: string;
  subscriptionId: string;
  resourceGroupName: string;
}

export type DeploymentMode = 'Incremental' | 'Complete';

export interface DeploymentProperties {
  mode: DeploymentMode;
  template?: unknown;
  templateLink?: {
    uri?: string;
    id?: string;
    relativePath?: string;
    contentVersion?: string;
    queryString?: string;
  };
  parameters?: Record<string, unknown>;
  debugSetting?: { detailLevel: string };
  [key: string]: unknown;
}

export interface DeploymentExtended {
  id?: string;
  name?: string;
  properties?: {
    provisioningState?: string;
    correlationId?: string;
    timestamp?: string;
    duration?: string;
    outputs?: Record<string, { type?: string; value?: unknown }>;
    outputResources?: { id: string }[];
    error?: ArmErrorInfo;
    [key: string]: unknown;
  };
}

export interface DeploymentOperation {
  id?: string;
  operationId?: string;
  properties?: {
    provisioningOperation?: string;
    provisioningState?: string;
    timestamp?: string;
    duration?: string;
    statusCode?: string;
    statusMessage?: unknown;
    targetResource?: { id?: string; resourceType?: string; resourceName?: string };
  };
}

export type ValidateResult = { ok: true; body: unknown } | { ok: false; error: ArmErrorInfo };

export interface WhatIfChange {
  resourceId: string;
  changeType: string;
  before?: unknown;
  after?: unknown;
  delta?: {
    path: string;
    propertyChangeType: string;
    before?: unknown;
    after?: unknown;
    children?: unknown[];
  }[];
}

export type WhatIfResult = { ok: true; changes: WhatIfChange[] } | { ok: false; error: ArmErrorInfo };

export interface ArmClientOptions {
  poll?: Omit<AsyncPollOptions, 'signal' | 'operation' | 'onPoll'>;
}

export class ArmClient {
  private readonly base: string;

  constructor(
    private readonly http: HttpClient,
    readonly scope: ResourceGroupScope,
    private readonly options: ArmClientOptions = {},
  ) {
    const rm = scope.resourceManagerUrl.replace(/\/+$/, '');
    this.base = `${rm}/subscriptions/${encodeURIComponent(scope.subscriptionId)}/resourcegroups/${encodeURIComponent(scope.resourceGroupName)}`;
  }

  deploymentUrl(name: string): string {
    return `${this.base}/providers/Microsoft.Resources/deployments/${encodeURIComponent(name)}`;
  }

  /** The resource group, or undefined when it does not exist. */
  async getResourceGroup(signal?: AbortSignal): Promise<{ name: string; location: string } | undefined> {
    const res = await this.http.request<{ name: string; location: string }>({
      method: 'GET',
      url: this.base,
      query: { 'api-version': RESOURCE_GROUPS_API_VERSION },
      acceptStatuses: [404],
      signal,
      operation: `get resource group ${this.scope.resourceGroupName}`,
    });
    return res.status === 404 ? undefined : res.data;
  }

  /**
   * PUT the deployment; returns the first response (201/200 with Azure-AsyncOperation).
   * `correlationId` (sent as x-ms-correlation-request-id, on retries too) becomes the
   * deployment's properties.correlationId, which tells this run's deployment from another's.
   */
  async createDeployment(
    name: string,
    properties: DeploymentProperties,
    signal?: AbortSignal,
    correlationId?: string,
  ): Promise<HttpResponse<DeploymentExtended>> {
    return this.http.request<DeploymentExtended>({
      method: 'PUT',
      url: this.deploymentUrl(name),
      query: { 'api-version': DEPLOYMENTS_API_VERSION },
      headers: correlationId ? { 'x-ms-correlation-request-id': correlationId } : undefined,
      json: { properties },
      signal,
      operation: `create deployment ${name}`,
    });
  }

  /** The deployment, or undefined when there is none of that name. */
  async findDeployment(name: string, signal?: AbortSignal): Promise<DeploymentExtended | undefined> {
    const res = await this.http.request<DeploymentExtended>({
      method: 'GET',
      url: this.deploymentUrl(name),
      query: { 'api-version': DEPLOYMENTS_API_VERSION },
      acceptStatuses: [404],
      signal,
      operation: `get deployment ${name}`,
    });
    return res.status === 404 ? undefined : res.data;
  }

  async getDeployment(name: string, signal?: AbortSignal): Promise<DeploymentExtended> {
    const res = await this.http.request<DeploymentExtended>({
      method: 'GET',
      url: this.deploymentUrl(name),
      query: { 'api-version': DEPLOYMENTS_API_VERSION },
      signal,
      operation: `get deployment ${name}`,
    });
    return res.data;
  }

  /**
   * Follows a deployment to a terminal state and returns the deployment as GET
   * returns it then (outputs, error).
   */
  async waitForDeployment(
    name: string,
    first: HttpResponse<DeploymentExtended>,
    opts: { signal?: AbortSignal; onPoll?: (state: string | undefined, elapsedMs: number) => void } = {},
  ): Promise<DeploymentExtended> {
    const state = first.data?.properties?.provisioningState;
    const hasOperation = Boolean(first.headers['azure-asyncoperation'] || first.headers['location']);
    if (hasOperation && !(state && TERMINAL.has(state.toLowerCase()))) {
      await waitForAsyncOperation(this.http, first, {
        ...this.options.poll,
        signal: opts.signal,
        operation: `deployment ${name}`,
        onPoll: opts.onPoll,
      });
    }
    // The deployment itself is the source of truth (outputs, error); poll it if it still runs.
    const doSleep = this.options.poll?.sleep ?? realSleep;
    let delay = this.options.poll?.initialDelayMs ?? 1000;
    const started = Date.now();
    for (;;) {
      const d = await this.getDeployment(name, opts.signal);
      const s = d.properties?.provisioningState;
      if (s && TERMINAL.has(s.toLowerCase())) return d;
      opts.onPoll?.(s, Date.now() - started);
      await doSleep(delay, opts.signal);
      delay = Math.min(this.options.poll?.maxDelayMs ?? 15_000, delay * 2);
    }
  }

  /** POST cancel (only while Accepted or Running); a 409 means it already ended. */
  async cancelDeployment(name: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: `${this.deploymentUrl(name)}/cancel`,
      query: { 'api-version': DEPLOYMENTS_API_VERSION },
      idempotent: true,
      acceptStatuses: [409],
      signal,
      operation: `cancel deployment ${name}`,
    });
  }

  /** Every operation of a deployment (following nextLink). */
  async listOperations(name: string, signal?: AbortSignal): Promise<DeploymentOperation[]> {
    const out: DeploymentOperation[] = [];
    let url: string | undefined = `${this.deploymentUrl(name)}/operations`;
    let first = true;
    while (url) {
      const res: HttpResponse<{ value?: DeploymentOperation[]; nextLink?: string }> =
        await this.http.request<{
          value?: DeploymentOperation[];
          nextLink?: string;
        }>({
          method: 'GET',
          url,
          query: first ? { 'api-version': DEPLOYMENTS_API_VERSION } : undefined,
          signal,
          operation: `list operations of deployment ${name}`,
        });
      first = false;
      out.push(...(res.data?.value ?? []).filter(isObject));
      url = res.data?.nextLink || undefined;
    }
    return out;
  }

  /** POST validate: 200 (valid), 202 + Location (asynchronous), 400 (invalid, with the error). */
  async validate(
    name: string,
    properties: DeploymentProperties,
    signal?: AbortSignal,
  ): Promise<ValidateResult> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.deploymentUrl(name)}/validate`,
      query: { 'api-version': DEPLOYMENTS_API_VERSION },
      json: { properties },
      // Validation changes nothing: safe to resend.
      idempotent: true,
      acceptStatuses: [400],
      signal,
      operation: `validate deployment ${name}`,
    });
    let final: HttpResponse = res;
    if (res.status === 202) {
      final = (
        await waitForAsyncOperation(this.http, res, {
          ...this.options.poll,
          signal,
          operation: `validation of ${name}`,
        })
      ).response;
    }
    const err = errorOf(final.data);
    if (final.status === 400 || err)
      return { ok: false, error: err ?? { code: 'InvalidTemplateDeployment' } };
    return { ok: true, body: final.data };
  }

  /** POST whatIf: 202 + Location, then the result with its list of changes. */
  async whatIf(name: string, properties: DeploymentProperties, signal?: AbortSignal): Promise<WhatIfResult> {
    const res = await this.http.request({
      method: 'POST',
      url: `${this.deploymentUrl(name)}/whatIf`,
      query: { 'api-version': DEPLOYMENTS_API_VERSION },
      json: { properties: { ...properties, whatIfSettings: { resultFormat: 'FullResourcePayloads' } } },
      idempotent: true,
      acceptStatuses: [400],
      signal,
      operation: `what-if of deployment ${name}`,
    });
    let final: HttpResponse = res;
    if (res.status === 202) {
      final = (
        await waitForAsyncOperation(this.http, res, {
          ...this.options.poll,
          signal,
          operation: `what-if of ${name}`,
        })
      ).response;
    }
    const body = final.data;
    const err = errorOf(body);
    if (
      final.status === 400 ||
      err ||
      (isObject(body) && String(body.status ?? '').toLowerCase() === 'failed')
    ) {
      return { ok: false, error: err ?? { code: 'WhatIfFailed', message: 'The what-if operation failed.' } };
    }
    const props = isObject(body) && isObject(body.properties) ? body.properties : {};
    const changes = Array.isArray(props.changes)
      ? (props.changes.filter(isObject) as unknown as WhatIfChange[])
      : [];
    return { ok: true, changes };
  }
}

function errorOf(body: unknown): ArmErrorInfo | undefined {
  if (!isObject(body)) return undefined;
  if (isObject(body.error)) return body.error as ArmErrorInfo;
  if (isObject(body.properties) && isObject(body.properties.error))
    return body.properties.error as ArmErrorInfo;
  return undefined;
}

/** A failed resource operation of a deployment, flattened for reporting. */
export interface FailedOperation {
  resourceType?: string;
  resourceName?: string;
  resourceId?: string;
  code?: string;
  message?: string;
  statusCode?: string;
  /** Set when the failure came from a nested (linked) deployment. */
  deployment?: string;
}

/** The error inside an operation's statusMessage ({status, error:{…}} or the error itself). */
export function operationError(op: DeploymentOperation): ArmErrorInfo | undefined {
  const sm = op.properties?.statusMessage;
  if (typeof sm === 'string') {
    try {
      return operationError({ properties: { statusMessage: JSON.parse(sm) as unknown } });
    } catch {
      return { message: sm };
    }
  }
  if (!isObject(sm)) return undefined;
  if (isObject(sm.error)) return sm.error as ArmErrorInfo;
  if (typeof sm.code === 'string' || typeof sm.message === 'string') return sm as ArmErrorInfo;
  return undefined;
}

/**
 * The failed resource operations of a deployment, descending into nested
 * deployments (linked templates) that failed, up to `depth` levels.
 */
export async function collectFailedOperations(
  client: ArmClient,
  deploymentName: string,
  signal?: AbortSignal,
  depth = 2,
): Promise<FailedOperation[]> {
  const ops = await client.listOperations(deploymentName, signal);
  const out: FailedOperation[] = [];
  for (const op of ops) {
    const p = op.properties ?? {};
    if ((p.provisioningState ?? '').toLowerCase() !== 'failed') continue;
    const target = p.targetResource ?? {};
    const err = operationError(op);
    if (
      (target.resourceType ?? '').toLowerCase() === 'microsoft.resources/deployments' &&
      target.resourceName &&
      depth > 0
    ) {
      try {
        const inner = await collectFailedOperations(client, target.resourceName, signal, depth - 1);
        if (inner.length > 0) {
          out.push(...inner.map((i) => ({ ...i, deployment: i.deployment ?? target.resourceName })));
          continue;
        }
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        // The nested deployment could not be read: report the outer operation instead.
      }
    }
    out.push({
      resourceType: target.resourceType,
      resourceName: target.resourceName,
      resourceId: target.id,
      code: innermostCode(err),
      message: innermostMessage(err),
      statusCode: p.statusCode,
    });
  }
  return out;
}

/** ARM wraps resource-provider errors; the innermost detail says what is wrong. */
function innermostCode(err: ArmErrorInfo | undefined): string | undefined {
  if (!err) return undefined;
  const d = Array.isArray(err.details) ? err.details.find((x) => isObject(x)) : undefined;
  if (d && (err.code === 'DeploymentFailed' || err.code === 'ResourceDeploymentFailure'))
    return innermostCode(d) ?? err.code;
  return err.code;
}

function innermostMessage(err: ArmErrorInfo | undefined): string | undefined {
  if (!err) return undefined;
  const d = Array.isArray(err.details) ? err.details.find((x) => isObject(x)) : undefined;
  if (d && (err.code === 'DeploymentFailed' || err.code === 'ResourceDeploymentFailure'))
    return innermostMessage(d) ?? err.message;
  return err.message;
}
