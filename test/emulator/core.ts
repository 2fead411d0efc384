/**
 * Emulator core: HTTPS listeners on 127.0.0.1 (one per emulated host), a shared
 * generated certificate, routing, a request journal, fault injection, latency,
 * per-API rate limits and a token registry. Plugins (databricks.ts, entra.ts,
 * devops.ts, arm.ts, datafactory.ts) register routes for a host role.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TokenRegistry } from './tokens';
import { parseMultipart, type MultipartBody } from './multipart';
import { generateCertificate } from './certificate';

export type ErrorStyle = 'databricks' | 'azure' | 'entra' | 'devops' | 'plain';

export interface EmuHost {
  /** Unique name, e.g. 'login', 'management', 'devops', 'ws-dev'. */
  name: string;
  /** Which routes serve it, e.g. 'databricks' for every workspace. */
  role: string;
  style: ErrorStyle;
  protocol: 'https' | 'http';
  port: number;
  /** Base URL without trailing slash, e.g. https://127.0.0.1:41234 */
  url: string;
}

export interface EmuRequest {
  method: string;
  /** URL path, decoded per segment is NOT applied: raw path as sent. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON (application/json or a body that parses), form object, or multipart. */
  body: unknown;
  form?: Record<string, string>;
  multipart?: MultipartBody;
  /** Route parameters from :name segments; '*' captures the rest as params['*']. */
  params: Record<string, string>;
  host: EmuHost;
  api: string;
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  json?: unknown;
  /** Raw body (wins over json). */
  body?: Buffer | string;
}

export type Handler = (req: EmuRequest) => EmuResponse | Promise<EmuResponse>;

export type FaultKind = '429' | '500' | '503' | 'resetBefore' | 'resetAfter' | 'slow';

export interface FaultRule {
  kind: FaultKind;
  /** Exact api name, or a RegExp over the api name. Omitted: any api. */
  api?: string | RegExp;
  host?: string;
  method?: string;
  /** Chance per matching request (default 1). */
  probability?: number;
  /** Fire at most this many times (default unlimited). */
  count?: number;
  /** For 429/503: Retry-After in seconds, 'date' for an HTTP date 1 s ahead, or 'none'. Default 1. */
  retryAfter?: number | 'date' | 'none';
  /** For 'slow': added delay in ms (default 2000). */
  delayMs?: number;
}

interface ActiveFault extends FaultRule {
  id: number;
  fired: number;
}

export interface JournalEntry {
  seq: number;
  time: number;
  host: string;
  role: string;
  method: string;
  path: string;
  query: string;
  api: string;
  status: number;
  /** The injected fault, if any ('resetAfter' means the handler ran). */
  fault?: FaultKind | 'rateLimit';
  /** 'Bearer', 'Basic' or undefined: never the credential itself. */
  authScheme?: string;
  /** Selected non-secret headers. */
  headers: Record<string, string>;
  requestBody?: unknown;
  durationMs: number;
}

interface Route {
  role: string;
  method: string;
  segments: string[];
  api: string;
  handler: Handler;
}

interface Bucket {
  perSecond: number;
  burst: number;
  tokens: number;
  updated: number;
}

const JOURNALED_HEADERS = [
  'content-type',
  'user-agent',
  'x-databricks-azure-workspace-resource-id',
  'if-match',
  'if-none-match',
  'metadata',
  'x-identity-header',
];

/** mulberry32: small seeded PRNG so fault patterns repeat for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface EmulatorOptions {
  seed?: number;
  /** Default latency added to every (non-control) request. */
  latencyMs?: number;
  /** Keep request bodies in the journal (default true). */
  journalBodies?: boolean;
}

export class Emulator {
  readonly hosts = new Map<string, EmuHost>();
  readonly journal: JournalEntry[] = [];
  readonly tokens = new TokenRegistry();
  random: () => number;
  /** Directory for the CA file and other generated material; removed on stop(). */
  readonly dir: string;
  caPem = '';
  keyPem = '';
  caFile = '';

  private readonly routes: Route[] = [];
  private readonly controlRoutes: Route[] = [];
  private readonly servers: (http.Server | https.Server)[] = [];
  private readonly sockets = new Set<Socket>();
  private faults: ActiveFault[] = [];
  private faultSeq = 0;
  private latency = new Map<string, number>();
  private defaultLatency: number;
  private buckets = new Map<string, Bucket>();
  private rateLimits = new Map<string, { perSecond: number; burst: number }>();
  private resetHooks: (() => void)[] = [];
  /** APIs that answer a POST without changing state (validate, whatIf, queries). */
  private readonly readOnlyApis = new Set<string>();
  private seq = 0;
  private readonly journalBodies: boolean;

  private constructor(opts: EmulatorOptions) {
    this.random = seededRandom(opts.seed ?? 1);
    this.defaultLatency = opts.latencyMs ?? 0;
    this.journalBodies = opts.journalBodies ?? true;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-'));
    this.registerControlRoutes();
  }

  /** Creates the emulator and its certificate; add hosts with addHost() or plugins. */
  static async create(opts: EmulatorOptions = {}): Promise<Emulator> {
    const emu = new Emulator(opts);
    const cert = await generateCertificate();
    emu.caPem = cert.certPem;
    emu.keyPem = cert.keyPem;
    emu.caFile = path.join(emu.dir, 'emulator-ca.pem');
    fs.writeFileSync(emu.caFile, cert.certPem);
    return emu;
  }

  /** Environment a spawned task needs to trust the emulator. */
  env(): Record<string, string> {
    return { NODE_EXTRA_CA_CERTS: this.caFile };
  }

  async addHost(
    name: string,
    opts: { role: string; style: ErrorStyle; protocol?: 'https' | 'http' },
  ): Promise<EmuHost> {
    if (this.hosts.has(name)) throw new Error(`emulator host ${name} exists`);
    const protocol = opts.protocol ?? 'https';
    const host: EmuHost = { name, role: opts.role, style: opts.style, protocol, port: 0, url: '' };
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) =>
      void this.handle(host, req, res);
    const server =
      protocol === 'https'
        ? https.createServer({ cert: this.caPem, key: this.keyPem }, listener)
        : http.createServer(listener);
    server.keepAliveTimeout = 5000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    host.port = (server.address() as AddressInfo).port;
    host.url = `${protocol}://127.0.0.1:${host.port}`;
    this.servers.push(server);
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): EmuHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no emulator host named ${name}`);
    return h;
  }

  hostsWithRole(role: string): EmuHost[] {
    return [...this.hosts.values()].filter((h) => h.role === role);
  }

  /**
   * Registers a route for every host of a role. Pattern segments: literal,
   * ':name' (one segment), '*' (the rest). Matching is case-insensitive on literals,
   * as Azure's resource paths are.
   */
  route(role: string, method: string, pattern: string, api: string, handler: Handler): void {
    this.routes.push({ role, method: method.toUpperCase(), segments: splitPath(pattern), api, handler });
  }

  /** A control route under /_emulator on every host: no faults, latency, limits or journal. */
  control(method: string, pattern: string, handler: Handler): void {
    this.controlRoutes.push({
      role: '*',
      method: method.toUpperCase(),
      segments: splitPath('/_emulator' + pattern),
      api: 'control',
      handler,
    });
  }

  /** Marks APIs whose POSTs only read (validate, whatIf, queries), so writes() leaves them out. */
  markReadOnly(...apis: string[]): void {
    for (const a of apis) this.readOnlyApis.add(a);
  }

  onReset(hook: () => void): void {
    this.resetHooks.push(hook);
  }

  // ---- faults, latency, rate limits -------------------------------------------------

  addFault(rule: FaultRule): number {
    const id = ++this.faultSeq;
    this.faults.push({ ...rule, id, fired: 0 });
    return id;
  }

  removeFault(id: number): void {
    this.faults = this.faults.filter((f) => f.id !== id);
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Transient faults of every kind at the given rate (soak tests). */
  addRandomFaults(
    rate: number,
    opts: { api?: string | RegExp; host?: string; kinds?: FaultKind[] } = {},
  ): number[] {
    const kinds = opts.kinds ?? ['429', '500', '503', 'resetBefore', 'resetAfter'];
    return kinds.map((kind) =>
      this.addFault({ kind, api: opts.api, host: opts.host, probability: rate / kinds.length }),
    );
  }

  setLatency(ms: number, api?: string): void {
    if (api) this.latency.set(api, ms);
    else this.defaultLatency = ms;
  }

  /** Token bucket per host and api: perSecond refill, burst capacity (default perSecond). */
  setRateLimit(api: string, perSecond: number, burst?: number): void {
    this.rateLimits.set(api, { perSecond, burst: burst ?? perSecond });
    for (const key of [...this.buckets.keys()]) if (key.endsWith(`|${api}`)) this.buckets.delete(key);
  }

  clearRateLimits(): void {
    this.rateLimits.clear();
    this.buckets.clear();
  }

  // ---- journal ------------------------------------------------------------------------

  clearJournal(): void {
    this.journal.length = 0;
  }

  /** Journal entries, optionally filtered by api name (string or RegExp) and host. */
  requests(filter: { api?: string | RegExp; host?: string; method?: string } = {}): JournalEntry[] {
    return this.journal.filter(
      (e) =>
        (!filter.api || matchApi(filter.api, e.api)) &&
        (!filter.host || e.host === filter.host) &&
        (!filter.method || e.method === filter.method),
    );
  }

  /** Journal entries that changed state (non-GET/HEAD that reached a handler). */
  writes(filter: { host?: string } = {}): JournalEntry[] {
    return this.journal.filter(
      (e) =>
        e.method !== 'GET' &&
        e.method !== 'HEAD' &&
        e.api !== 'control' &&
        !this.readOnlyApis.has(e.api) &&
        !/token|oidc|identity/i.test(e.api) &&
        e.fault !== 'resetBefore' &&
        e.fault !== '429' &&
        e.fault !== '500' &&
        e.fault !== '503' &&
        e.fault !== 'rateLimit' &&
        (!filter.host || e.host === filter.host),
    );
  }

  /** Clears state of every plugin, faults, limits, latency and the journal. */
  reset(): void {
    this.clearFaults();
    this.clearRateLimits();
    this.latency.clear();
    this.defaultLatency = 0;
    this.clearJournal();
    for (const h of this.resetHooks) h();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- error bodies -------------------------------------------------------------------

  /** An error response in the style of the host (Databricks, ARM, Entra, Azure DevOps). */
  error(
    host: EmuHost,
    status: number,
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): EmuResponse {
    switch (host.style) {
      case 'databricks':
        return { status, json: { error_code: code, message, ...extra } };
      case 'azure':
        return {
          status,
          headers: { 'x-ms-request-id': crypto.randomUUID() },
          json: { error: { code, message, target: null, details: null, ...extra } },
        };
      case 'entra': {
        const codes = /^AADSTS(\d+)/.exec(message);
        return {
          status,
          json: {
            error: code,
            error_description: message,
            error_codes: codes ? [Number(codes[1])] : [],
            timestamp: new Date()
              .toISOString()
              .replace('T', ' ')
              .replace(/\.\d+Z$/, 'Z'),
            trace_id: crypto.randomUUID(),
            correlation_id: crypto.randomUUID(),
            ...extra,
          },
        };
      }
      case 'devops':
        return {
          status,
          json: {
            $id: '1',
            innerException: null,
            message,
            typeName: `Microsoft.VisualStudio.Services.${code}, Microsoft.VisualStudio.Services.WebApi`,
            typeKey: code,
            errorCode: 0,
            eventId: 3000,
          },
        };
      default:
        return { status, body: message, headers: { 'content-type': 'text/plain' } };
    }
  }

  // ---- request handling --------------------------------------------------------------

  private async handle(host: EmuHost, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://x');
    const rawBody = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();

    const control = this.match(this.controlRoutes, '*', method, url.pathname);
    if (control) {
      const er = this.buildRequest(host, req, url, rawBody, control.route.api, control.params);
      const out = await safeCall(control.route.handler, er);
      send(res, out);
      return;
    }

    const found = this.match(this.routes, host.role, method, url.pathname);
    const api = found?.route.api ?? 'unknown';
    const entry: JournalEntry = {
      seq: ++this.seq,
      time: started,
      host: host.name,
      role: host.role,
      method,
      path: url.pathname,
      query: url.search,
      api,
      status: 0,
      authScheme: authScheme(req.headers.authorization),
      headers: pickHeaders(req.headers),
      durationMs: 0,
    };
    this.journal.push(entry);
    const finish = (out: EmuResponse) => {
      entry.status = out.status;
      entry.durationMs = Date.now() - started;
      send(res, out);
    };

    const latency = this.latency.get(api) ?? this.defaultLatency;
    if (latency > 0) await sleep(latency);

    const er = this.buildRequest(host, req, url, rawBody, api, found?.params ?? {});
    if (this.journalBodies) entry.requestBody = summariseBody(er);

    if (!found) {
      const known = this.routes.some(
        (r) => r.role === host.role && matchSegments(r.segments, splitPath(url.pathname)),
      );
      finish(
        known
          ? this.error(host, 405, 'METHOD_NOT_ALLOWED', `Method ${method} is not allowed for ${url.pathname}`)
          : this.error(
              host,
              404,
              host.style === 'azure' ? 'NotFound' : 'ENDPOINT_NOT_FOUND',
              `No API found for '${method} ${url.pathname}'`,
            ),
      );
      return;
    }

    const fault = this.pickFault(host, method, api);
    if (fault) {
      entry.fault = fault.kind;
      switch (fault.kind) {
        case 'resetBefore':
          entry.durationMs = Date.now() - started;
          req.socket.destroy();
          return;
        case 'slow':
          await sleep(fault.delayMs ?? 2000);
          break;
        case '429':
          finish(this.throttled(host, retryAfterHeader(fault.retryAfter)));
          return;
        case '500':
          finish(
            this.error(
              host,
              500,
              host.style === 'azure' ? 'InternalServerError' : 'INTERNAL_ERROR',
              'Injected internal error.',
            ),
          );
          return;
        case '503': {
          const out = this.error(
            host,
            503,
            host.style === 'azure' ? 'ServiceUnavailable' : 'TEMPORARILY_UNAVAILABLE',
            'The service is temporarily unavailable. Please try again later.',
          );
          const ra = retryAfterHeader(fault.retryAfter);
          if (ra) out.headers = { ...out.headers, 'retry-after': ra };
          finish(out);
          return;
        }
        default:
          break;
      }
    }

    const waitSeconds = this.takeToken(host, api);
    if (waitSeconds > 0) {
      entry.fault = 'rateLimit';
      finish(this.throttled(host, String(waitSeconds)));
      return;
    }

    const out = await safeCall(found.route.handler, er);
    if (fault?.kind === 'resetAfter') {
      // The server acted; the client never hears back.
      entry.status = out.status;
      entry.durationMs = Date.now() - started;
      req.socket.destroy();
      return;
    }
    finish(out);
  }

  private throttled(host: EmuHost, retryAfter: string | undefined): EmuResponse {
    const out =
      host.style === 'azure'
        ? this.error(
            host,
            429,
            'TooManyRequests',
            'The request is being throttled as the limit has been reached for operation type.',
          )
        : host.style === 'entra'
          ? this.error(
              host,
              429,
              'temporarily_unavailable',
              'AADSTS50196: The server terminated an operation because it encountered a client request loop.',
            )
          : this.error(
              host,
              429,
              'REQUEST_LIMIT_EXCEEDED',
              'Too many requests. Please wait a moment and try again.',
            );
    if (retryAfter) out.headers = { ...out.headers, 'retry-after': retryAfter };
    return out;
  }

  private pickFault(host: EmuHost, method: string, api: string): ActiveFault | undefined {
    for (const f of this.faults) {
      if (f.count !== undefined && f.fired >= f.count) continue;
      if (f.api && !matchApi(f.api, api)) continue;
      if (f.host && f.host !== host.name) continue;
      if (f.method && f.method.toUpperCase() !== method) continue;
      if (f.probability !== undefined && f.probability < 1 && this.random() >= f.probability) continue;
      f.fired++;
      return f;
    }
    return undefined;
  }

  /** Returns 0 when a token was taken, else whole seconds until one is available. */
  private takeToken(host: EmuHost, api: string): number {
    const limit = this.rateLimits.get(api);
    if (!limit) return 0;
    const key = `${host.name}|${api}`;
    const now = Date.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { perSecond: limit.perSecond, burst: limit.burst, tokens: limit.burst, updated: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(b.burst, b.tokens + ((now - b.updated) / 1000) * b.perSecond);
    b.updated = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / b.perSecond));
  }

  private match(
    routes: Route[],
    role: string,
    method: string,
    pathname: string,
  ): { route: Route; params: Record<string, string> } | undefined {
    const segs = splitPath(pathname);
    for (const r of routes) {
      if (r.role !== '*' && r.role !== role) continue;
      if (r.method !== method) continue;
      const params = matchSegments(r.segments, segs);
      if (params) return { route: r, params };
    }
    return undefined;
  }

  private buildRequest(
    host: EmuHost,
    req: http.IncomingMessage,
    url: URL,
    rawBody: Buffer,
    api: string,
    params: Record<string, string>,
  ): EmuRequest {
    const ctype = String(req.headers['content-type'] ?? '').toLowerCase();
    let body: unknown;
    let form: Record<string, string> | undefined;
    let multipart: MultipartBody | undefined;
    if (ctype.startsWith('multipart/form-data')) {
      multipart = parseMultipart(rawBody, String(req.headers['content-type']));
      body = multipart;
    } else if (ctype.startsWith('application/x-www-form-urlencoded')) {
      form = Object.fromEntries(new URLSearchParams(rawBody.toString('utf8')));
      body = form;
    } else if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        body = undefined;
      }
    }
    return {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body,
      form,
      multipart,
      params,
      host,
      api,
    };
  }

  private registerControlRoutes(): void {
    this.control('GET', '/hosts', () => ({ status: 200, json: [...this.hosts.values()] }));
    this.control('GET', '/journal', () => ({ status: 200, json: this.journal }));
    this.control('DELETE', '/journal', () => {
      this.clearJournal();
      return { status: 200, json: {} };
    });
    this.control('POST', '/faults', (req) => {
      const b = (req.body ?? {}) as FaultRule & { apiPattern?: string };
      const rule: FaultRule = { ...b, api: b.apiPattern ? new RegExp(b.apiPattern) : b.api };
      return { status: 200, json: { id: this.addFault(rule) } };
    });
    this.control('DELETE', '/faults', () => {
      this.clearFaults();
      return { status: 200, json: {} };
    });
    this.control('POST', '/latency', (req) => {
      const b = (req.body ?? {}) as { ms: number; api?: string };
      this.setLatency(b.ms, b.api);
      return { status: 200, json: {} };
    });
    this.control('POST', '/ratelimit', (req) => {
      const b = (req.body ?? {}) as { api: string; perSecond: number; burst?: number };
      this.setRateLimit(b.api, b.perSecond, b.burst);
      return { status: 200, json: {} };
    });
    this.control('POST', '/reset', () => {
      this.reset();
      return { status: 200, json: {} };
    });
  }
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '*') {
      params['*'] = segs.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= segs.length) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(segs[i]);
    else if (p.toLowerCase() !== segs[i].toLowerCase()) return undefined;
  }
  return pattern.length === segs.length ? params : undefined;
}

function matchApi(filter: string | RegExp, api: string): boolean {
  return typeof filter === 'string' ? filter === api : filter.test(api);
}

function retryAfterHeader(v: FaultRule['retryAfter']): string | undefined {
  if (v === 'none') return undefined;
  if (v === 'date') return new Date(Date.now() + 1000).toUTCString();
  return String(v ?? 1);
}

function authScheme(h: string | undefined): string | undefined {
  if (!h) return undefined;
  return h.split(' ')[0];
}

function pickHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of JOURNALED_HEADERS) {
    const v = h[k];
    if (typeof v === 'string') out[k] = v;
  }
  if (h['x-databricks-azure-sp-management-token'])
    out['x-databricks-azure-sp-management-token'] = '(present)';
  return out;
}

function summariseBody(req: EmuRequest): unknown {
  if (req.multipart) {
    return {
      fields: req.multipart.fields,
      files: req.multipart.files.map((f) => ({ name: f.name, filename: f.filename, size: f.content.length })),
    };
  }
  // Token requests carry secrets; keep only the grant type.
  if (req.form) return { grant_type: req.form.grant_type };
  return req.body;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function safeCall(handler: Handler, req: EmuRequest): Promise<EmuResponse> {
  try {
    return await handler(req);
  } catch (e) {
    return {
      status: 500,
      json: { error_code: 'EMULATOR_BUG', message: e instanceof Error ? e.stack : String(e) },
    };
  }
}

function send(res: http.ServerResponse, out: EmuResponse): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  let payload: Buffer | string = '';
  if (out.body !== undefined) payload = out.body;
  else if (out.json !== undefined) {
    payload = JSON.stringify(out.json);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  if (out.status !== 204 && out.status !== 304)
    headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(out.status, headers);
  res.end(out.status === 204 || out.status === 304 ? undefined : payload);
}
