/**
 * A small model of how Azure DevOps runs an HttpRequest server task (agentless
 * task or release gate), for testing task.json definitions: `$(input)` and
 * `$(endpoint.url)` / `$(endpoint.<data key>)` macro substitution, then the
 * Handlebars-like helpers used in EndpointUrl ({{#if}}, {{#equals}}, {{name}}),
 * and the task-condition expression language subset
 * gates use (eq, ne, and, or, not, xor, in, notIn, gt, ge, lt, le, count,
 * isNullOrEmpty, contains, startsWith, endsWith, jsonpath('…') returning arrays,
 * root['x'], indexing).
 *
 * Semantics follow Microsoft's expression docs: string comparison ignores case;
 * for comparisons the right operand is converted to the left one's type (a failed
 * conversion makes eq false and ordering comparisons an error); and/or short-circuit;
 * an index out of range gives null; unresolved $(macros) are left as written.
 */

// ---- macros and templates ---------------------------------------------------------------

/** Replaces $(name) with vars[name] (names case-insensitive); unknown macros stay. */
export function substituteMacros(text: string, vars: Record<string, string | undefined>): string {
  const lower = new Map(Object.entries(vars).map(([k, v]) => [k.toLowerCase(), v]));
  return text.replace(/\$\(([^()]+)\)/g, (whole, name: string) => {
    const v = lower.get(name.trim().toLowerCase());
    return v === undefined ? whole : v;
  });
}

/**
 * Renders the mustache subset server tasks use in EndpointUrl: {{#if name}}…{{/if}},
 * {{#equals 'a' 'b' [ignoreCase]}}…{{/equals}}, {{name}} and {{{name}}}.
 */
export function renderTemplate(template: string, context: Record<string, string | undefined>): string {
  const lookup = (name: string) => {
    const key = Object.keys(context).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : context[key];
  };
  let pos = 0;
  const renderUntil = (closing?: string): string => {
    let out = '';
    while (pos < template.length) {
      const open = template.indexOf('{{', pos);
      if (open < 0) {
        out += template.slice(pos);
        pos = template.length;
        break;
      }
      out += template.slice(pos, open);
      const triple = template.startsWith('{{{', open);
      const close = template.indexOf(triple ? '}}}' : '}}', open);
      if (close < 0) throw new Error(`unclosed {{ at ${open} in template`);
      const tag = template.slice(open + (triple ? 3 : 2), close).trim();
      pos = close + (triple ? 3 : 2);
      if (tag.startsWith('/')) {
        if (tag.slice(1) !== closing) throw new Error(`unexpected {{${tag}}} in template`);
        return out;
      }
      if (tag.startsWith('#')) {
        const [helper, ...args] = splitArgs(tag.slice(1));
        const body = renderUntil(helper);
        let show: boolean;
        if (helper === 'if') {
          const v = args[0] === undefined ? undefined : resolveArg(args[0], lookup);
          show = v !== undefined && v !== '' && v.toLowerCase() !== 'false';
        } else if (helper === 'equals') {
          const a = resolveArg(args[0], lookup) ?? '';
          const b = resolveArg(args[1], lookup) ?? '';
          const ignoreCase = args[2] !== undefined && args[2] !== '0' && args[2].toLowerCase() !== 'false';
          show = ignoreCase ? a.toLowerCase() === b.toLowerCase() : a === b;
        } else {
          throw new Error(`unsupported template helper #${helper}`);
        }
        if (show) out += body;
        continue;
      }
      out += lookup(tag) ?? '';
    }
    if (closing) throw new Error(`missing {{/${closing}}} in template`);
    return out;
  };
  return renderUntil();
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? `'${m[1]}` : m[2] !== undefined ? `'${m[2]}` : m[3]);
  return out;
}

/** A quoted argument (marked with a leading ') is a literal; a bare one names a context value. */
function resolveArg(arg: string, lookup: (n: string) => string | undefined): string | undefined {
  return arg.startsWith("'") ? arg.slice(1) : lookup(arg);
}

// ---- expressions -------------------------------------------------------------------------

export type Value = null | boolean | number | string | Value[] | { [k: string]: Value };

type Node =
  | { t: 'lit'; v: Value }
  | { t: 'ident'; name: string }
  | { t: 'call'; name: string; args: Node[] }
  | { t: 'index'; target: Node; index: Node };

export class ExpressionError extends Error {}

export function parseExpression(src: string): Node {
  let pos = 0;
  const ws = () => {
    while (pos < src.length && /\s/.test(src[pos])) pos++;
  };
  const fail = (msg: string): never => {
    throw new ExpressionError(`${msg} at position ${pos} in: ${src}`);
  };
  const primary = (): Node => {
    ws();
    const c = src[pos];
    if (c === "'") {
      let s = '';
      pos++;
      for (;;) {
        if (pos >= src.length) fail('unclosed string');
        if (src[pos] === "'") {
          if (src[pos + 1] === "'") {
            s += "'";
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        s += src[pos++];
      }
      return { t: 'lit', v: s };
    }
    const num = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(pos));
    if (num) {
      pos += num[0].length;
      return { t: 'lit', v: Number(num[0]) };
    }
    const id = /^[A-Za-z_][\w.]*/.exec(src.slice(pos));
    if (!id) return fail('expected a value');
    pos += id[0].length;
    const name = id[0];
    ws();
    if (src[pos] === '(') {
      pos++;
      const args: Node[] = [];
      ws();
      if (src[pos] === ')') pos++;
      else {
        for (;;) {
          args.push(postfix());
          ws();
          if (src[pos] === ',') {
            pos++;
            continue;
          }
          if (src[pos] === ')') {
            pos++;
            break;
          }
          fail('expected , or )');
        }
      }
      return { t: 'call', name: name.toLowerCase(), args };
    }
    const lower = name.toLowerCase();
    if (lower === 'true' || lower === 'false') return { t: 'lit', v: lower === 'true' };
    if (lower === 'null') return { t: 'lit', v: null };
    return { t: 'ident', name };
  };
  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      ws();
      if (src[pos] !== '[') return node;
      pos++;
      const index = postfix();
      ws();
      if (src[pos] !== ']') fail('expected ]');
      pos++;
      node = { t: 'index', target: node, index };
    }
  };
  const root = postfix();
  ws();
  if (pos < src.length) fail('unexpected text');
  return root;
}

export interface EvalContext {
  /** The parsed JSON response body. */
  root: Value;
  variables?: Record<string, string>;
}

const ARITY: Record<string, [number, number]> = {
  eq: [2, 2],
  ne: [2, 2],
  gt: [2, 2],
  ge: [2, 2],
  lt: [2, 2],
  le: [2, 2],
  and: [2, Infinity],
  or: [2, Infinity],
  xor: [2, 2],
  not: [1, 1],
  in: [1, Infinity],
  notin: [1, Infinity],
  count: [1, 1],
  isnullorempty: [1, 1],
  jsonpath: [1, 1],
  contains: [2, 2],
  startswith: [2, 2],
  endswith: [2, 2],
};

export function evaluateExpression(src: string, ctx: EvalContext): Value {
  return evalNode(parseExpression(src), ctx);
}

function evalNode(n: Node, ctx: EvalContext): Value {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'ident': {
      if (n.name.toLowerCase() === 'root') return ctx.root;
      if (n.name.toLowerCase() === 'variables') return (ctx.variables ?? {}) as Value;
      throw new ExpressionError(`unknown name ${n.name}`);
    }
    case 'index': {
      const target = evalNode(n.target, ctx);
      const index = evalNode(n.index, ctx);
      if (Array.isArray(target)) {
        const i = typeof index === 'number' ? index : Number(index);
        return Number.isInteger(i) && i >= 0 && i < target.length ? target[i] : null;
      }
      if (target && typeof target === 'object') {
        const key = Object.keys(target).find((k) => k.toLowerCase() === String(index).toLowerCase());
        return key === undefined ? null : target[key];
      }
      return null;
    }
    case 'call':
      return call(n.name, n.args, ctx);
  }
}

function call(name: string, args: Node[], ctx: EvalContext): Value {
  const arity = ARITY[name];
  if (!arity) throw new ExpressionError(`unknown function ${name}`);
  if (args.length < arity[0] || args.length > arity[1])
    throw new ExpressionError(`wrong number of arguments to ${name}`);
  const v = (i: number) => evalNode(args[i], ctx);
  switch (name) {
    case 'and':
      for (const a of args) if (!truthy(evalNode(a, ctx))) return false;
      return true;
    case 'or':
      for (const a of args) if (truthy(evalNode(a, ctx))) return true;
      return false;
    case 'xor':
      return truthy(v(0)) !== truthy(v(1));
    case 'not':
      return !truthy(v(0));
    case 'eq':
      return equals(v(0), v(1));
    case 'ne':
      return !equals(v(0), v(1));
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const c = compare(v(0), v(1), name);
      if (c === undefined) return false;
      return name === 'gt' ? c > 0 : name === 'ge' ? c >= 0 : name === 'lt' ? c < 0 : c <= 0;
    }
    case 'in': {
      const left = v(0);
      return args.slice(1).some((a) => equals(left, evalNode(a, ctx)));
    }
    case 'notin': {
      const left = v(0);
      return !args.slice(1).some((a) => equals(left, evalNode(a, ctx)));
    }
    case 'count': {
      const x = v(0);
      if (Array.isArray(x)) return x.length;
      if (x && typeof x === 'object') return Object.keys(x).length;
      if (typeof x === 'string') return x.length;
      return 0;
    }
    case 'isnullorempty': {
      const x = v(0);
      return x === null || x === '' || (Array.isArray(x) && x.length === 0);
    }
    case 'jsonpath': {
      const path = v(0);
      if (typeof path !== 'string') throw new ExpressionError('jsonpath needs a string');
      return jsonPath(ctx.root, path);
    }
    case 'contains':
      return str(v(0))
        .toLowerCase()
        .includes(str(v(1)).toLowerCase());
    case 'startswith':
      return str(v(0))
        .toLowerCase()
        .startsWith(str(v(1)).toLowerCase());
    case 'endswith':
      return str(v(0))
        .toLowerCase()
        .endsWith(str(v(1)).toLowerCase());
  }
  throw new ExpressionError(`unknown function ${name}`);
}

function truthy(x: Value): boolean {
  if (x === null) return false;
  if (typeof x === 'boolean') return x;
  if (typeof x === 'number') return x !== 0 && !Number.isNaN(x);
  if (typeof x === 'string') return x.length > 0;
  return true;
}

function str(x: Value): string {
  if (x === null) return '';
  if (typeof x === 'object') return JSON.stringify(x);
  return String(x);
}

/** Converts `x` to a number the way the expression engine does; undefined if it cannot. */
function toNumber(x: Value): number | undefined {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (x === null) return 0;
  if (typeof x === 'string') {
    const t = x.trim();
    if (t === '') return 0;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function equals(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'number') {
    const n = toNumber(b);
    return n !== undefined && n === a;
  }
  if (typeof a === 'boolean') return a === truthy(b);
  if (typeof a === 'string') return typeof b === 'object' ? false : a.toLowerCase() === str(b).toLowerCase();
  // Arrays and objects are equal only to themselves.
  return a === b;
}

function compare(a: Value, b: Value, fn: string): number | undefined {
  if (a === null) return undefined;
  if (typeof a === 'number') {
    const n = toNumber(b);
    if (n === undefined) throw new ExpressionError(`${fn}: cannot convert ${JSON.stringify(b)} to a number`);
    return a - n;
  }
  if (typeof a === 'string') {
    const x = a.toLowerCase();
    const y = str(b).toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'boolean') return Number(a) - Number(truthy(b));
  throw new ExpressionError(`${fn}: cannot compare ${Array.isArray(a) ? 'an array' : 'an object'}`);
}

// ---- JSONPath subset -----------------------------------------------------------------------

/**
 * $, .name, ['name'], [n], [*], .*, ..name and filters [?(@.a.b op literal [&& …])]
 * with ==, !=, <, <=, >, >=. Paths without a leading $ start at the root.
 */
export function jsonPath(root: Value, path: string): Value[] {
  let p = path.trim();
  if (p.startsWith('$')) p = p.slice(1);
  else if (p && !p.startsWith('.') && !p.startsWith('[')) p = '.' + p;
  let nodes: Value[] = [root];
  let pos = 0;
  const fail = (msg: string): never => {
    throw new ExpressionError(`jsonpath ${path}: ${msg}`);
  };
  while (pos < p.length) {
    if (p.startsWith('..', pos)) {
      pos += 2;
      const m = /^(\*|[\w$-]+)/.exec(p.slice(pos)) ?? fail('expected a name after ..');
      pos += m[0].length;
      const out: Value[] = [];
      for (const n of nodes) descend(n, m[0], out);
      nodes = out;
    } else if (p[pos] === '.') {
      pos++;
      const m = /^(\*|[\w$-]+)/.exec(p.slice(pos)) ?? fail('expected a name after .');
      pos += m[0].length;
      nodes = nodes.flatMap((n) => child(n, m[0]));
    } else if (p[pos] === '[') {
      const end = findBracketEnd(p, pos) ?? fail('unclosed [');
      const inner = p.slice(pos + 1, end).trim();
      pos = end + 1;
      if (inner === '*') nodes = nodes.flatMap((n) => child(n, '*'));
      else if (/^-?\d+$/.test(inner)) {
        const i = Number(inner);
        nodes = nodes.flatMap((n) =>
          Array.isArray(n) ? (n.at(i) === undefined ? [] : [n.at(i) as Value]) : [],
        );
      } else if (/^'.*'$/.test(inner) || /^".*"$/.test(inner))
        nodes = nodes.flatMap((n) => child(n, inner.slice(1, -1)));
      else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const filter = inner.slice(2, -1);
        nodes = nodes.flatMap((n) => members(n).filter((m) => matchesFilter(m, filter, path)));
      } else fail(`unsupported selector [${inner}]`);
    } else {
      fail(`unexpected ${p[pos]}`);
    }
  }
  return nodes;
}

function findBracketEnd(p: string, start: number): number | undefined {
  let quote: string | undefined;
  let depth = 0;
  for (let i = start; i < p.length; i++) {
    const c = p[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return undefined;
}

function members(n: Value): Value[] {
  if (Array.isArray(n)) return n;
  if (n && typeof n === 'object') return Object.values(n);
  return [];
}

function child(n: Value, name: string): Value[] {
  if (name === '*') return members(n);
  if (n && typeof n === 'object' && !Array.isArray(n) && Object.hasOwn(n, name)) return [n[name]];
  return [];
}

function descend(n: Value, name: string, out: Value[]): void {
  if (n && typeof n === 'object') {
    if (!Array.isArray(n) && name !== '*' && Object.hasOwn(n, name)) out.push(n[name]);
    for (const m of members(n)) {
      if (name === '*') out.push(m);
      descend(m, name, out);
    }
  }
}

function matchesFilter(item: Value, filter: string, path: string): boolean {
  return filter.split('&&').every((clause) => {
    const m = /^\s*@((?:\.[\w$-]+)*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$/.exec(clause);
    if (!m) {
      const exists = /^\s*@((?:\.[\w$-]+)+)\s*$/.exec(clause);
      if (exists) return jsonPath(item, '$' + exists[1]).length > 0;
      throw new ExpressionError(`jsonpath ${path}: unsupported filter ${clause.trim()}`);
    }
    const found = jsonPath(item, '$' + m[1]);
    if (found.length === 0) return false;
    const left = found[0];
    const raw = m[3];
    let right: Value;
    if (/^'.*'$/.test(raw) || /^".*"$/.test(raw)) right = raw.slice(1, -1);
    else if (raw === 'true' || raw === 'false') right = raw === 'true';
    else if (raw === 'null') right = null;
    else if (Number.isFinite(Number(raw))) right = Number(raw);
    else throw new ExpressionError(`jsonpath ${path}: unsupported value ${raw}`);
    switch (m[2]) {
      case '==':
        return left === right;
      case '!=':
        return left !== right;
      default: {
        if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string'))
          return false;
        const l = left as number | string;
        const r = right as number | string;
        return m[2] === '<' ? l < r : m[2] === '<=' ? l <= r : m[2] === '>' ? l > r : l >= r;
      }
    }
  });
}

// ---- the HttpRequest execution --------------------------------------------------------------

export interface HttpRequestExecution {
  EndpointId?: string;
  EndpointUrl: string;
  Method?: string;
  Body?: string;
  Headers?: string;
  WaitForCompletion?: string;
  Expression?: string;
}

export interface ResolvedRequest {
  endpointId: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  waitForCompletion: boolean;
  expression: string;
}

/** A service connection as the server sees it: its URL and its data (e.g. AzureRM subscriptionId). */
export interface GateEndpoint {
  url: string;
  data?: Record<string, string>;
}

/**
 * Resolves an HttpRequest execution as the server does before calling out:
 * macros first (task inputs, `$(endpoint.url)` and `$(endpoint.<data key>)`, as
 * AzurePolicyV0 uses `$(endpoint.subscriptionId)`), so a helper may compare a
 * quoted macro (`{{#equals '$(filterType)' 'resource' 1}}`, AzureMonitorV1);
 * then the template helpers, whose bare names are task inputs (`{{#if
 * ResourceGroupName}}`) or endpoint values (`{{subscriptionId}}`, AzureMonitorV1
 * and AutomatedAnalysisV0; `{{endpoint.url}}`). Inputs get their task.json
 * defaults when not given.
 */
export function resolveHttpRequest(
  taskJson: {
    inputs?: { name: string; defaultValue?: string }[];
    execution: { HttpRequest?: { Execute: HttpRequestExecution } };
  },
  inputs: Record<string, string>,
  endpoints: Record<string, GateEndpoint>,
): ResolvedRequest {
  const exec = taskJson.execution.HttpRequest?.Execute;
  if (!exec) throw new Error('task.json has no HttpRequest execution');
  const values: Record<string, string> = {};
  for (const i of taskJson.inputs ?? []) values[i.name] = inputs[i.name] ?? i.defaultValue ?? '';
  for (const [k, v] of Object.entries(inputs)) values[k] = v;
  const endpointId = substituteMacros(exec.EndpointId ?? '', values);
  const endpoint = endpoints[endpointId];
  const endpointValues: Record<string, string> = {};
  if (endpoint) {
    for (const [k, v] of Object.entries(endpoint.data ?? {})) endpointValues[`endpoint.${k}`] = v;
    endpointValues['endpoint.url'] = endpoint.url;
  }
  // Values given as inputs win, so a test may still pass e.g. 'endpoint.subscriptionId' directly.
  const withEndpoint = { ...endpointValues, ...values };
  const templateContext = { ...(endpoint?.data ?? {}), ...withEndpoint };
  const url = renderTemplate(substituteMacros(exec.EndpointUrl, withEndpoint), templateContext);
  const headersText = substituteMacros(exec.Headers ?? '', withEndpoint).trim();
  return {
    endpointId,
    url,
    method: substituteMacros(exec.Method ?? 'GET', withEndpoint).toUpperCase(),
    headers: headersText ? (JSON.parse(headersText) as Record<string, string>) : {},
    body: substituteMacros(exec.Body ?? '', withEndpoint),
    waitForCompletion:
      substituteMacros(exec.WaitForCompletion ?? 'false', withEndpoint).toLowerCase() === 'true',
    expression: substituteMacros(exec.Expression ?? '', withEndpoint),
  };
}

export interface GateDecision {
  succeeded: boolean;
  /** Why: the HTTP status when the call failed, or the expression's value. */
  reason: string;
}

/**
 * What the server decides from the response: a non-success status fails the
 * evaluation; otherwise the expression (none means success) over the JSON body.
 */
export function decide(expression: string, status: number, bodyText: string): GateDecision {
  if (status < 200 || status >= 300) return { succeeded: false, reason: `HTTP ${status}` };
  if (!expression.trim()) return { succeeded: true, reason: 'no expression' };
  let root: Value;
  try {
    root = JSON.parse(bodyText) as Value;
  } catch {
    return { succeeded: false, reason: 'the response is not JSON' };
  }
  const v = evaluateExpression(expression, { root });
  return { succeeded: truthy(v), reason: `expression is ${JSON.stringify(v)}` };
}
