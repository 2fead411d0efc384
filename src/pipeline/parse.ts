/**
 * Pure parsers for task input values. Each takes the input's name (for the
 * message) and its raw text, and throws InputError naming the input.
 */
import { InputError, quoteValue } from './errors';
import { JsonSyntaxError, parseJsonWithLocation } from './json';

export function isBlank(raw: string | undefined | null): raw is undefined | null | '' {
  return raw === undefined || raw === null || raw.trim() === '';
}

export function parseBool(name: string, raw: string | undefined, defaultValue: boolean): boolean {
  if (isBlank(raw)) return defaultValue;
  const v = raw.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError(name, `Input '${name}' must be true or false (got ${quoteValue(raw.trim())}).`);
}

export interface IntOptions {
  min?: number;
  max?: number;
  default?: number;
  required?: boolean;
}

export function parseIntInput(
  name: string,
  raw: string | undefined,
  opts: IntOptions = {},
): number | undefined {
  if (isBlank(raw)) {
    if (opts.default !== undefined) return opts.default;
    if (opts.required) throw new InputError(name, `Input '${name}' is required: ${rangeText(opts)}.`);
    return undefined;
  }
  const v = raw.trim();
  const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
  const ok =
    Number.isSafeInteger(n) &&
    (opts.min === undefined || n >= opts.min) &&
    (opts.max === undefined || n <= opts.max);
  if (!ok) throw new InputError(name, `Input '${name}' must be ${rangeText(opts)} (got ${quoteValue(v)}).`);
  return n;
}

function rangeText(opts: IntOptions): string {
  if (opts.min !== undefined && opts.max !== undefined)
    return `a whole number between ${opts.min} and ${opts.max}`;
  if (opts.min !== undefined) return `a whole number of at least ${opts.min}`;
  if (opts.max !== undefined) return `a whole number of at most ${opts.max}`;
  return 'a whole number';
}

export function parsePickList<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
  defaultValue?: T,
): T {
  if (isBlank(raw)) {
    if (defaultValue !== undefined) return defaultValue;
    throw new InputError(name, `Input '${name}' is required: use one of ${allowed.join(', ')}.`);
  }
  const v = raw.trim();
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (hit === undefined) {
    throw new InputError(
      name,
      `Input '${name}' must be one of ${allowed.join(', ')} (got ${quoteValue(v)}).`,
    );
  }
  return hit;
}

/** Non-blank lines, trimmed; lines starting with '#' are comments. */
export function parseMultiline(raw: string | undefined): string[] {
  if (isBlank(raw)) return [];
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/**
 * Multi-line `key=value` (split at the first '='; key and value trimmed).
 * Blank lines and '#' comments are ignored; a malformed line or duplicate key is an error naming the line.
 */
export function parseKeyValueLines(name: string, raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (isBlank(raw)) return out;
  const lines = raw.split(/\r?\n/);
  lines.forEach((text, i) => {
    const line = text.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq < 0) {
      throw new InputError(
        name,
        `Input '${name}' line ${i + 1} must look like key=value (got ${quoteValue(line)}).`,
      );
    }
    const key = line.slice(0, eq).trim();
    if (!key)
      throw new InputError(
        name,
        `Input '${name}' line ${i + 1} has no key before '=' (got ${quoteValue(line)}).`,
      );
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      throw new InputError(name, `Input '${name}' line ${i + 1} repeats the key '${key}'.`);
    }
    out[key] = line.slice(eq + 1).trim();
  });
  return { ...out };
}

/** JSON text; errors report line and column. */
export function parseJsonInput(name: string, raw: string | undefined): unknown {
  if (isBlank(raw)) return undefined;
  try {
    return parseJsonWithLocation(raw);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      throw new InputError(
        name,
        `Input '${name}' is not valid JSON: ${e.reason} at line ${e.line}, column ${e.column}.`,
      );
    }
    throw e;
  }
}

export function parseJsonObject(name: string, raw: string | undefined): Record<string, unknown> | undefined {
  const v = parseJsonInput(name, raw);
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InputError(
      name,
      `Input '${name}' must be a JSON object ({ ... }), not ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}.`,
    );
  }
  return v as Record<string, unknown>;
}

/**
 * Parameters given either as one JSON object or as key=value lines. JSON values
 * keep their types; key=value values are strings.
 */
export function parseParameters(name: string, raw: string | undefined): Record<string, unknown> {
  if (isBlank(raw)) return {};
  if (raw.trim().startsWith('{')) return parseJsonObject(name, raw) ?? {};
  return parseKeyValueLines(name, raw);
}
