import type { AxiosResponse } from 'axios';
import { sleep as realSleep } from '../common/sleep';
import { buildUrl, encodeBody } from './body';
import {
  HttpError,
  type HttpErrorInit,
  classifyNetworkCode,
  isRetryableStatus,
  kindForStatus,
  parseErrorBody,
  requestScrubber,
  shorten,
  oneLine,
  formatSeconds,
} from './errors';
import { RateLimitGate } from './gate';
import {
  DEFAULT_MAX_RETRIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  MAX_CONNECT_RETRIES,
  backoffDelay,
  parseRetryAfter,
} from './retry';
import { createTransport, type Transport } from './transport';
import type {
  HttpClient,
  HttpClientOptions,
  HttpRequest,
  HttpResponse,
  RetryInfo,
  UnauthorizedHandler,
} from './types';

export const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_USER_AGENT = 'azure-devops-databricks-adf-tasks';

type Authorize = HttpClientOptions['authorize'];
type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What every client made by withAuth() shares with its parent. */
interface Shared {
  transport: Transport;
  gate: RateLimitGate;
  stats: { requests: number; retries: number };
  timeoutMs: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  userAgent: string;
  onRetry?: (info: RetryInfo) => void;
  random: () => number;
  sleep: Sleep;
}

/** Creates the one HTTP client: keep-alive transport, retries, Retry-After, host-wide rate-limit gate. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError('maxRetries must be an integer >= 0');
  const shared: Shared = {
    transport: createTransport({ proxy: options.proxy, caCertificates: options.caCertificates }),
    gate: new RateLimitGate(),
    stats: { requests: 0, retries: 0 },
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries,
    baseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
    maxDelayMs: options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    onRetry: options.onRetry,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? realSleep,
  };
  return makeClient(shared, { authorize: options.authorize, onUnauthorized: options.onUnauthorized });
}

/** Closes the pooled sockets of a client made by createHttpClient (and its withAuth() siblings). */
export function closeHttpClient(client: HttpClient): void {
  const shared = sharedOf.get(client);
  shared?.transport.destroy();
}

const sharedOf = new WeakMap<HttpClient, Shared>();

/** The auth hooks of one client (withAuth() makes a sibling with others). */
interface AuthHooks {
  authorize: Authorize;
  onUnauthorized?: UnauthorizedHandler;
}

function makeClient(shared: Shared, auth: AuthHooks): HttpClient {
  const client: HttpClient = {
    request: <T>(req: HttpRequest) => execute<T>(shared, auth, req),
    withAuth: (authorize, onUnauthorized) => makeClient(shared, { authorize, onUnauthorized }),
    get stats() {
      return shared.stats;
    },
  };
  sharedOf.set(client, shared);
  return client;
}

/** Outcome of one attempt that did not succeed. */
interface Failure {
  init: HttpErrorInit;
  /** A later attempt may succeed. */
  transient: boolean;
  /** The request certainly did not reach the service, or the service refused it unprocessed (429). */
  safeToResend: boolean;
  /** Counts against the small connect-retry budget (refused / unreachable). */
  connectFailure: boolean;
  retryAfterMs?: number;
  reason: string;
}

async function execute<T>(shared: Shared, auth: AuthHooks, req: HttpRequest): Promise<HttpResponse<T>> {
  const { authorize, onUnauthorized } = auth;
  const method = req.method;
  let url: URL;
  try {
    url = buildUrl(req.url, req.query);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('unsupported protocol');
  } catch {
    // The raw URL may carry a secret in its query string: never echo it.
    throw new HttpError({
      method,
      path: '(invalid URL)',
      kind: 'badRequest',
      attempts: 0,
      retryable: false,
      operation: req.operation,
      hint: 'The URL is not an absolute http(s) URL: check the service connection or input that provides it.',
    });
  }
  const path = url.pathname;
  const origin = url.origin;
  const body = encodeBody(req);
  const idempotent = req.idempotent ?? !(method === 'POST' || method === 'PATCH');
  const timeoutMs = req.timeoutMs ?? shared.timeoutMs;
  const base = { method, path, host: url.host, operation: req.operation };

  let attempt = 0;
  let connectRetries = 0;
  let gateWaited = 0;
  // At most one resend with refreshed credentials per request; it does not use the retry budget.
  let authRetries = 0;
  for (;;) {
    attempt++;
    const aborted = (attempts = attempt - 1): HttpError =>
      new HttpError({ ...base, kind: 'aborted', attempts, retryable: false });
    if (req.signal?.aborted) throw aborted();
    try {
      gateWaited = await shared.gate.wait(origin, shared.sleep, req.signal, gateWaited);
    } catch (err) {
      if (req.signal?.aborted) throw aborted();
      throw err;
    }
    if (req.signal?.aborted) throw aborted();

    let headers: Record<string, string>;
    let authHeaders: Record<string, string>;
    try {
      ({ headers, authHeaders } = await buildHeaders(shared, authorize, req, body.contentType));
    } catch (err) {
      // A token request cancelled with the task surfaces as this request's cancellation.
      if (req.signal?.aborted) throw aborted();
      throw err;
    }
    const { httpAgent, httpsAgent, proxyHost } = shared.transport.agentsFor(url);

    shared.stats.requests++;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onCallerAbort = (): void => controller.abort();
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });

    let failure: Failure;
    try {
      const res = await shared.transport.axios.request<Buffer>({
        method,
        url: url.toString(),
        headers,
        data: body.data,
        signal: controller.signal,
        httpAgent,
        httpsAgent,
      });
      const scrub = requestScrubber(headers, url);
      if (isSuccess(res.status, req)) return finish<T>(res, req, base, attempt, scrub);
      failure = statusFailure(res, base, attempt, proxyHost, scrub);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (req.signal?.aborted) throw aborted(attempt);
      failure = networkFailure(err, base, attempt, timedOut, timeoutMs, proxyHost);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }

    if (
      failure.init.kind === 'unauthorized' &&
      failure.init.status !== undefined &&
      authRetries === 0 &&
      onUnauthorized &&
      authorize &&
      !req.skipAuth
    ) {
      // An expired or revoked token: the hook drops the cached one, and the next attempt's
      // authorize call mints a fresh one. A 401/403 is a refusal before processing, so even a
      // POST without an idempotency key is safe to send again.
      let refreshed: boolean;
      try {
        refreshed = await onUnauthorized({
          request: req,
          sentAuthHeaders: authHeaders,
          status: failure.init.status,
          code: failure.init.code,
        });
      } catch {
        // A hook that fails cannot have refreshed anything: report the original 401.
        refreshed = false;
      }
      if (refreshed) {
        authRetries++;
        shared.stats.retries++;
        shared.onRetry?.({
          attempt: attempt + 1,
          delayMs: 0,
          reason: `${failure.reason}; credentials refreshed`,
          method,
          path,
        });
        continue;
      }
    }

    let blockedUntil: number | undefined;
    const status = failure.init.status;
    if (failure.retryAfterMs !== undefined && (status === 429 || status === 503)) {
      // Everyone talking to this origin waits, even if this request gives up now.
      blockedUntil = Date.now() + failure.retryAfterMs;
      shared.gate.block(origin, blockedUntil);
    }

    const canResend = idempotent || failure.safeToResend;
    const withinBudget =
      attempt - authRetries <= shared.maxRetries &&
      (!failure.connectFailure || connectRetries < MAX_CONNECT_RETRIES);
    if (!failure.transient || !canResend || !withinBudget) throw new HttpError(failure.init);
    if (failure.connectFailure) connectRetries++;

    const delayMs =
      failure.retryAfterMs ?? backoffDelay(attempt, shared.baseDelayMs, shared.maxDelayMs, shared.random);
    // This request sleeps through the block itself, so the gate must not hold it a second time.
    if (blockedUntil !== undefined) gateWaited = Math.max(gateWaited, blockedUntil);
    shared.stats.retries++;
    shared.onRetry?.({ attempt: attempt + 1, delayMs, reason: failure.reason, method, path });
    try {
      await shared.sleep(delayMs, req.signal);
    } catch (err) {
      if (req.signal?.aborted) throw aborted(attempt);
      throw err;
    }
  }
}

async function buildHeaders(
  shared: Shared,
  authorize: Authorize,
  req: HttpRequest,
  contentType: string | undefined,
): Promise<{ headers: Record<string, string>; authHeaders: Record<string, string> }> {
  const headers: Record<string, string> = {
    'user-agent': shared.userAgent,
    accept: req.responseType === 'json' || req.responseType === undefined ? 'application/json' : '*/*',
  };
  if (contentType) headers['content-type'] = contentType;
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const authHeaders: Record<string, string> = {};
  if (authorize && !req.skipAuth) {
    // Called on every attempt so a token refreshed meanwhile is used.
    for (const [k, v] of Object.entries(await authorize(req))) {
      headers[k.toLowerCase()] = v;
      authHeaders[k.toLowerCase()] = v;
    }
  }
  return { headers, authHeaders };
}

function isSuccess(status: number, req: HttpRequest): boolean {
  return (status >= 200 && status < 300) || (req.acceptStatuses?.includes(status) ?? false);
}

/** Decodes a successful (or accepted) response per `responseType`. */
function finish<T>(
  res: AxiosResponse<Buffer>,
  req: HttpRequest,
  base: Pick<HttpErrorInit, 'method' | 'path' | 'host' | 'operation'>,
  attempts: number,
  scrub: (text: string) => string,
): HttpResponse<T> {
  const headers = lowerHeaders(res.headers);
  const out = { status: res.status, headers, requestId: requestIdFrom(headers), attempts };
  const raw = req.method === 'HEAD' ? Buffer.alloc(0) : toBuffer(res.data);
  if (req.responseType === 'buffer') return { ...out, data: raw as T };
  const text = raw.toString('utf8');
  if (req.responseType === 'text') return { ...out, data: text as T };
  if (req.method === 'HEAD') return { ...out, data: undefined as T };
  // Empty JSON body (204, some mkdirs/cancel calls): callers can read fields off `{}` safely.
  if (text.trim() === '') return { ...out, data: {} as T };
  try {
    return { ...out, data: JSON.parse(text) as T };
  } catch {
    // An accepted error status (e.g. 404) may carry any body: hand it over as text.
    if (res.status < 200 || res.status >= 300) return { ...out, data: text as T };
    const contentType = headers['content-type'] ?? 'no content type';
    throw new HttpError({
      ...base,
      status: res.status,
      serviceMessage: `expected JSON but got ${contentType.split(';')[0]}: ${shorten(oneLine(scrub(text)), 120)}`,
      requestId: out.requestId,
      kind: 'badRequest',
      attempts,
      retryable: false,
      hint: /html/i.test(contentType)
        ? 'An HTML page came back instead of the API: check the URL is the service URL (e.g. the workspace URL https://adb-….azuredatabricks.net) and that no proxy login page intercepts it.'
        : 'Check the URL points at the service API.',
    });
  }
}

function statusFailure(
  res: AxiosResponse<Buffer>,
  base: Pick<HttpErrorInit, 'method' | 'path' | 'host' | 'operation'>,
  attempts: number,
  proxyHost: string | undefined,
  scrub: (text: string) => string,
): Failure {
  const headers = lowerHeaders(res.headers);
  const status = res.status;
  const parsed = parseErrorBody(scrub(toBuffer(res.data).toString('utf8')), headers['content-type']);
  let code: string | undefined = parsed.code ?? headers['x-ms-error-code'];
  // Legacy Databricks endpoints send error_code as the HTTP status number: not worth repeating.
  if (code === String(status)) code = undefined;
  const serviceMessage = parsed.message ?? headers['x-databricks-reason-phrase'];
  const kind = kindForStatus(status, code, serviceMessage);
  const transient = isRetryableStatus(status);
  const init: HttpErrorInit = {
    ...base,
    status,
    code,
    serviceMessage,
    requestId: requestIdFrom(headers) ?? parsed.requestId,
    kind,
    attempts,
    retryable: transient,
    proxyHost,
  };
  if (status >= 300 && status < 400) {
    const location = headers['location'];
    // Only where it points, never its query string.
    const to = location ? safeLocation(location, base.host) : undefined;
    if (to) init.serviceMessage = `redirected to ${to}`;
  }
  return {
    init,
    transient,
    // A 429 is a refusal before processing, so resending even a POST cannot duplicate work.
    safeToResend: status === 429,
    connectFailure: false,
    retryAfterMs: transient ? parseRetryAfter(headers['retry-after']) : undefined,
    reason: code ? `${status} ${code}` : String(status),
  };
}

function networkFailure(
  err: unknown,
  base: Pick<HttpErrorInit, 'method' | 'path' | 'host' | 'operation'>,
  attempts: number,
  timedOut: boolean,
  timeoutMs: number,
  proxyHost: string | undefined,
): Failure {
  if (timedOut) {
    return {
      init: { ...base, kind: 'timeout', attempts, retryable: true, timeoutMs, proxyHost },
      transient: true,
      safeToResend: false,
      connectFailure: false,
      reason: `no response within ${formatSeconds(timeoutMs)}`,
    };
  }
  const networkCode = errorCode(err);
  const failureClass = classifyNetworkCode(networkCode);
  const transient = failureClass !== 'dns' && failureClass !== 'tls' && failureClass !== 'other';
  const notSent =
    failureClass === 'refused' || failureClass === 'unreachable' || failureClass === 'dnsTemporary';
  return {
    // The raw error (axios's, with its config and headers) is deliberately not kept as `cause`.
    init: { ...base, kind: 'network', attempts, retryable: transient, networkCode, proxyHost },
    transient,
    safeToResend: notSent,
    connectFailure: notSent,
    reason: networkCode ?? 'network error',
  };
}

/** The Node error code behind an axios error (also inside AggregateError from happy eyeballs). */
function errorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const rec = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof rec.code === 'string' && rec.code !== 'ERR_NETWORK') {
      // axios wraps some failures in its own codes; the cause says more.
      if (rec.code !== 'ERR_BAD_RESPONSE' || !rec.cause) return rec.code;
    }
    e = rec.cause ?? (Array.isArray(rec.errors) ? rec.errors[0] : undefined);
  }
  const rec = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof rec?.message === 'string' && /socket hang up/i.test(rec.message)) return 'ECONNRESET';
  return typeof rec?.code === 'string' ? rec.code : undefined;
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.alloc(0);
}

function lowerHeaders(h: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  const plain =
    typeof (h as { toJSON?: unknown }).toJSON === 'function' ? (h as { toJSON(): object }).toJSON() : h;
  for (const [k, v] of Object.entries(plain as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

const REQUEST_ID_HEADERS = [
  'x-ms-request-id',
  'x-request-id',
  'x-databricks-request-id',
  'x-ms-correlation-request-id',
];

function requestIdFrom(headers: Record<string, string>): string | undefined {
  for (const h of REQUEST_ID_HEADERS) {
    const v = headers[h];
    if (v) return shorten(oneLine(v), 100);
  }
  return undefined;
}

function safeLocation(location: string, host: string | undefined): string | undefined {
  try {
    const u = new URL(location, host ? `https://${host}` : undefined);
    return `${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}
