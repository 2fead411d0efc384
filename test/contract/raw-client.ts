/**
 * A deliberately small HTTPS client for contract tests: it sends exactly what it
 * is given (no retries, no auth logic, a fresh connection per call) so tests see
 * the emulator's raw status codes, headers and bodies.
 *
 *   call(emu, 'GET', 'https://127.0.0.1:1234/x')            trusts emu.caPem
 *   call(ws, 'POST', '/api/2.0/workspace/mkdirs', {json})    a host/workspace with url (+ caPem)
 *   call('https://127.0.0.1:1234', 'GET', '/x', {ca})        a base URL
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';

export interface RawFile {
  name: string;
  filename: string;
  content: Buffer | string;
  contentType?: string;
}

export interface CallOptions {
  json?: unknown;
  form?: Record<string, string>;
  multipart?: { fields?: Record<string, string>; files?: RawFile[] };
  /** Raw body; set content-type yourself. */
  body?: Buffer | string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  /** Adds Authorization: Bearer <token>. */
  bearer?: string;
  /** CA certificate(s) to trust; null trusts only the system store. Default: the target's caPem. */
  ca?: string | null;
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined if the body is not JSON). Loosely typed on purpose: tests read any field. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
  body: Buffer;
}

/** Anything with a base URL and, optionally, the CA to trust (EmuHost, Workspace, Emulator). */
export type Target = string | { url?: string; caPem?: string };

export async function call(
  target: Target,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<CallResult> {
  const { url, ca } = resolve(target, path, opts);
  const headers: Record<string, string> = { accept: 'application/json', ...lower(opts.headers ?? {}) };
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  let payload: Buffer | undefined;
  if (opts.json !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.json), 'utf8');
    headers['content-type'] ??= 'application/json';
  } else if (opts.form) {
    payload = Buffer.from(new URLSearchParams(opts.form).toString(), 'utf8');
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (opts.multipart) {
    const boundary = `----rawclient${crypto.randomBytes(8).toString('hex')}`;
    payload = encodeMultipart(boundary, opts.multipart.fields ?? {}, opts.multipart.files ?? []);
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
  } else if (opts.body !== undefined) {
    payload = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
  }
  if (payload) headers['content-length'] = String(payload.length);
  for (const [k, v] of Object.entries(opts.query ?? {}))
    if (v !== undefined) url.searchParams.set(k, String(v));

  return new Promise<CallResult>((resolvePromise, reject) => {
    const mod = url.protocol === 'http:' ? http : https;
    const req = mod.request(
      url,
      {
        method: method.toUpperCase(),
        headers,
        agent: false,
        ...(url.protocol === 'https:' && ca ? { ca } : {}),
        timeout: opts.timeoutMs ?? 15000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
          resolvePromise({ status: res.statusCode ?? 0, headers: out, json, text, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${opts.timeoutMs ?? 15000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A call() bound to a target and default options (e.g. a bearer token). */
export function rawClient(target: Target, defaults: CallOptions = {}) {
  return (method: string, path: string, opts: CallOptions = {}) =>
    call(target, method, path, {
      ...defaults,
      ...opts,
      headers: { ...(defaults.headers ?? {}), ...(opts.headers ?? {}) },
    });
}

function resolve(target: Target, path: string, opts: CallOptions): { url: URL; ca: string | undefined } {
  const base = typeof target === 'string' ? target : target.url;
  const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path, ensureBase(base));
  const ca =
    opts.ca === null ? undefined : (opts.ca ?? (typeof target === 'string' ? undefined : target.caPem));
  return { url, ca };
}

function ensureBase(base: string | undefined): string {
  if (!base) throw new Error('call(): give an absolute URL, or a target with a url');
  return base.endsWith('/') ? base : `${base}/`;
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function encodeMultipart(boundary: string, fields: Record<string, string>, files: RawFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        'utf8',
      ),
    );
  }
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\n` +
          `Content-Type: ${f.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        'utf8',
      ),
      Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8'),
      Buffer.from('\r\n', 'utf8'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return Buffer.concat(parts);
}

/** Polls until check() returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}
