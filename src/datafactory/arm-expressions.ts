/**
 * Evaluator for Azure Resource Manager (ARM) template expressions, as used by
 * Data Factory ARM exports (ARMTemplateForFactory.json and linked templates).
 *
 * A template string is an expression when it starts with '[' and ends with ']';
 * '[[' at the start escapes a literal bracket ("[[x]" is the string "[x]").
 * Inside an expression: string literals in single quotes ('' escapes a quote),
 * integers, function calls (names are case-insensitive), and property access
 * with `.name`, `['name']` or `[index]`, chained in any order.
 *
 * Platform-free core code: used by the DataFactoryDeploy task's `direct`
 * method and by the test emulator's ARM deployment engine, so both produce the
 * same values for the same template.
 */
import * as crypto from 'node:crypto';

/** Any JSON value an expression can produce. */
export type ArmValue = unknown;

export interface ArmSubscriptionInfo {
  subscriptionId: string;
  tenantId?: string;
  displayName?: string;
}

export interface ArmResourceGroupInfo {
  name: string;
  location: string;
  /** Defaults to /subscriptions/{sub}/resourceGroups/{name} when a subscription is known. */
  id?: string;
  tags?: Record<string, string>;
  managedBy?: string;
}

/** A function an embedder adds or overrides (e.g. `reference` in an emulator). Receives evaluated arguments. */
export type ArmFunction = (args: ArmValue[], evaluator: ArmEvaluator) => ArmValue;

export interface ArmEvaluationContext {
  /** Resolved parameter values (plain values, not `{value}` wrappers). Names match case-insensitively. */
  parameters?: Record<string, ArmValue>;
  /** Variable definitions as written in the template; evaluated lazily and cached. */
  variables?: Record<string, ArmValue>;
  subscription?: ArmSubscriptionInfo;
  resourceGroup?: ArmResourceGroupInfo;
  /** The value deployment() returns, e.g. {name, properties:{templateLink:{uri}}}. */
  deployment?: Record<string, ArmValue>;
  /** Extra or overriding functions, keyed by lower- or mixed-case name. */
  functions?: Record<string, ArmFunction>;
}

/** A syntax or evaluation error; `expression` is the template string being evaluated. */
export class ArmExpressionError extends Error {
  constructor(
    message: string,
    readonly expression?: string,
    /** The function that failed or is unsupported, when there is one. */
    readonly functionName?: string,
  ) {
    super(message);
    this.name = 'ArmExpressionError';
  }
}

// ---- syntax ---------------------------------------------------------------------------

type Node =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'call'; name: string; args: Node[]; pos: number }
  | { kind: 'member'; target: Node; name: string; pos: number }
  | { kind: 'index'; target: Node; index: Node; pos: number };

type Token =
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; v: number; pos: number }
  | { t: 'ident'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ',' | '.' | '[' | ']'; pos: number }
  | { t: 'end'; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length)
          throw new SyntaxErr(`the string literal starting at position ${start} is not terminated`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += src[i++];
      }
      out.push({ t: 'string', v: value, pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const start = i;
      i++;
      while (i < src.length && /[0-9]/.test(src[i])) i++;
      if (src[i] === '.' && /[0-9]/.test(src[i + 1] ?? '')) {
        throw new SyntaxErr(
          `decimal numbers are not supported in expressions (position ${start}); use json('${src.slice(start, i + 2)}…')`,
        );
      }
      out.push({ t: 'number', v: Number(src.slice(start, i)), pos: start });
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < src.length && /[A-Za-z0-9_$]/.test(src[i])) i++;
      out.push({ t: 'ident', v: src.slice(start, i), pos: start });
      continue;
    }
    if ('(),.[]'.includes(c)) {
      out.push({ t: 'punct', v: c as '(' | ')' | ',' | '.' | '[' | ']', pos: i });
      i++;
      continue;
    }
    throw new SyntaxErr(`the character '${c}' at position ${i} is not expected`);
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

class SyntaxErr extends Error {}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  parseAll(): Node {
    const node = this.expr();
    const t = this.peek();
    if (t.t !== 'end') throw new SyntaxErr(`unexpected ${describe(t)} at position ${t.pos}`);
    return node;
  }

  private peek(): Token {
    return this.toks[this.i];
  }

  private next(): Token {
    return this.toks[this.i++];
  }

  private expectPunct(v: string): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== v)
      throw new SyntaxErr(`expected '${v}' but found ${describe(t)} at position ${t.pos}`);
  }

  private expr(): Node {
    let node = this.primary();
    for (;;) {
      const t = this.peek();
      if (t.t === 'punct' && t.v === '.') {
        this.next();
        const name = this.next();
        if (name.t !== 'ident')
          throw new SyntaxErr(`expected a property name after '.' at position ${t.pos}`);
        node = { kind: 'member', target: node, name: name.v, pos: t.pos };
      } else if (t.t === 'punct' && t.v === '[') {
        this.next();
        const index = this.expr();
        this.expectPunct(']');
        node = { kind: 'index', target: node, index, pos: t.pos };
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const t = this.next();
    if (t.t === 'string') return { kind: 'string', value: t.v, pos: t.pos };
    if (t.t === 'number') return { kind: 'number', value: t.v, pos: t.pos };
    if (t.t === 'ident') {
      let name = t.v;
      // User-defined functions are written namespace.member(...).
      const a = this.toks[this.i];
      const b = this.toks[this.i + 1];
      const c = this.toks[this.i + 2];
      if (a?.t === 'punct' && a.v === '.' && b?.t === 'ident' && c?.t === 'punct' && c.v === '(') {
        name = `${name}.${b.v}`;
        this.i += 2;
      }
      const open = this.peek();
      if (open.t !== 'punct' || open.v !== '(') {
        throw new SyntaxErr(
          `expected '(' after '${name}' at position ${open.pos} (only function calls, strings and integers are allowed)`,
        );
      }
      this.next();
      const args: Node[] = [];
      const close = this.peek();
      if (close.t === 'punct' && close.v === ')') {
        this.next();
      } else {
        for (;;) {
          args.push(this.expr());
          const sep = this.next();
          if (sep.t === 'punct' && sep.v === ')') break;
          if (sep.t !== 'punct' || sep.v !== ',')
            throw new SyntaxErr(`expected ',' or ')' but found ${describe(sep)} at position ${sep.pos}`);
        }
      }
      return { kind: 'call', name, args, pos: t.pos };
    }
    throw new SyntaxErr(`unexpected ${describe(t)} at position ${t.pos}`);
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'end':
      return 'end of expression';
    case 'string':
      return `string '${t.v}'`;
    case 'number':
      return `number ${t.v}`;
    default:
      return `'${t.v}'`;
  }
}

const parseCache = new Map<string, Node>();

/** Parses an expression body (the text between the outer brackets). Throws ArmExpressionError. */
export function parseArmExpression(body: string, original = `[${body}]`): Node {
  const cached = parseCache.get(body);
  if (cached) return cached;
  let node: Node;
  try {
    node = new Parser(tokenize(body)).parseAll();
  } catch (e) {
    if (e instanceof SyntaxErr) {
      throw new ArmExpressionError(
        `Unable to parse template language expression '${body}': ${e.message}.`,
        original,
      );
    }
    throw e;
  }
  if (parseCache.size > 5000) parseCache.clear();
  parseCache.set(body, node);
  return node;
}

/** True when the string is an ARM expression ("[...]" but not the "[[" escape). */
export function isArmExpression(s: string): boolean {
  return s.length >= 2 && s.startsWith('[') && s.endsWith(']') && !s.startsWith('[[');
}

// ---- values ---------------------------------------------------------------------------

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ARM's type names, used in error messages. */
export function armTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'Null';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'Float';
  if (typeof v === 'boolean') return 'Boolean';
  if (Array.isArray(v)) return 'Array';
  return 'Object';
}

/** string() semantics: JSON for objects/arrays, 'True'/'False' for booleans (as .NET prints them). */
export function armToString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** Looks a key up exactly, then case-insensitively (ARM names are case-insensitive). */
function lookup(obj: Record<string, unknown>, key: string): { found: boolean; value?: unknown } {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return { found: true, value: obj[key] };
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return { found: true, value: obj[k] };
  return { found: false };
}

// ---- hashing: uniqueString() and guid() as ARM computes them ---------------------------

function rotl32(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function mul32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

function fmix32(h: number): number {
  h = mul32(h ^ (h >>> 16), 0x85ebca6b);
  h = mul32(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 64-bit MurmurHash variant ARM uses for uniqueString (two interleaved 32-bit lanes). */
function armMurmur64(data: Buffer): bigint {
  const c1 = 0x239b961b;
  const c2 = 0xab0e9789;
  const len = data.length;
  let h1 = 0;
  let h2 = 0;
  let i = 0;
  for (; i + 7 < len; i += 8) {
    let k1 = data.readUInt32LE(i);
    let k2 = data.readUInt32LE(i + 4);
    k1 = mul32(rotl32(mul32(k1, c1), 15), c2);
    h1 = rotl32((h1 ^ k1) >>> 0, 19);
    h1 = (h1 + h2) >>> 0;
    h1 = (mul32(h1, 5) + 0x561ccd1b) >>> 0;
    k2 = mul32(rotl32(mul32(k2, c2), 17), c1);
    h2 = rotl32((h2 ^ k2) >>> 0, 13);
    h2 = (h2 + h1) >>> 0;
    h2 = (mul32(h2, 5) + 0x0bcaa747) >>> 0;
  }
  const rem = len - i;
  if (rem > 0) {
    let k1 = 0;
    for (let j = Math.min(rem, 4) - 1; j >= 0; j--) k1 = ((k1 << 8) | data[i + j]) >>> 0;
    k1 = mul32(rotl32(mul32(k1, c1), 15), c2);
    h1 = (h1 ^ k1) >>> 0;
    if (rem > 4) {
      let k2 = 0;
      for (let j = rem - 5; j >= 0; j--) k2 = ((k2 << 8) | data[i + 4 + j]) >>> 0;
      k2 = mul32(rotl32(mul32(k2, c2), 17), c1);
      h2 = (h2 ^ k2) >>> 0;
    }
  }
  h2 = (h2 ^ len) >>> 0;
  h1 = ((h1 ^ len) + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  return (BigInt(h2 >>> 0) << 32n) | BigInt(h1 >>> 0);
}

/** uniqueString(a, b, …): 13 base-32 characters of ARM's 64-bit hash of the arguments joined by '-'. */
export function armUniqueString(...parts: string[]): string {
  let h = armMurmur64(Buffer.from(parts.join('-'), 'utf8'));
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 13; i++) {
    out += alphabet[Number((h >> 59n) & 31n)];
    h = (h << 5n) & 0xffffffffffffffffn;
  }
  return out;
}

const GUID_NAMESPACE = Buffer.from('11fb06fb712d4ddd98c7e71bbd588830', 'hex');

/** guid(a, b, …): a name-based (v5) UUID of the arguments joined by '-', in ARM's namespace. */
export function armGuid(...parts: string[]): string {
  const hash = crypto
    .createHash('sha1')
    .update(GUID_NAMESPACE)
    .update(Buffer.from(parts.join('-'), 'utf8'))
    .digest()
    .subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- resource ids ---------------------------------------------------------------------

/**
 * Builds a resource id from a fully qualified type ('Microsoft.DataFactory/factories/pipelines')
 * and its names ('f', 'p' or 'f/p'). `scope` is '' (tenant), '/subscriptions/{s}' or
 * '/subscriptions/{s}/resourceGroups/{rg}'.
 */
export function buildResourceId(scope: string, type: string, names: string[], fn = 'resourceId'): string {
  const typeSegs = type.split('/').filter((s) => s.length > 0);
  const nameSegs = names.flatMap((n) => n.split('/')).filter((s) => s.length > 0);
  if (typeSegs.length < 2 || nameSegs.length !== typeSegs.length - 1) {
    throw new FnErr(
      fn,
      `the type '${type}' needs ${Math.max(typeSegs.length - 1, 1)} name segment(s) but ${nameSegs.length} were given ('${names.join("', '")}')`,
    );
  }
  let id = `${scope}/providers/${typeSegs[0]}`;
  for (let i = 1; i < typeSegs.length; i++) id += `/${typeSegs[i]}/${nameSegs[i - 1]}`;
  return id;
}

// ---- evaluation -----------------------------------------------------------------------

/** Thrown by function implementations; wrapped with the function name and expression. */
class FnErr extends Error {
  constructor(
    readonly fn: string,
    message: string,
  ) {
    super(message);
  }
}

/** Functions ARM supports that need live deployment state this evaluator does not have. */
const KNOWN_UNSUPPORTED = new Set(
  [
    'reference',
    'list',
    'listKeys',
    'listSecrets',
    'listAccountSas',
    'listServiceSas',
    'copyIndex',
    'utcNow',
    'newGuid',
    'environment',
    'managementGroup',
    'managementGroupResourceId',
    'providers',
    'pickZones',
    'tenant',
    'dateTimeAdd',
    'dateTimeFromEpoch',
    'dateTimeToEpoch',
    'items',
    'filter',
    'map',
    'reduce',
    'sort',
    'toObject',
    'lambda',
    'lambdaVariables',
    'objectKeys',
    'shallowMerge',
    'flatten',
    'tryGet',
    'parseCidr',
    'cidrSubnet',
    'cidrHost',
    'dataUri',
    'dataUriToString',
    'indexFromEnd',
    'loadFileAsBase64',
  ].map((n) => n.toLowerCase()),
);

type Builtin = (args: ArmValue[], ev: ArmEvaluator) => ArmValue;

function arity(fn: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new FnErr(fn, `expects ${want} argument(s) but got ${args.length}`);
  }
}

function str(fn: string, v: unknown, what = 'argument'): string {
  if (typeof v !== 'string') throw new FnErr(fn, `the ${what} must be a String but was ${armTypeName(v)}`);
  return v;
}

function int(fn: string, v: unknown, what = 'argument'): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new FnErr(fn, `the ${what} must be an Integer but was ${armTypeName(v)}`);
  return v;
}

function bool(fn: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new FnErr(fn, `the argument must be a Boolean but was ${armTypeName(v)}`);
  return v;
}

function arr(fn: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new FnErr(fn, `the argument must be an Array but was ${armTypeName(v)}`);
  return v;
}

function strOrArr(fn: string, v: unknown): string | unknown[] {
  if (typeof v !== 'string' && !Array.isArray(v))
    throw new FnErr(fn, `the argument must be a String or an Array but was ${armTypeName(v)}`);
  return v;
}

function textArgs(fn: string, args: unknown[]): string[] {
  return args.map((a) => {
    if (typeof a === 'string') return a;
    if (typeof a === 'number' || typeof a === 'boolean') return armToString(a);
    throw new FnErr(fn, `arguments must be strings but one was ${armTypeName(a)}`);
  });
}

function mergeUnion(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out = [...a];
    for (const x of b) if (!out.some((y) => deepEqual(x, y))) out.push(x);
    return out;
  }
  if (isObject(a) && isObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeUnion(out[k], v) : v;
    return out;
  }
  return b;
}

/** .NET composite formatting as format() implements it: {index[,alignment][:format]}, {{ and }}. */
function composite(fmt: string, args: unknown[]): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c === '{') {
      if (fmt[i + 1] === '{') {
        out += '{';
        i++;
        continue;
      }
      const end = fmt.indexOf('}', i);
      if (end < 0) throw new FnErr('format', `the format string has an unclosed '{' at position ${i}`);
      const m = /^\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::(.*))?$/.exec(fmt.slice(i + 1, end));
      if (!m) throw new FnErr('format', `'{${fmt.slice(i + 1, end)}}' is not a valid format item`);
      const idx = Number(m[1]);
      if (idx >= args.length)
        throw new FnErr(
          'format',
          `the format item {${idx}} refers to a missing argument (${args.length} given)`,
        );
      let text = formatOne(args[idx], m[3]);
      if (m[2]) {
        const width = Number(m[2]);
        text = width < 0 ? text.padEnd(-width) : text.padStart(width);
      }
      out += text;
      i = end;
    } else if (c === '}') {
      if (fmt[i + 1] === '}') i++;
      out += '}';
    } else {
      out += c;
    }
  }
  return out;
}

function formatOne(v: unknown, spec: string | undefined): string {
  if (!spec || typeof v !== 'number') return armToString(v);
  const m = /^([DdXxNnFf])(\d*)$/.exec(spec);
  if (m) {
    const p = m[2] === '' ? undefined : Number(m[2]);
    switch (m[1]) {
      case 'D':
      case 'd': {
        const s = Math.abs(Math.trunc(v))
          .toString()
          .padStart(p ?? 0, '0');
        return v < 0 ? `-${s}` : s;
      }
      case 'X':
      case 'x': {
        const s = (v >>> 0).toString(16).padStart(p ?? 0, '0');
        return m[1] === 'X' ? s.toUpperCase() : s;
      }
      case 'N':
      case 'n':
        return v.toLocaleString('en-US', { minimumFractionDigits: p ?? 2, maximumFractionDigits: p ?? 2 });
      default:
        return v.toFixed(p ?? 2);
    }
  }
  if (/^0+$/.test(spec)) return String(Math.trunc(v)).padStart(spec.length, '0');
  return armToString(v);
}

function compare(fn: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new FnErr(
    fn,
    `both arguments must be Integers or both Strings, got ${armTypeName(a)} and ${armTypeName(b)}`,
  );
}

const BUILTINS: Record<string, Builtin> = {
  parameters: (args, ev) => {
    arity('parameters', args, 1);
    return ev.parameter(str('parameters', args[0]));
  },
  variables: (args, ev) => {
    arity('variables', args, 1);
    return ev.variable(str('variables', args[0]));
  },
  concat: (args) => {
    arity('concat', args, 1, Infinity);
    if (args.every((a) => Array.isArray(a) || a === null))
      return args.flatMap((a) => (a === null ? [] : (a as unknown[])));
    if (args.some((a) => Array.isArray(a)))
      throw new FnErr('concat', 'the arguments must be all arrays or all strings');
    return args
      .map((a) => {
        if (isObject(a))
          throw new FnErr('concat', 'objects cannot be concatenated; use union() to merge objects');
        return armToString(a);
      })
      .join('');
  },
  format: (args) => {
    arity('format', args, 1, Infinity);
    return composite(str('format', args[0], 'format string'), args.slice(1));
  },
  replace: (args) => {
    arity('replace', args, 3);
    const s = str('replace', args[0], 'first argument');
    const from = str('replace', args[1], 'second argument');
    const to = str('replace', args[2], 'third argument');
    return from === '' ? s : s.split(from).join(to);
  },
  tolower: (args) => {
    arity('toLower', args, 1);
    return str('toLower', args[0]).toLowerCase();
  },
  toupper: (args) => {
    arity('toUpper', args, 1);
    return str('toUpper', args[0]).toUpperCase();
  },
  string: (args) => {
    arity('string', args, 1);
    return armToString(args[0]);
  },
  int: (args) => {
    arity('int', args, 1);
    const v = args[0];
    if (typeof v === 'number') return Math.trunc(v);
    if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v.trim());
    throw new FnErr('int', `the value '${armToString(v)}' cannot be converted to an Integer`);
  },
  bool: (args) => {
    arity('bool', args, 1);
    const v = args[0];
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
    throw new FnErr('bool', `the value '${armToString(v)}' cannot be converted to a Boolean`);
  },
  json: (args) => {
    arity('json', args, 1);
    const s = str('json', args[0]);
    try {
      return JSON.parse(s) as unknown;
    } catch {
      throw new FnErr(
        'json',
        `the argument is not valid JSON: '${s.length > 80 ? s.slice(0, 80) + '…' : s}'`,
      );
    }
  },
  equals: (args) => {
    arity('equals', args, 2);
    return deepEqual(args[0], args[1]);
  },
  empty: (args) => {
    arity('empty', args, 1);
    const v = args[0];
    if (v === null || v === undefined) return true;
    if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
    if (isObject(v)) return Object.keys(v).length === 0;
    return false;
  },
  length: (args) => {
    arity('length', args, 1);
    const v = args[0];
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new FnErr('length', `the argument must be a String, Array or Object but was ${armTypeName(v)}`);
  },
  union: (args) => {
    arity('union', args, 1, Infinity);
    if (args.every(Array.isArray)) return args.reduce<unknown>((acc, a) => mergeUnion(acc, a), []);
    if (args.every(isObject)) return args.reduce<unknown>((acc, a) => mergeUnion(acc, a), {});
    throw new FnErr('union', 'the arguments must be all arrays or all objects');
  },
  intersection: (args) => {
    arity('intersection', args, 2, Infinity);
    if (args.every(Array.isArray)) {
      const [first, ...rest] = args as unknown[][];
      return first.filter(
        (x, i) =>
          first.findIndex((y) => deepEqual(x, y)) === i && rest.every((r) => r.some((y) => deepEqual(x, y))),
      );
    }
    if (args.every(isObject)) {
      const [first, ...rest] = args as Record<string, unknown>[];
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(first))
        if (rest.every((r) => k in r && deepEqual(r[k], v))) out[k] = v;
      return out;
    }
    throw new FnErr('intersection', 'the arguments must be all arrays or all objects');
  },
  createarray: (args) => [...args],
  array: (args) => {
    arity('array', args, 1);
    return Array.isArray(args[0]) ? args[0] : [args[0]];
  },
  createobject: (args) => {
    if (args.length % 2 !== 0)
      throw new FnErr(
        'createObject',
        `expects an even number of arguments (key, value pairs) but got ${args.length}`,
      );
    const out: Record<string, unknown> = {};
    for (let i = 0; i < args.length; i += 2)
      out[str('createObject', args[i], `key at position ${i}`)] = args[i + 1];
    return out;
  },
  coalesce: (args) => {
    arity('coalesce', args, 1, Infinity);
    return args.find((a) => a !== null && a !== undefined) ?? null;
  },
  uniquestring: (args) => {
    arity('uniqueString', args, 1, Infinity);
    return armUniqueString(...textArgs('uniqueString', args));
  },
  guid: (args) => {
    arity('guid', args, 1, Infinity);
    return armGuid(...textArgs('guid', args));
  },
  base64: (args) => {
    arity('base64', args, 1);
    return Buffer.from(str('base64', args[0]), 'utf8').toString('base64');
  },
  base64tostring: (args) => {
    arity('base64ToString', args, 1);
    return Buffer.from(str('base64ToString', args[0]), 'base64').toString('utf8');
  },
  base64tojson: (args) => {
    arity('base64ToJson', args, 1);
    const text = Buffer.from(str('base64ToJson', args[0]), 'base64').toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new FnErr('base64ToJson', 'the decoded value is not valid JSON');
    }
  },
  uri: (args) => {
    arity('uri', args, 2);
    return new URL(str('uri', args[1]), str('uri', args[0])).toString();
  },
  uricomponent: (args) => {
    arity('uriComponent', args, 1);
    return encodeURIComponent(str('uriComponent', args[0]));
  },
  uricomponenttostring: (args) => {
    arity('uriComponentToString', args, 1);
    return decodeURIComponent(str('uriComponentToString', args[0]));
  },
  if: () => {
    // Handled lazily in ArmEvaluator.call; present so the name is known.
    throw new FnErr('if', 'internal error');
  },
  true: (args) => (arity('true', args, 0), true),
  false: (args) => (arity('false', args, 0), false),
  null: (args) => (arity('null', args, 0), null),
  not: (args) => (arity('not', args, 1), !bool('not', args[0])),
  and: (args) => (arity('and', args, 2, Infinity), args.every((a) => bool('and', a))),
  or: (args) => (arity('or', args, 2, Infinity), args.some((a) => bool('or', a))),
  add: (args) => (arity('add', args, 2), int('add', args[0]) + int('add', args[1])),
  sub: (args) => (arity('sub', args, 2), int('sub', args[0]) - int('sub', args[1])),
  mul: (args) => (arity('mul', args, 2), int('mul', args[0]) * int('mul', args[1])),
  div: (args) => {
    arity('div', args, 2);
    const d = int('div', args[1]);
    if (d === 0) throw new FnErr('div', 'division by zero');
    return Math.trunc(int('div', args[0]) / d);
  },
  mod: (args) => {
    arity('mod', args, 2);
    const d = int('mod', args[1]);
    if (d === 0) throw new FnErr('mod', 'division by zero');
    return int('mod', args[0]) % d;
  },
  less: (args) => (arity('less', args, 2), compare('less', args[0], args[1]) < 0),
  lessorequals: (args) => (arity('lessOrEquals', args, 2), compare('lessOrEquals', args[0], args[1]) <= 0),
  greater: (args) => (arity('greater', args, 2), compare('greater', args[0], args[1]) > 0),
  greaterorequals: (args) => (
    arity('greaterOrEquals', args, 2),
    compare('greaterOrEquals', args[0], args[1]) >= 0
  ),
  min: (args) => {
    arity('min', args, 1, Infinity);
    const xs = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    return Math.min(...xs.map((x) => int('min', x)));
  },
  max: (args) => {
    arity('max', args, 1, Infinity);
    const xs = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    return Math.max(...xs.map((x) => int('max', x)));
  },
  range: (args) => {
    arity('range', args, 2);
    const start = int('range', args[0]);
    const count = int('range', args[1]);
    if (count < 0 || count > 10000) throw new FnErr('range', 'the count must be between 0 and 10000');
    return Array.from({ length: count }, (_, i) => start + i);
  },
  contains: (args) => {
    arity('contains', args, 2);
    const [c, x] = args;
    if (typeof c === 'string') return c.includes(armToString(x));
    if (Array.isArray(c)) return c.some((y) => deepEqual(y, x));
    if (isObject(c)) return lookup(c, str('contains', x, 'key')).found;
    throw new FnErr('contains', `the container must be a String, Array or Object but was ${armTypeName(c)}`);
  },
  first: (args) => {
    arity('first', args, 1);
    const v = strOrArr('first', args[0]);
    return typeof v === 'string' ? v.slice(0, 1) : (v[0] ?? null);
  },
  last: (args) => {
    arity('last', args, 1);
    const v = strOrArr('last', args[0]);
    return typeof v === 'string' ? v.slice(-1) : (v[v.length - 1] ?? null);
  },
  split: (args) => {
    arity('split', args, 2);
    const s = str('split', args[0]);
    const seps = Array.isArray(args[1])
      ? args[1].map((x) => str('split', x, 'delimiter'))
      : [str('split', args[1], 'delimiter')];
    let parts = [s];
    for (const sep of seps) parts = parts.flatMap((p) => (sep === '' ? [p] : p.split(sep)));
    return parts;
  },
  join: (args) => {
    arity('join', args, 2);
    return arr('join', args[0])
      .map((x) => armToString(x))
      .join(str('join', args[1], 'delimiter'));
  },
  substring: (args) => {
    arity('substring', args, 2, 3);
    const s = str('substring', args[0]);
    const start = int('substring', args[1], 'start index');
    const len = args.length > 2 ? int('substring', args[2], 'length') : s.length - start;
    if (start < 0 || start > s.length || len < 0 || start + len > s.length) {
      throw new FnErr('substring', `the index and length must refer to a location within the string '${s}'`);
    }
    return s.slice(start, start + len);
  },
  indexof: (args) => {
    arity('indexOf', args, 2);
    const c = strOrArr('indexOf', args[0]);
    return typeof c === 'string'
      ? c.toLowerCase().indexOf(armToString(args[1]).toLowerCase())
      : c.findIndex((y) => deepEqual(y, args[1]));
  },
  lastindexof: (args) => {
    arity('lastIndexOf', args, 2);
    const c = strOrArr('lastIndexOf', args[0]);
    if (typeof c === 'string') return c.toLowerCase().lastIndexOf(armToString(args[1]).toLowerCase());
    for (let i = c.length - 1; i >= 0; i--) if (deepEqual(c[i], args[1])) return i;
    return -1;
  },
  startswith: (args) => {
    arity('startsWith', args, 2);
    return str('startsWith', args[0]).toLowerCase().startsWith(str('startsWith', args[1]).toLowerCase());
  },
  endswith: (args) => {
    arity('endsWith', args, 2);
    return str('endsWith', args[0]).toLowerCase().endsWith(str('endsWith', args[1]).toLowerCase());
  },
  trim: (args) => (arity('trim', args, 1), str('trim', args[0]).trim()),
  padleft: (args) => {
    arity('padLeft', args, 2, 3);
    const pad = args.length > 2 ? str('padLeft', args[2], 'padding character') : ' ';
    if (pad.length !== 1) throw new FnErr('padLeft', 'the padding must be a single character');
    return armToString(args[0]).padStart(int('padLeft', args[1], 'total length'), pad);
  },
  take: (args) => {
    arity('take', args, 2);
    const v = strOrArr('take', args[0]);
    return v.slice(0, Math.max(0, int('take', args[1], 'count')));
  },
  skip: (args) => {
    arity('skip', args, 2);
    const v = strOrArr('skip', args[0]);
    return v.slice(Math.max(0, int('skip', args[1], 'count')));
  },
  resourceid: (args, ev) => {
    arity('resourceId', args, 2, Infinity);
    const a = textArgs('resourceId', args);
    // The first argument containing a provider namespace is the type; what precedes it is sub and/or rg.
    const typeAt = a.findIndex((x) => x.includes('/'));
    if (typeAt < 0 || typeAt > 2) {
      throw new FnErr(
        'resourceId',
        `no fully qualified resource type (namespace/type) found in the arguments '${a.join("', '")}'`,
      );
    }
    const sub = typeAt === 2 ? a[0] : ev.subscriptionInfo('resourceId').subscriptionId;
    const rg = typeAt >= 1 ? a[typeAt - 1] : ev.resourceGroupInfo('resourceId').name;
    return buildResourceId(`/subscriptions/${sub}/resourceGroups/${rg}`, a[typeAt], a.slice(typeAt + 1));
  },
  subscriptionresourceid: (args, ev) => {
    arity('subscriptionResourceId', args, 2, Infinity);
    const a = textArgs('subscriptionResourceId', args);
    const typeAt = a[0].includes('/') ? 0 : 1;
    const sub = typeAt === 1 ? a[0] : ev.subscriptionInfo('subscriptionResourceId').subscriptionId;
    return buildResourceId(`/subscriptions/${sub}`, a[typeAt], a.slice(typeAt + 1), 'subscriptionResourceId');
  },
  tenantresourceid: (args) => {
    arity('tenantResourceId', args, 2, Infinity);
    const a = textArgs('tenantResourceId', args);
    return buildResourceId('', a[0], a.slice(1), 'tenantResourceId');
  },
  extensionresourceid: (args) => {
    arity('extensionResourceId', args, 3, Infinity);
    const a = textArgs('extensionResourceId', args);
    return buildResourceId(a[0].replace(/\/+$/, ''), a[1], a.slice(2), 'extensionResourceId');
  },
  subscription: (args, ev) => {
    arity('subscription', args, 0);
    const s = ev.subscriptionInfo('subscription');
    return {
      id: `/subscriptions/${s.subscriptionId}`,
      subscriptionId: s.subscriptionId,
      tenantId: s.tenantId ?? null,
      displayName: s.displayName ?? s.subscriptionId,
    };
  },
  resourcegroup: (args, ev) => {
    arity('resourceGroup', args, 0);
    const rg = ev.resourceGroupInfo('resourceGroup');
    const sub = ev.context.subscription?.subscriptionId;
    const id =
      rg.id ?? (sub ? `/subscriptions/${sub}/resourceGroups/${rg.name}` : `/resourceGroups/${rg.name}`);
    const out: Record<string, unknown> = {
      id,
      name: rg.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: rg.location,
      tags: rg.tags ?? {},
      properties: { provisioningState: 'Succeeded' },
    };
    if (rg.managedBy) out.managedBy = rg.managedBy;
    return out;
  },
  deployment: (args, ev) => {
    arity('deployment', args, 0);
    const d = ev.context.deployment;
    if (!d) throw new FnErr('deployment', 'no deployment information is available in this context');
    return d;
  },
};

/**
 * Evaluates expressions against one context. Reuse one instance per template so
 * variables are evaluated once.
 */
export class ArmEvaluator {
  private readonly varCache = new Map<string, unknown>();
  private readonly varInProgress = new Set<string>();
  private readonly extra = new Map<string, ArmFunction>();

  constructor(readonly context: ArmEvaluationContext = {}) {
    for (const [k, f] of Object.entries(context.functions ?? {})) this.extra.set(k.toLowerCase(), f);
  }

  /** Evaluates every expression string inside a JSON value; returns a new value (input untouched). */
  evaluateValue(value: unknown): unknown {
    if (typeof value === 'string') return this.evaluateString(value);
    if (Array.isArray(value)) return value.map((v) => this.evaluateValue(v));
    if (isObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.evaluateValue(v);
      return out;
    }
    return value;
  }

  /** An expression string → its value; "[[…]" → the literal "[…]"; any other string unchanged. */
  evaluateString(s: string): unknown {
    if (!(s.startsWith('[') && s.endsWith(']') && s.length >= 2)) return s;
    if (s.startsWith('[[')) return s.slice(1);
    const body = s.slice(1, -1);
    const node = parseArmExpression(body, s);
    try {
      return this.eval(node);
    } catch (e) {
      if (e instanceof FnErr) {
        throw new ArmExpressionError(
          `Unable to evaluate template language function '${e.fn}': ${e.message}. Expression: '${s}'.`,
          s,
          e.fn,
        );
      }
      if (e instanceof ArmExpressionError && e.expression === undefined) {
        throw new ArmExpressionError(`${e.message} Expression: '${s}'.`, s, e.functionName);
      }
      throw e;
    }
  }

  /** Evaluates an expression body without the outer brackets, e.g. "parameters('x')". */
  evaluateExpression(body: string): unknown {
    return this.evaluateString(`[${body}]`);
  }

  parameter(name: string): unknown {
    const found = lookup(this.context.parameters ?? {}, name);
    if (!found.found) {
      throw new ArmExpressionError(
        `The template parameter '${name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.`,
        undefined,
        'parameters',
      );
    }
    return found.value;
  }

  variable(name: string): unknown {
    const vars = this.context.variables ?? {};
    const key = Object.prototype.hasOwnProperty.call(vars, name)
      ? name
      : Object.keys(vars).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key === undefined) {
      throw new ArmExpressionError(
        `The template variable '${name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.`,
        undefined,
        'variables',
      );
    }
    if (this.varCache.has(key)) return this.varCache.get(key);
    if (this.varInProgress.has(key)) {
      throw new ArmExpressionError(
        `The template variable '${key}' refers to itself (circular reference).`,
        undefined,
        'variables',
      );
    }
    if (key === 'copy')
      throw new ArmExpressionError(`Variable copy loops are not supported.`, undefined, 'copy');
    this.varInProgress.add(key);
    try {
      // Errors inside a variable are reported against the variable's own expression.
      const value = this.evaluateValue(vars[key]);
      this.varCache.set(key, value);
      return value;
    } finally {
      this.varInProgress.delete(key);
    }
  }

  subscriptionInfo(fn: string): ArmSubscriptionInfo {
    if (!this.context.subscription) throw new FnErr(fn, 'no subscription is available in this context');
    return this.context.subscription;
  }

  resourceGroupInfo(fn: string): ArmResourceGroupInfo {
    if (!this.context.resourceGroup) throw new FnErr(fn, 'no resource group is available in this context');
    return this.context.resourceGroup;
  }

  private eval(node: Node): unknown {
    switch (node.kind) {
      case 'string':
      case 'number':
        return node.value;
      case 'member':
        return this.member(this.eval(node.target), node.name);
      case 'index': {
        const target = this.eval(node.target);
        const index = this.eval(node.index);
        if (typeof index === 'number') {
          if (!Array.isArray(target)) {
            throw new ArmExpressionError(
              `The language expression property array index '${index}' cannot be applied to a value of type ${armTypeName(target)}.`,
            );
          }
          if (index < 0 || index >= target.length) {
            throw new ArmExpressionError(
              `The language expression property array index '${index}' is out of bounds.`,
            );
          }
          return target[index];
        }
        if (typeof index === 'string') return this.member(target, index);
        throw new ArmExpressionError(
          `The language expression index must be an Integer or a String but was ${armTypeName(index)}.`,
        );
      }
      case 'call':
        return this.call(node.name, node.args);
    }
  }

  private member(target: unknown, name: string): unknown {
    if (!isObject(target)) {
      throw new ArmExpressionError(
        `The language expression property '${name}' can't be evaluated on a value of type ${armTypeName(target)}.`,
      );
    }
    const found = lookup(target, name);
    if (!found.found) {
      throw new ArmExpressionError(
        `The language expression property '${name}' doesn't exist, available properties are '${Object.keys(target).join(', ')}'.`,
      );
    }
    return found.value;
  }

  private call(name: string, argNodes: Node[]): unknown {
    const key = name.toLowerCase();
    const custom = this.extra.get(key);
    if (custom) {
      try {
        return custom(
          argNodes.map((a) => this.eval(a)),
          this,
        );
      } catch (e) {
        if (e instanceof ArmExpressionError || e instanceof FnErr) throw e;
        throw new FnErr(name, e instanceof Error ? e.message : String(e));
      }
    }
    if (key === 'if') {
      arity('if', argNodes, 3);
      const cond = this.eval(argNodes[0]);
      if (typeof cond !== 'boolean')
        throw new FnErr('if', `the condition must be a Boolean but was ${armTypeName(cond)}`);
      return this.eval(argNodes[cond ? 1 : 2]);
    }
    const builtin = BUILTINS[key];
    if (builtin)
      return builtin(
        argNodes.map((a) => this.eval(a)),
        this,
      );
    if (KNOWN_UNSUPPORTED.has(key) || key.startsWith('list')) {
      throw new ArmExpressionError(
        `The template function '${name}' is not supported by this evaluator: it needs live Azure state or features a Data Factory export does not use. Deploy this template with the 'arm' method.`,
        undefined,
        name,
      );
    }
    throw new ArmExpressionError(
      `The template function '${name}' is not valid. Please see https://aka.ms/arm-functions for usage details.`,
      undefined,
      name,
    );
  }
}

/** Evaluates one template string (see ArmEvaluator.evaluateString). */
export function evaluateArmString(s: string, ctx: ArmEvaluationContext | ArmEvaluator = {}): unknown {
  return (ctx instanceof ArmEvaluator ? ctx : new ArmEvaluator(ctx)).evaluateString(s);
}

/**
 * Walks objects and arrays and evaluates every string that is an expression.
 * Object keys are not evaluated (ARM does not evaluate them either).
 */
export function evaluateTemplateValue(
  value: unknown,
  ctx: ArmEvaluationContext | ArmEvaluator = {},
): unknown {
  return (ctx instanceof ArmEvaluator ? ctx : new ArmEvaluator(ctx)).evaluateValue(value);
}

// ---- template parameters --------------------------------------------------------------

export interface TemplateParameterDefinition {
  type: string;
  defaultValue?: unknown;
  allowedValues?: unknown[];
  minValue?: number;
  maxValue?: number;
  minLength?: number;
  maxLength?: number;
  metadata?: unknown;
}

export interface ParameterResolution {
  /** Final values by the template's parameter names. */
  values: Record<string, unknown>;
  /** Required parameters with no value and no default. */
  missing: string[];
  /** Supplied names the template does not declare. */
  unknown: string[];
  /** Values of the wrong type or outside allowedValues/min/max. */
  invalid: { name: string; message: string }[];
  /** Names whose type is secureString or secureObject (mask them in logs). */
  secure: string[];
}

const TYPE_CHECKS: Record<string, { label: string; ok: (v: unknown) => boolean }> = {
  string: { label: 'String', ok: (v) => typeof v === 'string' },
  securestring: { label: 'String', ok: (v) => typeof v === 'string' },
  int: { label: 'Integer', ok: (v) => typeof v === 'number' && Number.isInteger(v) },
  bool: { label: 'Boolean', ok: (v) => typeof v === 'boolean' },
  object: { label: 'Object', ok: isObject },
  secureobject: { label: 'Object', ok: isObject },
  array: { label: 'Array', ok: Array.isArray },
};

/**
 * Combines supplied parameter values with the template's declarations: applies
 * defaultValue (which may use expressions, including other parameters), and
 * reports missing, unknown and invalid parameters. Names match case-insensitively.
 */
export function resolveTemplateParameters(
  definitions: Record<string, TemplateParameterDefinition> | undefined,
  supplied: Record<string, unknown>,
  ctx: Omit<ArmEvaluationContext, 'parameters' | 'variables'> = {},
): ParameterResolution {
  const defs = definitions ?? {};
  const defNames = Object.keys(defs);
  const res: ParameterResolution = { values: {}, missing: [], unknown: [], invalid: [], secure: [] };
  const byLower = new Map(defNames.map((n) => [n.toLowerCase(), n]));
  for (const [k, v] of Object.entries(supplied)) {
    const name = byLower.get(k.toLowerCase());
    if (name === undefined) res.unknown.push(k);
    else res.values[name] = v;
  }
  // Defaults may refer to other parameters: evaluate lazily, each at most once.
  const pending = new Set(defNames.filter((n) => !(n in res.values)));
  const resolving = new Set<string>();
  const evaluator: ArmEvaluator = new ArmEvaluator({
    ...ctx,
    parameters: res.values,
    functions: {
      ...ctx.functions,
      parameters: (args): unknown => {
        const want = str('parameters', args[0]);
        const name = byLower.get(want.toLowerCase());
        if (name !== undefined && pending.has(name)) resolveDefault(name);
        return evaluator.parameter(want);
      },
    },
  });
  const resolveDefault = (name: string): void => {
    if (!pending.has(name)) return;
    if (resolving.has(name))
      throw new ArmExpressionError(`The default value of parameter '${name}' refers to itself.`);
    const def = defs[name];
    if (!def || !('defaultValue' in def)) {
      pending.delete(name);
      return;
    }
    resolving.add(name);
    try {
      res.values[name] = evaluator.evaluateValue(def.defaultValue);
    } finally {
      resolving.delete(name);
      pending.delete(name);
    }
  };
  for (const name of defNames) {
    try {
      if (pending.has(name)) resolveDefault(name);
    } catch (e) {
      res.invalid.push({ name, message: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const def = defs[name] ?? { type: 'string' };
    const type = String(def.type ?? '').toLowerCase();
    if (type === 'securestring' || type === 'secureobject') res.secure.push(name);
    if (!(name in res.values)) {
      res.missing.push(name);
      continue;
    }
    const v = res.values[name];
    const check = TYPE_CHECKS[type];
    if (!check) {
      res.invalid.push({
        name,
        message: `The parameter type '${def.type}' is not valid. Use string, securestring, int, bool, object, secureObject or array.`,
      });
      continue;
    }
    if (!check.ok(v)) {
      res.invalid.push({
        name,
        message: `Template parameter JToken type is not valid. Expected '${check.label}'. Actual '${armTypeName(v)}'.`,
      });
      continue;
    }
    if (def.allowedValues && !def.allowedValues.some((a) => deepEqual(a, v))) {
      res.invalid.push({
        name,
        message: `The provided value '${armToString(v)}' for the template parameter '${name}' is not valid. The parameter value is not part of the allowed value(s): '${def.allowedValues.map(armToString).join(',')}'.`,
      });
      continue;
    }
    if (typeof v === 'number') {
      if (def.minValue !== undefined && v < def.minValue)
        res.invalid.push({ name, message: `The value ${v} is less than the minimum value ${def.minValue}.` });
      if (def.maxValue !== undefined && v > def.maxValue)
        res.invalid.push({
          name,
          message: `The value ${v} is greater than the maximum value ${def.maxValue}.`,
        });
    }
    if (typeof v === 'string' || Array.isArray(v)) {
      if (def.minLength !== undefined && v.length < def.minLength) {
        res.invalid.push({
          name,
          message: `The length ${v.length} is less than the minimum length ${def.minLength}.`,
        });
      }
      if (def.maxLength !== undefined && v.length > def.maxLength) {
        res.invalid.push({
          name,
          message: `The length ${v.length} is greater than the maximum length ${def.maxLength}.`,
        });
      }
    }
  }
  return res;
}
