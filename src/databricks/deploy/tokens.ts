/**
 * `#{Name}#` token replacement with pipeline variables. Values of secret
 * variables are registered as secrets before they are used, and nothing here
 * logs content or values.
 */
import { registerSecret } from '../../common/secrets';

export interface VariableValue {
  value: string;
  secret: boolean;
}

/** Looks up a pipeline variable by the name written in the token; undefined when unset. */
export type VariableLookup = (name: string) => VariableValue | undefined;

// Azure DevOps variable names: letters, digits, '.', '_' and '-'; spaces inside the braces are tolerated.
const TOKEN = /#\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}#/g;

/** Distinct token names in order of first appearance. */
export function findTokenNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(TOKEN)) names.add(m[1]);
  return [...names];
}

export interface ReplaceResult {
  text: string;
  /** Number of tokens replaced. */
  replaced: number;
  /** Names that had no value (the text keeps those tokens). */
  missing: string[];
  /** Names whose value came from a secret variable. */
  secretNames: string[];
}

export interface ReplaceOptions {
  /** 'json': the value goes inside a JSON string (Jupyter notebooks), so escape it. */
  escape?: 'none' | 'json';
}

export function replaceTokens(
  text: string,
  lookup: VariableLookup,
  opts: ReplaceOptions = {},
): ReplaceResult {
  const missing = new Set<string>();
  const secretNames = new Set<string>();
  const cache = new Map<string, VariableValue | undefined>();
  let replaced = 0;
  const out = text.replace(TOKEN, (whole: string, name: string) => {
    if (!cache.has(name)) {
      const v = lookup(name);
      if (v?.secret) registerSecret(v.value);
      cache.set(name, v);
    }
    const v = cache.get(name);
    if (v === undefined) {
      missing.add(name);
      return whole;
    }
    if (v.secret) secretNames.add(name);
    replaced++;
    return opts.escape === 'json' ? JSON.stringify(v.value).slice(1, -1) : v.value;
  });
  return { text: out, replaced, missing: [...missing], secretNames: [...secretNames] };
}

/** A Buffer holds text we may edit when it decodes as UTF-8 without loss and has no NUL bytes. */
export function isEditableText(content: Buffer): boolean {
  if (content.includes(0)) return false;
  return Buffer.from(content.toString('utf8'), 'utf8').equals(content);
}
