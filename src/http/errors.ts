import { redact } from '../common/secrets';
import type { HttpErrorKind, HttpMethod } from './types';

/** Everything an HttpError carries. None of it may hold a header value, query string or request body. */
export interface HttpErrorInit {
  method: HttpMethod;
  /** URL path only, never the query string. */
  path: string;
  /** Host (and port) the request went to. */
  host?: string;
  status?: number;
  /** Service error code, e.g. RESOURCE_DOES_NOT_EXIST, InvalidTemplate, invalid_client. */
  code?: string;
  serviceMessage?: string;
  requestId?: string;
  kind: HttpErrorKind;
  attempts: number;
  /** The failure is transient (a later try may succeed), whether or not it was retried. */
  retryable: boolean;
  /** Human name of the operation, e.g. "import notebook". */
  operation?: string;
  /** Node/TLS error code for network failures, e.g. ECONNRESET, DEPTH_ZERO_SELF_SIGNED_CERT. */
  networkCode?: string;
  /** Per-attempt timeout that expired (kind 'timeout'). */
  timeoutMs?: number;
  /** Proxy host when the request went through a proxy. */
  proxyHost?: string;
  /** Overrides the built-in hint. */
  hint?: string;
}

export class HttpError extends Error {
  readonly method: HttpMethod;
  readonly path: string;
  readonly host?: string;
  readonly status?: number;
  readonly code?: string;
  readonly serviceMessage?: string;
  readonly requestId?: string;
  readonly kind: HttpErrorKind;
  readonly attempts: number;
  readonly retryable: boolean;
  readonly operation?: string;
  readonly networkCode?: string;

  constructor(init: HttpErrorInit) {
    super(formatHttpErrorMessage(init));
    this.name = 'HttpError';
    this.method = init.method;
    this.path = redact(init.path);
    this.host = init.host;
    this.status = init.status;
    this.code = init.code === undefined ? undefined : redact(init.code);
    this.serviceMessage = init.serviceMessage === undefined ? undefined : redact(init.serviceMessage);
    this.requestId = init.requestId;
    this.kind = init.kind;
    this.attempts = init.attempts;
    this.retryable = init.retryable;
    this.operation = init.operation;
    this.networkCode = init.networkCode;
  }
}

export function isHttpError(err: unknown, kind?: HttpErrorKind): err is HttpError {
  return err instanceof HttpError && (kind === undefined || err.kind === kind);
}

/** One line to show a user for any error a task hits; HTTP errors already carry their hint. */
export function describeError(err: unknown): string {
  if (err instanceof HttpError) return err.message;
  if (err instanceof Error) return redact(oneLine(err.message || err.name));
  return redact(oneLine(String(err)));
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

const INVALID_TOKEN =
  /invalid access token|token (is )?(expired|invalid)|expired token|invalid token|token.*has expired/i;
const NOT_FOUND_CODES = new Set([
  'RESOURCE_DOES_NOT_EXIST',
  'NOT_FOUND',
  'ResourceNotFound',
  'ResourceGroupNotFound',
]);
const CONFLICT_CODES = new Set(['RESOURCE_ALREADY_EXISTS', 'ALREADY_EXISTS']);
// Entra/OAuth token endpoint errors that mean "bad credentials", whatever the status (often 400).
const CREDENTIAL_CODES = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant']);

/** Classifies a non-success HTTP status (with the parsed service error) into an HttpErrorKind. */
export function kindForStatus(status: number, code?: string, message?: string): HttpErrorKind {
  if (status === 401 || (status === 400 && code && CREDENTIAL_CODES.has(code))) return 'unauthorized';
  if (status === 403)
    return INVALID_TOKEN.test(`${code ?? ''} ${message ?? ''}`) ? 'unauthorized' : 'forbidden';
  if (status === 404 || (code && NOT_FOUND_CODES.has(code))) return 'notFound';
  if (status === 409 || (code && CONFLICT_CODES.has(code))) return 'conflict';
  if (status === 429) return 'rateLimited';
  if (status === 407) return 'network';
  if (status >= 500) return 'server';
  return 'badRequest';
}

// ---------------------------------------------------------------------------
// Network error classification

export type NetworkFailure =
  | 'dns' // ENOTFOUND: the name does not resolve
  | 'dnsTemporary' // EAI_AGAIN: resolver failed for now
  | 'refused' // nothing listens / firewall rejects; request never sent
  | 'unreachable' // no route; request never sent
  | 'reset' // the connection broke; the request may have reached the server
  | 'tls' // certificate or handshake problem
  | 'other';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_CRL',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

export function classifyNetworkCode(code: string | undefined): NetworkFailure {
  if (!code) return 'other';
  if (code === 'ENOTFOUND') return 'dns';
  if (code === 'EAI_AGAIN') return 'dnsTemporary';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'EHOSTDOWN') return 'unreachable';
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return 'tls';
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'ECONNABORTED' ||
    code === 'ESOCKETTIMEDOUT' ||
    code === 'ERR_BAD_RESPONSE' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'HPE_INVALID_CONSTANT' ||
    code === 'UND_ERR_SOCKET'
  )
    return 'reset';
  return 'other';
}

// ---------------------------------------------------------------------------
// Error body parsing

export interface ParsedServiceError {
  code?: string;
  message?: string;
  /** Request/trace id found in the body (Entra's trace_id). */
  requestId?: string;
}

const MAX_SERVICE_MESSAGE = 600;

/**
 * Pulls the service's error code and message out of any of the shapes the
 * APIs send: Databricks `{error_code, message}` (code may be an integer),
 * Databricks API 1.2 `{error}`, ARM/ADF `{error:{code,message,details}}`,
 * Entra `{error, error_description, error_codes}`, `CODE: message` text, HTML.
 */
export function parseErrorBody(body: Buffer | string | undefined, contentType?: string): ParsedServiceError {
  const text = (Buffer.isBuffer(body) ? body.toString('utf8') : (body ?? '')).trim();
  if (!text) return {};
  if (text.startsWith('{') || text.startsWith('[') || /json/i.test(contentType ?? '')) {
    try {
      const parsed = fromJson(JSON.parse(text) as unknown);
      if (parsed.code !== undefined || parsed.message !== undefined) return clean(parsed);
    } catch {
      // not JSON after all: fall through to text handling
    }
  }
  if (/html/i.test(contentType ?? '') || /^<(!doctype|html|head|body)/i.test(text)) {
    return clean(splitCode(htmlToText(text)));
  }
  return clean(splitCode(oneLine(text)));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function fromJson(value: unknown): ParsedServiceError {
  if (!isObject(value)) return typeof value === 'string' ? splitCode(value) : {};
  const err = value.error;
  // ARM / ADF CloudError
  if (isObject(err)) {
    const code = str(err.code);
    let message = str(err.message);
    const details = collectDetails(err.details);
    if (details.length > 0) {
      // ARM's outer message is generic ("see inner errors"); the details say what is wrong.
      message = [message, ...details].filter(Boolean).join(' | ');
    }
    return { code, message, requestId: str(value.requestId) };
  }
  // Entra ID / OAuth
  if (typeof err === 'string' && (value.error_description !== undefined || value.error_codes !== undefined)) {
    const description = str(value.error_description);
    return {
      code: err,
      // AADSTS descriptions continue with "\r\nTrace ID: ..."; the first line says what is wrong.
      message: description ? firstLine(description) : undefined,
      requestId: str(value.trace_id) ?? str(value.correlation_id),
    };
  }
  // Databricks REST 2.x
  if (value.error_code !== undefined) {
    return { code: str(value.error_code), message: str(value.message) };
  }
  // Databricks API 1.2 `{error: "..."}` (sometimes "CODE: message")
  if (typeof err === 'string') return splitCode(err);
  // Other shapes: `{code, message}` (ARM operation status, ADF data plane), `{Message}`, RFC 7807
  const message = str(value.message) ?? str(value.Message) ?? str(value.detail) ?? str(value.title);
  return { code: str(value.code) ?? str(value.Code), message };
}

function collectDetails(details: unknown, depth = 0, out: string[] = []): string[] {
  if (!Array.isArray(details) || depth > 3) return out;
  for (const d of details) {
    if (out.length >= 4) break;
    if (!isObject(d)) continue;
    const code = str(d.code);
    const message = str(d.message);
    // A nested JSON body in the message (deployment operations do this): parse it too.
    const inner = message && message.trim().startsWith('{') ? tryJson(message) : undefined;
    if (inner) {
      const p = fromJson(inner);
      if (p.message || p.code) out.push([p.code, p.message].filter(Boolean).join(': '));
    } else if (code || message) {
      out.push([code, message].filter(Boolean).join(': '));
    }
    collectDetails(d.details, depth + 1, out);
  }
  return out;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/** "RESOURCE_DOES_NOT_EXIST: Path ..." → code + message. */
function splitCode(text: string): ParsedServiceError {
  const m = /^([A-Z][A-Z0-9_]{2,}):\s+(.+)$/s.exec(text.trim());
  if (m) return { code: m[1], message: m[2] };
  return text.trim() ? { message: text.trim() } : {};
}

function clean(p: ParsedServiceError): ParsedServiceError {
  const out: ParsedServiceError = {};
  if (p.code) out.code = shorten(oneLine(p.code), 100);
  if (p.message) out.message = shorten(oneLine(p.message), MAX_SERVICE_MESSAGE);
  if (p.requestId) out.requestId = shorten(oneLine(p.requestId), 100);
  return out;
}

/** Text of an HTML error page: Jetty puts the reason in <pre>, others in <title> or the body. */
export function htmlToText(html: string): string {
  const pre = /<pre[^>]*>([\s\S]*?)<\/pre>/i.exec(html);
  const body = /<body[^>]*>([\s\S]*?)<\/body>/i.exec(html);
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const pick = (pre && stripTags(pre[1])) || (body && stripTags(body[1])) || (title && stripTags(title[1]));
  return shorten(pick || stripTags(html), 300);
}

function stripTags(html: string): string {
  const text = html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, '&');
  return oneLine(text);
}

// ---------------------------------------------------------------------------
// Message formatting

/**
 * `<operation (METHOD path)> failed: <status> <code>: <serviceMessage> (request id X). <hint>`
 * Passed through redact() as a second line of defence.
 */
export function formatHttpErrorMessage(init: HttpErrorInit): string {
  const target = `${init.method} ${init.path}`;
  const label = init.operation ? `${init.operation} (${target})` : target;
  let what: string;
  if (init.status !== undefined) {
    const head = [String(init.status), init.code].filter(Boolean).join(' ');
    what = init.serviceMessage ? `${head}: ${init.serviceMessage}` : head;
  } else if (init.kind === 'timeout') {
    what = `no response within ${formatSeconds(init.timeoutMs ?? 0)}`;
  } else if (init.kind === 'aborted') {
    what = 'cancelled';
  } else {
    what = init.networkCode ?? 'network error';
    if (init.serviceMessage) what += `: ${init.serviceMessage}`;
  }
  const details: string[] = [];
  if (init.requestId) details.push(`request id ${init.requestId}`);
  if (init.attempts > 1) details.push(`${init.attempts} attempts`);
  const suffix = details.length > 0 ? ` (${details.join(', ')})` : '';
  const hint = init.hint ?? hintFor(init);
  const sentence = `${label} failed: ${what}${suffix}`;
  return redact(oneLine(hint ? `${endSentence(sentence)} ${hint}` : sentence));
}

/** What to check, per kind of failure. */
export function hintFor(e: HttpErrorInit): string {
  const host = e.host ?? 'the host';
  const via = e.proxyHost ? ` (through proxy ${e.proxyHost})` : '';
  switch (e.kind) {
    case 'unauthorized':
      if (INVALID_TOKEN.test(`${e.code ?? ''} ${e.serviceMessage ?? ''}`) || e.status === 403)
        return "The token is invalid or expired: check the service connection's token/secret.";
      return "Authentication failed: check the service connection's credentials (token, client secret, certificate or federated credential) and that they belong to this tenant/workspace.";
    case 'forbidden':
      if (e.path.startsWith('/api/'))
        return 'The identity is not allowed: for a service principal, check it is a member of the Databricks workspace (or pass the workspace resource id so it can be added automatically) and has permission on the object.';
      if (/\/subscriptions\/|\/providers\//i.test(e.path))
        return "The identity is not allowed: give the service connection's principal a role with this permission (e.g. Contributor or Data Factory Contributor) on the resource, resource group or subscription.";
      return 'The identity is not allowed: check the service connection has access to this resource.';
    case 'notFound':
      return `Not found: ${e.path} on ${host}. Check the name/path and that it exists (and that the URL points at the right workspace, subscription or resource group).`;
    case 'conflict':
      return 'Conflict: it already exists or another operation on it is in progress (use overwrite, or wait and retry).';
    case 'rateLimited':
      return 'The service is throttling requests: lower the parallelism or retry later.';
    case 'server':
      return 'The service reported a server error: retry later; if it persists, check the service status.';
    case 'timeout':
      return `Check that ${host} is reachable from the agent${via} or raise the timeout.`;
    case 'aborted':
      return '';
    case 'badRequest':
      if (e.status !== undefined && e.status >= 300 && e.status < 400)
        return `Unexpected redirect: check the URL (use the https:// URL of the service itself).`;
      return 'The request was rejected: check the inputs the message names.';
    case 'network':
      return networkHint(e, host, via);
  }
}

function networkHint(e: HttpErrorInit, host: string, via: string): string {
  if (e.status === 407)
    return `The proxy${e.proxyHost ? ` ${e.proxyHost}` : ''} requires authentication: check the agent's proxy username and password.`;
  switch (classifyNetworkCode(e.networkCode)) {
    case 'dns':
    case 'dnsTemporary':
      return `Could not resolve host ${host}: check the URL; with Private Link the agent must resolve the private endpoint.`;
    case 'refused':
      return e.proxyHost
        ? `Connection refused by the proxy ${e.proxyHost}: check the agent's proxy settings.`
        : `Connection refused by ${host}: check the URL and port, and that no firewall blocks the agent.`;
    case 'unreachable':
      return `${host} is unreachable from the agent${via}: check network routes, firewall and Private Link settings.`;
    case 'tls':
      if (e.networkCode === 'ERR_TLS_CERT_ALTNAME_INVALID' || e.networkCode === 'HOSTNAME_MISMATCH')
        return `The TLS certificate of ${host} does not match its name: check the URL uses the service's real host name.`;
      return `The TLS certificate of ${host} is not trusted: if a proxy or private CA re-signs TLS traffic, configure the agent's CA certificate (Agent.CAInfo) or set NODE_EXTRA_CA_CERTS to the CA bundle; check the system clock for expiry errors.`;
    case 'reset':
      return `The connection to ${host}${via} was closed unexpectedly: check proxy/firewall settings, then retry.`;
    default:
      return `Check that ${host} is reachable from the agent${via}.`;
  }
}

// ---------------------------------------------------------------------------
// small helpers

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0].trim();
}

export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function endSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

// ---------------------------------------------------------------------------
// Scrubbing what a service echoes back

const BENIGN_HEADERS = new Set(['content-type', 'accept', 'user-agent', 'content-length', 'accept-encoding']);
const SENSITIVE_PARAM = /(sig|signature|token|secret|key|password|pwd|code|assertion|credential|auth)/i;
const MIN_SCRUB_LENGTH = 6;

/**
 * Builds a function that removes, from text a service sent back, every value
 * the request carried that could be secret: header values (and the credential
 * part of "Bearer x"/"Basic x"), the raw query string and secret-looking query
 * parameters, and then every registered secret. A second line of defence for services
 * that echo requests in errors.
 */
export function requestScrubber(headers: Record<string, string>, url: URL): (text: string) => string {
  const values = new Set<string>();
  const add = (v: string | undefined): void => {
    if (v && v.length >= MIN_SCRUB_LENGTH) values.add(v);
  };
  for (const [name, value] of Object.entries(headers)) {
    if (BENIGN_HEADERS.has(name.toLowerCase())) continue;
    add(value);
    const parts = value.split(/\s+/);
    if (parts.length === 2) add(parts[1]);
  }
  if (url.search.length > 1) {
    add(url.search.slice(1));
    add(safeDecode(url.search.slice(1)));
    for (const [name, value] of url.searchParams) {
      if (SENSITIVE_PARAM.test(name)) {
        add(value);
        add(encodeURIComponent(value));
      }
    }
  }
  // Longest first so a value containing another is removed whole.
  const list = [...values].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const v of list) if (out.includes(v)) out = out.split(v).join('***');
    // Registered secrets too, here, before the body is parsed, flattened and cut: a secret
    // across a cut would otherwise keep its start where redact() can no longer see it.
    return redact(out);
  };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
