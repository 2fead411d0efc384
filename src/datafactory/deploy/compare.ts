/**
 * Comparing a template's definition with the live one: both are normalised
 * (read-only and service-filled properties dropped, null/empty values treated
 * as absent, SecureString values masked as the service masks them on read),
 * then compared deeply; differences are listed per property path.
 */
import type { FactoryChildType } from '../factory-client';
import { isOpaqueValue } from './parameters';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Properties the service sets or ignores on PUT, per type. */
const READ_ONLY: Partial<Record<FactoryChildType, string[]>> = {
  triggers: ['runtimeState'],
  managedPrivateEndpoints: ['provisioningState', 'connectionState', 'isReserved'],
  managedVirtualNetworks: ['vNetId', 'alias', 'provisioningState'],
  integrationRuntimes: ['state'],
};

export const SECURE_MASK = '**********';

/** null, [] and {} count as absent (the service drops or adds them freely). */
function normalizeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === null ? null : normalizeValue(x)));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    if (typeof v.type === 'string' && v.type === 'SecureString' && 'value' in v) {
      // The service never returns secure values: compare them masked on both sides.
      for (const [k, x] of Object.entries(v)) if (k !== 'value') out[k] = normalizeValue(x);
      out.value = SECURE_MASK;
      return out;
    }
    for (const k of Object.keys(v).sort()) {
      const x = normalizeValue(v[k]);
      if (x === undefined || x === null) continue;
      if (Array.isArray(x) && x.length === 0) continue;
      if (isObject(x) && Object.keys(x).length === 0) continue;
      out[k] = x;
    }
    return out;
  }
  return v;
}

/** A definition ready for comparison and display. */
export function normalizeDefinition(
  type: FactoryChildType,
  properties: Record<string, unknown>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...properties };
  for (const k of READ_ONLY[type] ?? []) delete copy[k];
  const n = normalizeValue(copy);
  return isObject(n) ? n : {};
}

/** Whether a template definition carries values the live factory cannot show back (secure strings, Key Vault). */
export function hasUncomparableValues(properties: unknown): boolean {
  let found = false;
  const walk = (v: unknown): void => {
    if (found) return;
    if (isOpaqueValue(v)) found = true;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      if (
        v.type === 'SecureString' &&
        typeof v.value === 'string' &&
        v.value !== '' &&
        v.value !== SECURE_MASK
      ) {
        found = true;
        return;
      }
      Object.values(v).forEach(walk);
    }
  };
  walk(properties);
  return found;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export interface PropertyDiff {
  /** e.g. activities[Copy data].typeProperties.source.type */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

function namedItems(a: unknown[]): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  for (const x of a) {
    if (!isObject(x) || typeof x.name !== 'string' || m.has(x.name)) return undefined;
    m.set(x.name, x);
  }
  return m;
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/**
 * Property-level differences (live → template) between two normalised definitions.
 * Arrays of named items (activities, parameters lists) are matched by name.
 */
export function diffDefinitions(
  before: unknown,
  after: unknown,
  path = '',
  out: PropertyDiff[] = [],
): PropertyDiff[] {
  if (deepEqual(before, after)) return out;
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) {
      const p = join(path, k);
      if (!(k in before)) out.push({ path: p, kind: 'added', after: after[k] });
      else if (!(k in after)) out.push({ path: p, kind: 'removed', before: before[k] });
      else diffDefinitions(before[k], after[k], p, out);
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const nb = namedItems(before);
    const na = namedItems(after);
    if (nb && na) {
      const orderChanged =
        [...nb.keys()].filter((k) => na.has(k)).join('\u0000') !==
        [...na.keys()].filter((k) => nb.has(k)).join('\u0000');
      for (const [name, b] of nb) {
        const p = `${path}[${name}]`;
        if (!na.has(name)) out.push({ path: p, kind: 'removed', before: b });
        else diffDefinitions(b, na.get(name), p, out);
      }
      for (const [name, a] of na)
        if (!nb.has(name)) out.push({ path: `${path}[${name}]`, kind: 'added', after: a });
      if (orderChanged) out.push({ path, kind: 'changed', before: [...nb.keys()], after: [...na.keys()] });
      return out;
    }
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= before.length) out.push({ path: p, kind: 'added', after: after[i] });
      else if (i >= after.length) out.push({ path: p, kind: 'removed', before: before[i] });
      else diffDefinitions(before[i], after[i], p, out);
    }
    return out;
  }
  out.push({ path: path || '(whole definition)', kind: 'changed', before, after });
  return out;
}

/** Whether a string holds a secure value; values under 4 characters only when equal, so ordinary words stay. */
function holdsSecret(s: string, secrets: readonly string[]): boolean {
  return secrets.some((x) => x !== '' && (x.length < 4 ? s === x : s.includes(x)));
}

/** The value with every string that holds a secure value replaced by the mask; `masked` says whether any was. */
export function maskSecrets(v: unknown, secrets: readonly string[]): { value: unknown; masked: boolean } {
  if (secrets.length === 0) return { value: v, masked: false };
  let masked = false;
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') {
      if (!holdsSecret(x, secrets)) return x;
      masked = true;
      return SECURE_MASK;
    }
    if (Array.isArray(x)) return x.map(walk);
    if (isObject(x)) {
      const out: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x)) out[holdsSecret(k, secrets) ? SECURE_MASK : k] = walk(y);
      return out;
    }
    return x;
  };
  const value = walk(v);
  return { value, masked };
}

/**
 * Diffs safe to print: values holding a secure value are masked before anything
 * escapes or shortens them (then neither redaction nor agent masking would match).
 * When the template side of a change is secure, the live side is masked too: it
 * is usually the previous secret.
 */
export function maskDiffSecrets(diffs: PropertyDiff[], secrets: readonly string[]): PropertyDiff[] {
  if (secrets.length === 0) return diffs;
  return diffs.map((d) => {
    const after = maskSecrets(d.after, secrets);
    const before = maskSecrets(d.before, secrets);
    if (!after.masked && !before.masked && !holdsSecret(d.path, secrets)) return d;
    const out: PropertyDiff = { ...d, path: holdsSecret(d.path, secrets) ? SECURE_MASK : d.path };
    if ('after' in d) out.after = after.value;
    if ('before' in d)
      out.before =
        after.masked && d.kind === 'changed' && !isObject(d.before) && !Array.isArray(d.before)
          ? SECURE_MASK
          : before.value;
    return out;
  });
}

function show(v: unknown, max = 100): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * One line per difference, e.g. "~ typeProperties.url: "a" → "b"". Values holding
 * one of `secrets` are masked first.
 */
export function formatDiff(diffs: PropertyDiff[], max = 25, secrets: readonly string[] = []): string[] {
  const lines = maskDiffSecrets(diffs.slice(0, max), secrets).map((d) => {
    if (d.kind === 'added') return `+ ${d.path}: ${show(d.after)}`;
    if (d.kind === 'removed') return `- ${d.path}: ${show(d.before)}`;
    return `~ ${d.path}: ${show(d.before)} → ${show(d.after)}`;
  });
  if (diffs.length > max) lines.push(`… and ${diffs.length - max} more difference(s)`);
  return lines;
}
