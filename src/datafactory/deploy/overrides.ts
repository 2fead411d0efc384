/**
 * `overrideParameters` as AzureResourceManagerTemplateDeployment@3 takes them:
 * `-name value` pairs separated by spaces or new lines. A value with spaces is
 * quoted ("a b" or 'a b'); inside double quotes \" and \\ escape, inside single
 * quotes '' is a quote. A value starting with { or [ runs to its matching
 * bracket, so JSON objects and arrays need no quotes. Values are converted to
 * the template parameter's type afterwards (see parameters.ts).
 */
import { DeployInputError } from './errors';

export interface OverrideValue {
  name: string;
  /** The value text, quotes removed. */
  value: string;
  /** Whether the value was quoted (a quoted value is always a string literal). */
  quoted: boolean;
}

interface Token {
  text: string;
  quoted: boolean;
  /** Character offset, for messages. */
  at: number;
}

const INPUT = 'overrideParameters';

function fail(message: string): never {
  throw new DeployInputError(INPUT, `Input '${INPUT}': ${message}`);
}

function readQuoted(src: string, start: number): { text: string; end: number } {
  const q = src[start];
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (q === '"' && c === '\\' && (src[i + 1] === '"' || src[i + 1] === '\\')) {
      out += src[i + 1];
      i += 2;
      continue;
    }
    if (c === q) {
      if (q === "'" && src[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return { text: out, end: i + 1 };
    }
    out += c;
    i++;
  }
  return fail(`the quoted value starting at character ${start + 1} has no closing ${q}.`);
}

/** A JSON-ish value in {…} or […]: brackets balance, strings inside are skipped. */
function readBracketed(src: string, start: number): { text: string; end: number } {
  const stack: string[] = [];
  let i = start;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length) break;
      i++;
      continue;
    }
    if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) fail(`unbalanced '${c}' at character ${i + 1}.`);
      if (stack.length === 0) return { text: src.slice(start, i + 1), end: i + 1 };
    }
    i++;
  }
  return fail(
    `the value starting with '${src[start]}' at character ${start + 1} has no closing '${src[start] === '{' ? '}' : ']'}'.`,
  );
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const r = readQuoted(src, i);
      out.push({ text: r.text, quoted: true, at: i });
      i = r.end;
    } else if (c === '{' || c === '[') {
      const r = readBracketed(src, i);
      out.push({ text: r.text, quoted: false, at: i });
      i = r.end;
    } else {
      const start = i;
      while (i < src.length && !/\s/.test(src[i])) i++;
      out.push({ text: src.slice(start, i), quoted: false, at: start });
    }
    if (i < src.length && !/\s/.test(src[i])) {
      fail(`expected a space after the value ending at character ${i}, found '${src[i]}'.`);
    }
  }
  return out;
}

function isName(t: Token): boolean {
  return !t.quoted && /^-[A-Za-z_][\w.$-]*$/.test(t.text);
}

/** Parses the override text into name/value pairs (later duplicates win, as in ARM@3). */
export function parseOverrideParameters(text: string | undefined): OverrideValue[] {
  if (!text || text.trim() === '') return [];
  const tokens = tokenize(text);
  const out = new Map<string, OverrideValue>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!isName(t)) {
      fail(
        `expected '-name' at character ${t.at + 1} but found ${JSON.stringify(shorten(t.text))}; write overrides as -name value pairs.`,
      );
    }
    const name = t.text.slice(1);
    const v = tokens[i + 1];
    if (!v || isName(v)) {
      fail(`'-${name}' has no value; give one (use "" for an empty string).`);
    }
    i++;
    out.delete(name.toLowerCase());
    out.set(name.toLowerCase(), { name, value: v.text, quoted: v.quoted });
  }
  return [...out.values()];
}

function shorten(s: string): string {
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/**
 * Converts an override's text to the template parameter's type: int and bool
 * parse, object/array/secureObject are JSON, strings stay as given.
 * Returns an error message (without the value when the parameter is secure).
 */
export function convertOverride(
  o: OverrideValue,
  type: string | undefined,
  secure: boolean,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const t = (type ?? 'string').toLowerCase();
  const shown = secure ? '' : ` (got ${JSON.stringify(shorten(o.value))})`;
  switch (t) {
    case 'int':
      if (/^[+-]?\d+$/.test(o.value.trim()) && Number.isSafeInteger(Number(o.value)))
        return { ok: true, value: Number(o.value) };
      return { ok: false, message: `'-${o.name}' must be a whole number${shown}.` };
    case 'bool': {
      const v = o.value.trim().toLowerCase();
      if (v === 'true' || v === 'false') return { ok: true, value: v === 'true' };
      return { ok: false, message: `'-${o.name}' must be true or false${shown}.` };
    }
    case 'object':
    case 'secureobject':
    case 'array': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(o.value);
      } catch (e) {
        return {
          ok: false,
          message: `'-${o.name}' must be JSON (${t === 'array' ? 'an array' : 'an object'})${secure ? '' : `: ${(e as Error).message}`}.`,
        };
      }
      const isArr = Array.isArray(parsed);
      const isObj = typeof parsed === 'object' && parsed !== null && !isArr;
      if ((t === 'array' && !isArr) || (t !== 'array' && !isObj)) {
        return {
          ok: false,
          message: `'-${o.name}' must be a JSON ${t === 'array' ? 'array' : 'object'}${shown}.`,
        };
      }
      return { ok: true, value: parsed };
    }
    default:
      return { ok: true, value: o.value };
  }
}
