/**
 * Assertions over a notebook's JSON exit value, one per line:
 *   metrics.accuracy >= 0.9
 *   model.stage == 'Production'
 *   [evaluate_model] metrics["f1 score"] > 0.8     (scoped to one notebook of several)
 * Operators: == != < <= > >=. Values: numbers, 'single' or "double" quoted strings,
 * true, false, null. Lines that are empty or start with # are ignored.
 */
import { redactAndTruncate } from '../../common/secrets';

export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type Literal = number | string | boolean | null;
export type PathSegment = string | number;

export interface Assertion {
  /** The line as written (trimmed). */
  source: string;
  /** 1-based line number within the assertions input. */
  line: number;
  /** Notebook selector from a leading [name]. */
  scope?: string;
  path: PathSegment[];
  pathText: string;
  op: Operator;
  expected: Literal;
}

export class AssertionSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'AssertionSyntaxError';
  }
}

const OPERATORS: Operator[] = ['==', '!=', '<=', '>=', '<', '>'];

/** Parses the assertions input. Throws AssertionSyntaxError naming the line and column. */
export function parseAssertions(input: string | undefined): Assertion[] {
  const out: Assertion[] = [];
  (input ?? '').split(/\r?\n/).forEach((rawLine, i) => {
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const offset = rawLine.indexOf(trimmed);
    out.push(parseAssertionLine(trimmed, i + 1, offset));
  });
  return out;
}

export function parseAssertionLine(source: string, line = 1, columnOffset = 0): Assertion {
  let pos = 0;
  const fail = (msg: string, at = pos): never => {
    throw new AssertionSyntaxError(
      `assertions line ${line}, column ${columnOffset + at + 1}: ${msg} in "${source}". ` +
        `Write one assertion per line, e.g. metrics.accuracy >= 0.9`,
      line,
      columnOffset + at + 1,
    );
  };
  const skipSpace = () => {
    while (pos < source.length && /\s/.test(source[pos])) pos++;
  };

  let scope: string | undefined;
  skipSpace();
  // A path never starts with [, so a leading [..] is a notebook selector.
  if (source[pos] === '[') {
    const end = source.indexOf(']', pos);
    if (end < 0) fail('unclosed [notebook] selector');
    scope = source.slice(pos + 1, end).trim();
    if (!scope) fail('empty [notebook] selector');
    pos = end + 1;
    skipSpace();
  }

  // Path: ident ( .ident | [number] | ['quoted'] )*
  const path: PathSegment[] = [];
  const pathStart = pos;
  const readIdent = (): string => {
    const m = /^[A-Za-z_$][\w$-]*/.exec(source.slice(pos));
    if (!m) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };
  path.push(readIdent());
  for (;;) {
    if (source[pos] === '.') {
      pos++;
      path.push(readIdent());
    } else if (source[pos] === '[') {
      pos++;
      skipSpace();
      const q = source[pos];
      if (q === '"' || q === "'") {
        path.push(readQuoted());
      } else {
        const m = /^\d+/.exec(source.slice(pos));
        if (!m) fail('expected an index or a quoted key inside [ ]');
        pos += m![0].length;
        path.push(Number(m![0]));
      }
      skipSpace();
      if (source[pos] !== ']') fail('expected ]');
      pos++;
    } else {
      break;
    }
  }
  const pathText = source.slice(pathStart, pos);
  skipSpace();

  const op = OPERATORS.find((o) => source.startsWith(o, pos));
  if (!op) {
    if (source.startsWith('=>', pos)) fail('write >= rather than =>');
    if (source.startsWith('=<', pos)) fail('write <= rather than =<');
    if (source[pos] === '=') fail('use == to compare, not =');
    fail(
      pos >= source.length
        ? 'missing operator (==, !=, <, <=, >, >=)'
        : 'expected an operator (==, !=, <, <=, >, >=)',
    );
  }
  pos += op!.length;
  skipSpace();
  if (pos >= source.length) fail('missing value after the operator');

  let expected: Literal;
  const c = source[pos];
  if (c === '"' || c === "'") {
    expected = readQuoted();
  } else {
    const m = /^[^\s]+/.exec(source.slice(pos))!;
    const word = m[0];
    if (word === 'true' || word === 'false') expected = word === 'true';
    else if (word === 'null') expected = null;
    else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(word)) expected = Number(word);
    else
      return fail(`value ${word} must be a number, true, false, null or a quoted string such as '${word}'`);
    pos += word.length;
  }
  skipSpace();
  if (pos < source.length) fail('unexpected text after the value');

  if ((typeof expected === 'boolean' || expected === null) && op !== '==' && op !== '!=') {
    fail(`${String(expected)} can only be compared with == or !=`);
  }
  return { source, line, scope, path, pathText, op: op!, expected };

  function readQuoted(): string {
    const q = source[pos];
    let out = '';
    pos++;
    while (pos < source.length) {
      const ch = source[pos];
      if (ch === '\\' && pos + 1 < source.length) {
        out += source[pos + 1];
        pos += 2;
        continue;
      }
      if (ch === q) {
        pos++;
        return out;
      }
      out += ch;
      pos++;
    }
    return fail('unclosed quote');
  }
}

// ---- evaluation ---------------------------------------------------------------------

export interface AssertionOutcome {
  passed: boolean;
  /** The value found, or undefined when the path is missing. */
  actual?: unknown;
  /** Why it failed (or the actual value when it passed), for logs and the summary. */
  detail: string;
}

export function evaluateAssertion(a: Assertion, document: unknown): AssertionOutcome {
  const found = resolvePath(document, a.path);
  if (!found.ok) {
    if (a.expected === null) {
      const passed = a.op === '==';
      return { passed, detail: passed ? 'absent' : `${a.pathText} is not in the exit value` };
    }
    return {
      passed: false,
      detail: `${a.pathText} is not in the exit value${found.hint ? ` (${found.hint})` : ''}`,
    };
  }
  const actual = found.value;
  const shown = formatValue(actual);
  const compared = compare(actual, a.op, a.expected);
  if (typeof compared === 'string') return { passed: false, actual, detail: compared };
  return { passed: compared, actual, detail: compared ? `actual ${shown}` : `actual value is ${shown}` };
}

function compare(actual: unknown, op: Operator, expected: Literal): boolean | string {
  if (expected === null) {
    const isNull = actual === null;
    return op === '==' ? isNull : !isNull;
  }
  if (typeof expected === 'boolean') {
    if (typeof actual !== 'boolean') return `actual value is ${describe(actual)}, not a boolean`;
    return op === '==' ? actual === expected : actual !== expected;
  }
  if (typeof expected === 'number') {
    let n: number | undefined;
    if (typeof actual === 'number') n = actual;
    // Notebooks sometimes format metrics as strings; accept a clean numeric string.
    else if (typeof actual === 'string' && actual.trim() !== '' && Number.isFinite(Number(actual)))
      n = Number(actual);
    if (n === undefined) return `actual value is ${describe(actual)}, not a number`;
    return ordered(n, op, expected);
  }
  if (typeof actual !== 'string') return `actual value is ${describe(actual)}, not a string`;
  return ordered(actual, op, expected);
}

function ordered<T extends number | string>(a: T, op: Operator, b: T): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${truncate(JSON.stringify(v))})`;
  if (typeof v === 'object') return `an object (${truncate(JSON.stringify(v))})`;
  return `a ${typeof v} (${formatValue(v)})`;
}

export function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'missing';
  return truncate(JSON.stringify(v) ?? String(v));
}

function truncate(s: string, max = 80): string {
  // Masked before the cut: a secret across it would otherwise keep its start.
  return redactAndTruncate(s, max);
}

function resolvePath(
  doc: unknown,
  path: PathSegment[],
): { ok: true; value: unknown } | { ok: false; hint?: string } {
  let cur: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { ok: false };
      cur = cur[seg];
      continue;
    }
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, seg)) {
      if (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) {
        const keys = Object.keys(cur).filter((k) => !(i === 0 && k === 'tests'));
        const where = i === 0 ? 'top-level keys' : `keys of ${formatPath(path.slice(0, i))}`;
        return { ok: false, hint: keys.length ? `${where}: ${truncate(keys.join(', '))}` : undefined };
      }
      return { ok: false };
    }
    cur = (cur as Record<string, unknown>)[seg];
  }
  return { ok: true, value: cur };
}

function formatPath(path: PathSegment[]): string {
  return path
    .map((s, i) =>
      typeof s === 'number'
        ? `[${s}]`
        : /^[A-Za-z_$][\w$-]*$/.test(s)
          ? (i ? '.' : '') + s
          : `[${JSON.stringify(s)}]`,
    )
    .join('');
}

// ---- across notebooks ---------------------------------------------------------------

export interface AssertionTarget {
  /** Names a [selector] may use: task key, workspace path, notebook base name. */
  names: string[];
  /** How to call it in messages. */
  label: string;
  /** The JSON document, or undefined when the exit value was not JSON. */
  document?: Record<string, unknown>;
  /** Set when the notebook's output could not be read: its exit value is unknown, not absent. */
  unreadable?: boolean;
}

export interface AssertionResult {
  assertion: Assertion;
  /** Label of the notebook the assertion was checked against, if one. */
  notebook?: string;
  passed: boolean;
  actual?: unknown;
  /** One line, e.g. `metrics.accuracy >= 0.9: actual value is 0.85`. */
  message: string;
  /** The part after the assertion, e.g. `actual value is 0.85`. */
  detail: string;
  /**
   * Why the assertion was not evaluated (then `passed` is false but it did not fail): the
   * output it depends on could not be read, which the report gives as the cause instead.
   */
  skipped?: string;
}

/**
 * Evaluates every assertion. With several notebooks an unscoped assertion is
 * checked against each notebook whose exit value has the path; it fails when
 * none has it. An assertion that depends on an output that could not be read
 * is not evaluated (skipped) rather than failed: that output is unknown, not wrong.
 */
export function evaluateAssertions(
  assertions: readonly Assertion[],
  targets: readonly AssertionTarget[],
): AssertionResult[] {
  const results: AssertionResult[] = [];
  const multi = targets.length > 1;
  for (const a of assertions) {
    let candidates: readonly AssertionTarget[] = targets;
    if (a.scope) {
      const wanted = a.scope.toLowerCase();
      candidates = targets.filter((t) => t.names.some((n) => n.toLowerCase() === wanted));
      if (candidates.length === 0) {
        const detail = `no notebook matches [${a.scope}] (notebooks: ${targets.map((t) => t.label).join(', ')})`;
        results.push({ assertion: a, passed: false, message: `${a.source}: ${detail}`, detail });
        continue;
      }
    }
    const unreadable = candidates.filter((t) => t.unreadable);
    const skip = (): void => {
      const reason = `the output of ${unreadable.map((t) => t.label).join(', ')} could not be read`;
      const detail = `not evaluated: ${reason}`;
      const notebook = a.scope && candidates.length === 1 ? candidates[0].label : undefined;
      results.push({
        assertion: a,
        notebook,
        passed: false,
        message: `${a.source}: ${detail}`,
        detail,
        skipped: reason,
      });
    };
    const json = candidates.filter((t) => t.document !== undefined);
    if (json.length === 0 && unreadable.length > 0) {
      skip();
      continue;
    }
    if (json.length === 0) {
      const which =
        candidates.length === 1 ? `the exit value of ${candidates[0].label} is` : 'no exit value is';
      const detail = `${which} not a JSON object`;
      results.push({ assertion: a, passed: false, message: `${a.source}: ${detail}`, detail });
      continue;
    }
    let checked = json;
    if (!a.scope && multi) {
      const having = json.filter((t) => resolvePath(t.document, a.path).ok);
      if (having.length > 0) checked = having;
      else if (unreadable.length > 0) {
        // The path may be in an output that could not be read.
        skip();
        continue;
      }
    }
    for (const t of checked) {
      const o = evaluateAssertion(a, t.document);
      const prefix = multi || a.scope ? `[${t.label}] ` : '';
      results.push({
        assertion: a,
        notebook: multi || a.scope ? t.label : undefined,
        passed: o.passed,
        actual: o.actual,
        message: `${prefix}${a.scope ? a.source.replace(/^\[[^\]]*\]\s*/, '') : a.source}: ${o.detail}`,
        detail: o.detail,
      });
    }
  }
  return results;
}
