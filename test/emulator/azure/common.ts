/**
 * Helpers shared by the emulated Azure Resource Manager and Data Factory:
 * error values, resource ids, etags, JSON comparison and timing.
 */
import * as crypto from 'node:crypto';

/** An error as ARM and resource providers return it: {error:{code,message,target,details}}. */
export interface AzureError {
  status: number;
  code: string;
  message: string;
  target?: string | null;
  details?: { code: string; message: string; target?: string | null; details?: unknown }[] | null;
  additionalInfo?: { type: string; info: unknown }[];
}

export function azureError(
  status: number,
  code: string,
  message: string,
  extra: Partial<AzureError> = {},
): AzureError {
  return { status, code, message, ...extra };
}

/** The body the service sends for an error. */
export function errorBody(e: AzureError): { error: Record<string, unknown> } {
  const error: Record<string, unknown> = {
    code: e.code,
    message: e.message,
    target: e.target ?? null,
    details: e.details ?? null,
  };
  if (e.additionalInfo) error.additionalInfo = e.additionalInfo;
  return { error };
}

/** The error object inside a deployment/operation body (no status). */
export function errorObject(e: AzureError): Record<string, unknown> {
  return errorBody(e).error;
}

export function isAzureError(v: unknown): v is AzureError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as AzureError).code === 'string' &&
    typeof (v as AzureError).status === 'number'
  );
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return (a ?? null) === (b ?? null);
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** ADF style etag: a quoted GUID-like value that changes on every write. */
export function newEtag(): string {
  const h = crypto.randomBytes(16).toString('hex');
  return `"${h.slice(0, 8)}-0000-0100-0000-${h.slice(8, 20)}0000"`;
}

/** Upper-case hex id like ARM's deployment operation ids. */
export function operationId(): string {
  return crypto.randomBytes(8).toString('hex').toUpperCase();
}

export function isoNow(t = Date.now()): string {
  return new Date(t).toISOString();
}

/** ISO 8601 duration as ARM prints it, e.g. PT1.2345S. */
export function isoDuration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(4).replace(/\.?0+$/, '')}S`;
}

export function rgId(sub: string, rg: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}`;
}

export function factoryId(sub: string, rg: string, factory: string): string {
  return `${rgId(sub, rg)}/providers/Microsoft.DataFactory/factories/${factory}`;
}

export function lower(s: string): string {
  return s.toLowerCase();
}

/** A property-level difference, in ARM what-if's delta shape. */
export interface PropertyChange {
  path: string;
  propertyChangeType: 'Create' | 'Delete' | 'Modify' | 'Array' | 'NoEffect';
  before?: unknown;
  after?: unknown;
  children?: PropertyChange[];
}

/** Leaf-level differences between two JSON values (objects recurse; arrays compare whole). */
export function diffJson(before: unknown, after: unknown, path = ''): PropertyChange[] {
  if (deepEqual(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const out: PropertyChange[] = [];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of keys) {
      const p = path ? `${path}.${k}` : k;
      const b = before[k];
      const a = after[k];
      if (b === undefined && a !== undefined) out.push({ path: p, propertyChangeType: 'Create', after: a });
      else if (a === undefined && b !== undefined)
        out.push({ path: p, propertyChangeType: 'Delete', before: b });
      else out.push(...diffJson(b, a, p));
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    return [{ path, propertyChangeType: 'Array', before, after }];
  }
  return [{ path, propertyChangeType: 'Modify', before, after }];
}

/** Splits a request path's query into a case-insensitive getter (ARM treats names case-insensitively). */
export function queryParam(q: URLSearchParams, name: string): string | undefined {
  const direct = q.get(name);
  if (direct !== null) return direct;
  const lname = name.toLowerCase();
  for (const [k, v] of q) if (k.toLowerCase() === lname) return v;
  return undefined;
}

export function headerValue(
  h: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
