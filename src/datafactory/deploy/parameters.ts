/**
 * Deployment parameters: the parameters file, then `overrideParameters`, then
 * the target factory name. Unknown names and missing required parameters fail
 * before anything changes, listing all of them; secure values are registered as
 * secrets the moment they are read.
 */
import { registerSecret } from '../../common/secrets';
import {
  resolveTemplateParameters,
  type ArmEvaluationContext,
  type TemplateParameterDefinition,
} from '../arm-expressions';
import { DeployInputError, listText } from './errors';
import { convertOverride, parseOverrideParameters } from './overrides';
import { readJsonFile, type ArmTemplate } from './template';

/** A value from the parameters file: {value} or a Key Vault reference. */
export type ParameterFileEntry = { value: unknown } | { reference: Record<string, unknown> };

export interface ParametersFile {
  file: string;
  entries: Record<string, ParameterFileEntry>;
}

export type ParameterSource = 'file' | 'override' | 'default' | 'factoryName' | 'placeholder';

export interface ResolvedParameters {
  /** Values by the template's parameter names (defaults applied), for local evaluation. */
  values: Record<string, unknown>;
  /** The `parameters` of an ARM deployment: supplied values only ({value} or {reference}). */
  armParameters: Record<string, ParameterFileEntry>;
  /** Names of secureString / secureObject parameters. */
  secure: string[];
  /** Names whose value is a Key Vault reference (only ARM can resolve them). */
  keyVault: string[];
  /** Parameters filled with a placeholder because the chosen method does not use them. */
  placeholders: string[];
  sources: Record<string, ParameterSource>;
  /** Lines worth logging (never values of secure parameters). */
  notes: string[];
}

/** Placeholder standing for a value only Azure can supply (Key Vault). Never sent anywhere. */
export const OPAQUE_PREFIX = '\u0000opaque:';

export function isOpaqueValue(v: unknown): boolean {
  return typeof v === 'string' && v.startsWith(OPAQUE_PREFIX);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function loadParametersFile(file: string, input = 'templateParametersFile'): ParametersFile {
  const json = readJsonFile(file, input, 'parameters file');
  if (!isObject(json))
    throw new DeployInputError(input, `Input '${input}': ${file} must hold a JSON object.`);
  // Deployment parameter files wrap values in "parameters"; accept a bare {name:{value}} map too.
  const map = isObject(json.parameters) ? json.parameters : json;
  const entries: Record<string, ParameterFileEntry> = {};
  const bad: string[] = [];
  for (const [name, entry] of Object.entries(map)) {
    if (name.startsWith('$') || name === 'contentVersion') continue;
    if (isObject(entry) && 'value' in entry) entries[name] = { value: entry.value };
    else if (isObject(entry) && isObject(entry.reference)) entries[name] = { reference: entry.reference };
    else bad.push(name);
  }
  if (bad.length > 0) {
    throw new DeployInputError(
      input,
      `Input '${input}': in ${file}, ${listText(bad)} must be written as {"value": …} or {"reference": {"keyVault": {"id": …}, "secretName": …}}.`,
    );
  }
  return { file, entries };
}

export interface ResolveParametersOptions {
  template: ArmTemplate;
  file?: ParametersFile;
  overrides?: string;
  /** The factory the task deploys to: the template's factoryName parameter is set to it. */
  factoryName: string;
  /** Parameters the chosen method does not need; filled with '' when not supplied (e.g. containerUri for direct). */
  notNeeded?: string[];
  /** subscription(), resourceGroup() and deployment() for default values that use them. */
  context?: Omit<ArmEvaluationContext, 'parameters' | 'variables'>;
  /** A hint added to the "missing parameters" message. */
  missingHint?: (missing: string[]) => string | undefined;
}

function registerSecure(value: unknown): void {
  if (typeof value === 'string') registerSecret(value);
  else if (value !== undefined && value !== null) {
    registerSecret(JSON.stringify(value));
    const walk = (v: unknown): void => {
      if (typeof v === 'string') registerSecret(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (isObject(v)) Object.values(v).forEach(walk);
    };
    walk(value);
  }
}

/** Combines file, overrides and the factory name, validating names, types and required values. */
export function resolveParameters(opts: ResolveParametersOptions): ResolvedParameters {
  const defs = (opts.template.parameters ?? {}) as Record<string, TemplateParameterDefinition>;
  const byLower = new Map(Object.keys(defs).map((n) => [n.toLowerCase(), n]));
  const typeOf = (name: string): string => String(defs[name]?.type ?? 'string').toLowerCase();
  const isSecure = (name: string): boolean => ['securestring', 'secureobject'].includes(typeOf(name));

  const supplied: Record<string, unknown> = {};
  const armParameters: Record<string, ParameterFileEntry> = {};
  const sources: Record<string, ParameterSource> = {};
  const keyVault: string[] = [];
  const notes: string[] = [];
  const secure = Object.keys(defs).filter(isSecure);

  // 1. The parameters file.
  const unknownInFile: string[] = [];
  for (const [raw, entry] of Object.entries(opts.file?.entries ?? {})) {
    const name = byLower.get(raw.toLowerCase());
    if (!name) {
      unknownInFile.push(raw);
      continue;
    }
    if ('reference' in entry) {
      keyVault.push(name);
      supplied[name] = `${OPAQUE_PREFIX}keyvault:${name}`;
      armParameters[name] = { reference: entry.reference };
    } else {
      supplied[name] = entry.value;
      armParameters[name] = { value: entry.value };
      if (isSecure(name)) registerSecure(entry.value);
    }
    sources[name] = 'file';
  }

  // 2. Overrides.
  const overrides = parseOverrideParameters(opts.overrides);
  const unknownOverrides: string[] = [];
  const badOverrides: string[] = [];
  for (const o of overrides) {
    const name = byLower.get(o.name.toLowerCase());
    if (!name) {
      unknownOverrides.push(`-${o.name}`);
      continue;
    }
    const sec = isSecure(name);
    if (sec) registerSecure(o.value);
    const converted = convertOverride(o, typeOf(name), sec);
    if (!converted.ok) {
      badOverrides.push(converted.message);
      continue;
    }
    if (sec) registerSecure(converted.value);
    supplied[name] = converted.value;
    armParameters[name] = { value: converted.value };
    sources[name] = 'override';
    const kv = keyVault.indexOf(name);
    if (kv >= 0) keyVault.splice(kv, 1);
  }

  const problems: string[] = [];
  if (unknownOverrides.length > 0) {
    problems.push(
      `${listText(unknownOverrides)} ${unknownOverrides.length === 1 ? 'is' : 'are'} not ${unknownOverrides.length === 1 ? 'a parameter' : 'parameters'} of the template (its parameters: ${listText(Object.keys(defs), 12) || 'none'}).`,
    );
  }
  problems.push(...badOverrides);
  if (problems.length > 0) {
    throw new DeployInputError('overrideParameters', `Input 'overrideParameters': ${problems.join(' ')}`);
  }
  if (unknownInFile.length > 0) {
    throw new DeployInputError(
      'templateParametersFile',
      `Input 'templateParametersFile': ${listText(unknownInFile)} ${unknownInFile.length === 1 ? 'is' : 'are'} not declared by the template; Azure Resource Manager rejects parameters the template does not have. Use the parameters file exported with this template.`,
    );
  }

  // 3. The target factory name wins over the (usually development) value in the parameters file.
  const factoryParam = byLower.get('factoryname');
  if (factoryParam) {
    const current = supplied[factoryParam];
    if (
      sources[factoryParam] === 'override' &&
      typeof current === 'string' &&
      current.toLowerCase() !== opts.factoryName.toLowerCase()
    ) {
      throw new DeployInputError(
        'overrideParameters',
        `Input 'overrideParameters': -${factoryParam} is '${current}' but input 'factoryName' is '${opts.factoryName}'; remove the override or make them match.`,
      );
    }
    if (current !== opts.factoryName) {
      if (typeof current === 'string' && sources[factoryParam] === 'file') {
        notes.push(
          `Template parameter ${factoryParam} set to '${opts.factoryName}' (the parameters file has '${current}').`,
        );
      }
      supplied[factoryParam] = opts.factoryName;
      armParameters[factoryParam] = { value: opts.factoryName };
      sources[factoryParam] = 'factoryName';
    }
  }

  // 4. Parameters the method does not use get a harmless placeholder.
  const placeholders: string[] = [];
  for (const raw of opts.notNeeded ?? []) {
    const name = byLower.get(raw.toLowerCase());
    if (!name || name in supplied || (defs[name] && 'defaultValue' in defs[name])) continue;
    supplied[name] = '';
    sources[name] = 'placeholder';
    placeholders.push(name);
  }

  // 5. Defaults, types, required values.
  const res = resolveTemplateParameters(defs, supplied, opts.context);
  const missing = res.missing;
  if (missing.length > 0) {
    const hint = opts.missingHint?.(missing);
    const input = opts.file ? 'templateParametersFile' : 'overrideParameters';
    throw new DeployInputError(
      input,
      `The template needs a value for ${listText(missing)}, which ${missing.length === 1 ? 'has' : 'have'} no default: add ${missing.length === 1 ? 'it' : 'them'} to the parameters file or to overrideParameters (e.g. -${missing[0]} "value").${hint ? ` ${hint}` : ''}`,
    );
  }
  const invalid = res.invalid.filter((i) => !keyVault.includes(i.name));
  if (invalid.length > 0) {
    throw new DeployInputError(
      sources[invalid[0].name] === 'override' ? 'overrideParameters' : 'templateParametersFile',
      `Invalid template parameter value${invalid.length > 1 ? 's' : ''}: ${invalid
        .map(
          (i) => `${i.name}: ${secure.includes(i.name) ? i.message.replace(/'[^']*'/, "'***'") : i.message}`,
        )
        .join(' ')}`,
    );
  }
  for (const name of Object.keys(res.values)) if (!sources[name]) sources[name] = 'default';
  for (const name of secure) registerSecure(res.values[name]);
  return { values: res.values, armParameters, secure, keyVault, placeholders, sources, notes };
}

/** Size of the deployment's parameters as sent (for the 4 MB check). */
export function parametersSize(p: ResolvedParameters): number {
  return Buffer.byteLength(JSON.stringify(p.armParameters), 'utf8');
}
