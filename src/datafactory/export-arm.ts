/**
 * Turns a validated factory folder into ARMTemplateForFactory.json and
 * ARMTemplateParametersForFactory.json the way the ADF portal's publish does:
 *
 * - one resource per object, typed Microsoft.DataFactory/factories/<kind>, apiVersion
 *   2018-06-01, named [concat(parameters('factoryName'), '/<name>')], in the portal's
 *   order (by kind: pipelines, datasets, linked services, triggers, integration
 *   runtimes, data flows, managed networks, private endpoints, credentials; by
 *   file name within a kind) and with dependsOn entries for every object it references;
 * - global parameters as the current portal writes them: a
 *   Microsoft.DataFactory/factories/globalparameters resource named "default";
 * - secure strings of linked services become secureString parameters <object>_<property>;
 *   the parameterisation definition adds the rest (see params-definition.ts);
 * - parameters are listed factoryName first, then secure ones, then the others, each
 *   group in the order the resources use them;
 * - literal strings that ARM would read as expressions ("[...]") are escaped as "[[...]".
 */
import type { Logger } from '../common/logger';
import {
  FACTORY_RESOURCE_TYPE,
  KIND_INFO,
  KINDS,
  resourceNameOf,
  type AdfObject,
  type FactoryModel,
  type ObjectKind,
} from './model';
import { dataflowStreamNames, deepClone, normalizeProperties, type NormalizeContext } from './normalize';
import {
  definitionForObject,
  parseAction,
  sectionFor,
  type ArmParameterType,
  type DefinitionNode,
  type ParameterDefinition,
  type ParsedAction,
} from './params-definition';
import { collectReferences } from './references';
import type { Problem, ResolvedReference } from './validate';

export const DATA_FACTORY_API_VERSION = '2018-06-01';
export const TEMPLATE_SCHEMA =
  'http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#';
export const PARAMETERS_SCHEMA =
  'https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#';
export const GLOBAL_PARAMETERS_RESOURCE_TYPE = 'globalparameters';
export const FACTORY_ID_VARIABLE = "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]";

/** ARM's documented limits for one template. */
export const ARM_MAX_PARAMETERS = 256;
export const ARM_MAX_RESOURCES = 800;

export interface ArmParameterSpec {
  type: string;
  metadata?: string;
  defaultValue?: unknown;
}

export interface ArmResource {
  name: string;
  type: string;
  apiVersion: string;
  properties: unknown;
  dependsOn: string[];
}

export interface ArmTemplate {
  $schema: string;
  contentVersion: string;
  parameters: Record<string, ArmParameterSpec>;
  variables: Record<string, string>;
  resources: ArmResource[];
}

export interface ArmParametersFile {
  $schema: string;
  contentVersion: string;
  parameters: Record<string, { value: unknown }>;
}

/** One exported resource plus what the linked-template split needs. */
export interface ExportedResource {
  /** "<resourceType>/<resourceName>", e.g. "linkedServices/ls1" (unique in the template). */
  id: string;
  kind: ObjectKind | 'globalParameters';
  name: string;
  resource: ArmResource;
  /** Ids of resources in this template it depends on. */
  dependsOnIds: string[];
  /** Parameters it uses, in order of first use (secure and not). */
  parameterNames: string[];
}

export interface ExportOptions {
  factoryName: string;
  definition: ParameterDefinition;
  includeGlobalParameters: boolean;
  /** Resolved references from validation (computed here when absent). */
  references?: Map<AdfObject, ResolvedReference[]>;
  logger?: Logger;
}

export interface ArmExport {
  template: ArmTemplate;
  parametersFile: ArmParametersFile;
  resources: ExportedResource[];
  /** All parameters except factoryName, in template order. */
  parameterNames: string[];
  /** Secure parameters (exported empty in the parameters file). */
  secureParameters: Set<string>;
  warnings: Problem[];
}

interface ParameterRecord {
  name: string;
  type: ArmParameterType;
  metadata?: string;
  hasDefault: boolean;
  defaultValue?: unknown;
}

/** Stands in for a parameterised value until the template is serialised. */
class ParamRef {
  constructor(readonly name: string) {}
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof ParamRef);
}

function isSecureType(t: string): boolean {
  return t === 'secureString' || t === 'secureObject';
}

function isSecureStringValue(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && typeof v.type === 'string' && v.type.toLowerCase() === 'securestring';
}

function isKeyVaultSecret(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && v.type === 'AzureKeyVaultSecret';
}

/** ARM reads "[...]" as an expression; "[[" keeps a literal leading bracket. */
export function escapeArmString(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? `[${s}` : s;
}

/** An ARM string literal inside an expression: single quotes doubled. */
function armLiteral(s: string): string {
  return s.replace(/'/g, "''");
}

export function resourceNameExpression(resourceName: string): string {
  return `[concat(parameters('factoryName'), '/${armLiteral(resourceName)}')]`;
}

export function dependsOnExpression(resourceType: string, resourceName: string): string {
  return `[concat(variables('factoryId'), '/${resourceType}/${armLiteral(resourceName)}')]`;
}

export function parameterExpression(name: string): string {
  return `[parameters('${armLiteral(name)}')]`;
}

function inferType(v: unknown): ArmParameterType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function getPath(v: unknown, dotted: string): unknown {
  let cur = v;
  for (const part of dotted.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** The name an array item contributes to parameter names (replacing the array's key). */
function itemName(item: unknown, nameProperty: string | undefined, index: number): string {
  const candidates = [
    nameProperty ? getPath(item, nameProperty) : undefined,
    getPath(item, 'name'),
    getPath(item, 'pipelineReference.referenceName'),
  ];
  const found = candidates.find((c): c is string => typeof c === 'string' && c !== '');
  return found ?? String(index);
}

class Parameterizer {
  readonly params = new Map<string, ParameterRecord>();
  readonly warnings: Problem[] = [];

  register(p: ParameterRecord, owner: string, source?: AdfObject): ParamRef {
    const existing = this.params.get(p.name);
    if (!existing) {
      this.params.set(p.name, p);
    } else if (existing.type !== p.type || !jsonEqual(existing.defaultValue, p.defaultValue)) {
      this.warnings.push({
        severity: 'warning',
        message: `Parameter '${p.name}' is generated twice with different types or values (last by ${owner}); the template keeps the first one.`,
        file: source?.file,
        relPath: source?.relPath,
      });
    }
    return new ParamRef(p.name);
  }

  /** Linked services: every SecureString becomes a secureString parameter <object>_<property>. */
  secureStrings(objectName: string, node: unknown, source: AdfObject | undefined): void {
    const visit = (
      holder: Record<string, unknown> | unknown[],
      key: string | number,
      parentKey: string,
    ): void => {
      const v = (holder as Record<string | number, unknown>)[key];
      const propKey = typeof key === 'string' ? key : parentKey;
      if (isSecureStringValue(v)) {
        const name = `${objectName}_${propKey}`;
        v.value = this.register(
          { name, type: 'secureString', hasDefault: false, metadata: secureMetadata(propKey, objectName) },
          objectName,
          source,
        );
        return;
      }
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) visit(v, i, propKey);
      else if (isPlainObject(v)) for (const k of Object.keys(v)) visit(v, k, k);
    };
    if (isPlainObject(node)) for (const k of Object.keys(node)) visit(node, k, k);
  }

  apply(
    def: DefinitionNode,
    holder: Record<string, unknown> | unknown[],
    key: string | number,
    path: string[],
    ctx: { objectName: string; kind: string; source?: AdfObject },
  ): void {
    const value = (holder as Record<string | number, unknown>)[key];
    if (typeof def === 'string') {
      const action = parseAction(def);
      if (typeof action === 'string') return; // reported when the file was loaded
      this.parameterize(holder, key, value, action, path, ctx);
      return;
    }
    if (Array.isArray(def)) {
      if (!Array.isArray(value) || def.length === 0) return;
      const nameProperty = typeof def[1] === 'string' ? def[1] : undefined;
      for (let i = 0; i < value.length; i++) {
        const seg = itemName(value[i], nameProperty, i);
        this.apply(def[0], value, i, [...path.slice(0, -1), seg], ctx);
      }
      return;
    }
    if (!isPlainObject(def) || !isPlainObject(value)) return;
    const explicit = Object.keys(def).filter((k) => k !== '*');
    for (const k of explicit) if (k in value) this.apply(def[k], value, k, [...path, k], ctx);
    const star = (def as Record<string, DefinitionNode>)['*'];
    if (star !== undefined) {
      for (const k of Object.keys(value))
        if (!explicit.includes(k)) this.apply(star, value, k, [...path, k], ctx);
    }
  }

  private parameterize(
    holder: Record<string, unknown> | unknown[],
    key: string | number,
    value: unknown,
    action: ParsedAction,
    path: string[],
    ctx: { objectName: string; kind: string; source?: AdfObject },
  ): void {
    if (value === undefined || value === null || value instanceof ParamRef) return;
    // Linked-service secure strings were parameterised already.
    if (ctx.kind === 'linkedService' && isSecureStringValue(value)) return;
    if (action.action === '|' && isKeyVaultSecret(value)) {
      // A Key Vault reference is a secret already: only the secret's name varies per environment.
      if (typeof value.secretName === 'string') {
        this.parameterize(
          value,
          'secretName',
          value.secretName,
          { action: '=', shortened: false },
          [...path, 'secretName'],
          ctx,
        );
      }
      return;
    }
    let name: string;
    if (action.name !== undefined) {
      name =
        action.shortened || path.length <= 1
          ? `${ctx.objectName}_${action.name}`
          : `${ctx.objectName}_${path.slice(0, -1).join('_')}_${action.name}`;
    } else {
      name = `${ctx.objectName}_${path.join('_')}`;
    }
    const type: ArmParameterType =
      action.type ??
      (action.action === '|'
        ? isPlainObject(value) || Array.isArray(value)
          ? 'secureObject'
          : 'secureString'
        : inferType(value));
    const hasDefault = action.action === '=';
    const propKey =
      path.length >= 2 && path[path.length - 1] === 'value' ? path[path.length - 2] : path[path.length - 1];
    const record: ParameterRecord = {
      name,
      type,
      hasDefault,
      defaultValue: hasDefault ? cloneValue(value) : undefined,
      metadata: isSecureType(type) ? secureMetadata(propKey, ctx.objectName) : undefined,
    };
    (holder as Record<string | number, unknown>)[key] = this.register(record, ctx.objectName, ctx.source);
  }
}

/** A copy that keeps parameter placeholders (a default may contain an already parameterised secret). */
function cloneValue(v: unknown): unknown {
  if (v instanceof ParamRef) return v;
  if (Array.isArray(v)) return v.map(cloneValue);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out;
  }
  return v;
}

/** A value for the parameters file: placeholders become their expression, nothing is escaped. */
function plainValue(v: unknown): unknown {
  if (v instanceof ParamRef) return parameterExpression(v.name);
  if (Array.isArray(v)) return v.map(plainValue);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = plainValue(v[k]);
    return out;
  }
  return v;
}

function secureMetadata(property: string, objectName: string): string {
  return `Secure string for '${property}' of '${objectName}'`;
}

/** Serialises a resource body: ParamRef → "[parameters('x')]", literal "[...]" escaped; collects parameter use order. */
function finish(v: unknown, used: string[], seen: Set<string>): unknown {
  if (v instanceof ParamRef) {
    if (!seen.has(v.name)) {
      seen.add(v.name);
      used.push(v.name);
    }
    return parameterExpression(v.name);
  }
  if (typeof v === 'string') return escapeArmString(v);
  if (Array.isArray(v)) return v.map((x) => finish(x, used, seen));
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = finish(v[k], used, seen);
    return out;
  }
  return v;
}

export function resourceTypeOf(kind: ObjectKind): string {
  return `${FACTORY_RESOURCE_TYPE}/${KIND_INFO[kind].resourceType}`;
}

const KIND_ORDER = new Map(KINDS.map((k, i) => [k.kind, i]));

export function exportArmTemplate(model: FactoryModel, options: ExportOptions): ArmExport {
  const { factoryName, definition } = options;
  const warnings: Problem[] = [];
  const p = new Parameterizer();

  const dataflowStreams = new Map<string, string[]>();
  for (const o of model.objects) {
    if (o.kind === 'dataflow')
      dataflowStreams.set(o.name.toLowerCase(), dataflowStreamNames(o.json.properties));
  }
  const exactNames = new Map<string, string>();
  for (const o of model.objects) {
    const refType = KIND_INFO[o.kind].referenceType;
    if (refType && o.kind !== 'managedPrivateEndpoint')
      exactNames.set(`${refType}:${o.name}`.toLowerCase(), o.name);
  }
  const normalizeCtx: NormalizeContext = {
    dataflowStreams,
    canonicalName: (referenceType, name) => exactNames.get(`${referenceType}:${name}`.toLowerCase()),
    onUnknownCredential: (o) =>
      warnings.push({
        severity: 'warning',
        message: `${o.relPath}: the encryptedCredential of linked service '${o.name}' only works in the factory that encrypted it and is left out of the template; the export cannot tell which secret it holds, so add that secret to the linked service (a Key Vault reference is best) before deploying elsewhere.`,
        file: o.file,
        relPath: o.relPath,
      }),
  };

  // Portal order: by kind, then by file name (the model lists files in git's byte order).
  const ordered = model.objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => (KIND_ORDER.get(a.o.kind) as number) - (KIND_ORDER.get(b.o.kind) as number) || a.i - b.i)
    .map((x) => x.o);

  const byKey = new Map<string, AdfObject>();
  for (const o of model.objects)
    byKey.set(
      `${o.kind}:${o.kind === 'managedPrivateEndpoint' ? `${o.parent}/` : ''}${o.name}`.toLowerCase(),
      o,
    );

  const drafts: Array<{
    id: string;
    kind: ExportedResource['kind'];
    name: string;
    type: string;
    body: unknown;
    deps: Array<{ id: string; type: string; name: string }>;
  }> = [];

  for (const o of ordered) {
    const info = KIND_INFO[o.kind];
    const resourceName = resourceNameOf(o);
    const normalized = normalizeProperties(o, normalizeCtx);
    const root: Record<string, unknown> = { properties: normalized ?? {} };
    if (o.kind === 'linkedService') p.secureStrings(o.name, root, o);
    const section = sectionFor(definition, resourceTypeOf(o.kind));
    const objectType = isPlainObject(normalized) ? normalized.type : undefined;
    const def = definitionForObject(section, objectType);
    if (def !== undefined)
      p.apply(def, { root }, 'root', [], { objectName: o.name, kind: o.kind, source: o });

    const refs: ResolvedReference[] = options.references?.get(o) ?? collectReferences(o);
    const deps: Array<{ id: string; type: string; name: string }> = [];
    const depIds = new Set<string>();
    for (const r of refs ?? []) {
      const target: AdfObject | undefined =
        r.target ??
        byKey.get(
          `${r.kind}:${r.kind === 'managedPrivateEndpoint' ? `${o.parent}/` : ''}${r.name}`.toLowerCase(),
        );
      if (!target || target === o) continue;
      const tInfo = KIND_INFO[target.kind];
      const tName = resourceNameOf(target);
      const id = `${tInfo.resourceType}/${tName}`;
      if (depIds.has(id)) continue;
      depIds.add(id);
      deps.push({ id, type: tInfo.resourceType, name: tName });
    }
    drafts.push({
      id: `${info.resourceType}/${resourceName}`,
      kind: o.kind,
      name: resourceName,
      type: resourceTypeOf(o.kind),
      body: root.properties,
      deps,
    });
  }

  if (options.includeGlobalParameters) {
    const gp = isPlainObject(model.factory?.json.properties)
      ? model.factory?.json.properties.globalParameters
      : undefined;
    if (isPlainObject(gp) && Object.keys(gp).length > 0) {
      const root: Record<string, unknown> = { properties: deepClone(gp) };
      const def = definitionForObject(
        sectionFor(definition, `${FACTORY_RESOURCE_TYPE}/${GLOBAL_PARAMETERS_RESOURCE_TYPE}`),
        undefined,
      );
      if (def !== undefined)
        p.apply(def, { root }, 'root', [], { objectName: 'default', kind: 'globalParameters' });
      drafts.push({
        id: `${GLOBAL_PARAMETERS_RESOURCE_TYPE}/default`,
        kind: 'globalParameters',
        name: 'default',
        type: `${FACTORY_RESOURCE_TYPE}/${GLOBAL_PARAMETERS_RESOURCE_TYPE}`,
        body: root.properties,
        deps: [],
      });
    }
  }

  // Serialise in order, recording which parameters each resource uses.
  const resources: ExportedResource[] = [];
  const secureOrder: string[] = [];
  const plainOrder: string[] = [];
  const seenGlobal = new Set<string>();
  for (const d of drafts) {
    const used: string[] = [];
    const properties = finish(d.body, used, new Set());
    for (const name of used) {
      if (seenGlobal.has(name)) continue;
      seenGlobal.add(name);
      const rec = p.params.get(name) as ParameterRecord;
      (isSecureType(rec.type) ? secureOrder : plainOrder).push(name);
    }
    resources.push({
      id: d.id,
      kind: d.kind,
      name: d.name,
      resource: {
        name: resourceNameExpression(d.name),
        type: d.type,
        apiVersion: DATA_FACTORY_API_VERSION,
        properties,
        dependsOn: d.deps.map((x) => dependsOnExpression(x.type, x.name)),
      },
      dependsOnIds: d.deps.map((x) => x.id),
      parameterNames: used,
    });
  }

  const parameterNames = [...secureOrder, ...plainOrder];
  const secureParameters = new Set(secureOrder);
  const template: ArmTemplate = {
    $schema: TEMPLATE_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: { factoryName: { type: 'string', metadata: 'Data Factory name', defaultValue: factoryName } },
    variables: { factoryId: FACTORY_ID_VARIABLE },
    resources: resources.map((r) => r.resource),
  };
  const parametersFile: ArmParametersFile = {
    $schema: PARAMETERS_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: { factoryName: { value: factoryName } },
  };
  for (const name of parameterNames) {
    const rec = p.params.get(name) as ParameterRecord;
    template.parameters[name] = parameterSpec(rec);
    parametersFile.parameters[name] = {
      value: isSecureType(rec.type) ? '' : rec.hasDefault ? plainValue(rec.defaultValue) : '',
    };
  }

  warnings.push(...p.warnings);
  const total = parameterNames.length + 1;
  if (total > ARM_MAX_PARAMETERS) {
    warnings.push({
      severity: 'warning',
      message: `The template has ${total} parameters; ARM accepts at most ${ARM_MAX_PARAMETERS}. Parameterise fewer properties in arm-template-parameters-definition.json.`,
    });
  }
  if (resources.length > ARM_MAX_RESOURCES) {
    warnings.push({
      severity: 'warning',
      message: `The template has ${resources.length} resources; ARM accepts at most ${ARM_MAX_RESOURCES} in one template. Deploy the linked templates (linkedTemplates: auto or always) instead.`,
    });
  }

  return { template, parametersFile, resources, parameterNames, secureParameters, warnings };
}

function parameterSpec(rec: ParameterRecord): ArmParameterSpec {
  const spec: ArmParameterSpec = { type: rec.type };
  if (rec.metadata !== undefined) spec.metadata = rec.metadata;
  if (rec.hasDefault) spec.defaultValue = finish(rec.defaultValue, [], new Set());
  return spec;
}

/** The template as the portal writes it: tab-indented, LF line ends, no final newline. */
export function serializeArm(value: unknown, indent = '\t'): string {
  return JSON.stringify(value, null, indent);
}
