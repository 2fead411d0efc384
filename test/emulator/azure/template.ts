/**
 * Turns an ARM template plus parameters into a deployment plan the way ARM's
 * validation phase does: parameters (defaults, types, missing and unknown
 * names), variables, resource expressions (through the shared evaluator in
 * src/datafactory/arm-expressions.ts), conditions, resource ids, dependsOn
 * resolution and cycle detection. Errors use ARM's InvalidTemplate wording.
 *
 * Not supported (rejected with a clear InvalidTemplate error): copy loops,
 * languageVersion 2.0 symbolic resources, user-defined functions, reference()
 * and list*() (ADF exports use none of them).
 */
import * as crypto from 'node:crypto';
import {
  ArmEvaluator,
  ArmExpressionError,
  buildResourceId,
  resolveTemplateParameters,
  type TemplateParameterDefinition,
} from '../../../src/datafactory/arm-expressions';
import { azureError, isObject, lower, rgId, type AzureError } from './common';

/** ARM echoes parameter and output types in Pascal case. */
const PRETTY_TYPES: Record<string, string> = {
  string: 'String',
  securestring: 'SecureString',
  int: 'Int',
  bool: 'Bool',
  object: 'Object',
  secureobject: 'SecureObject',
  array: 'Array',
};

export const LIMITS = { parameters: 256, variables: 512, resources: 800, outputs: 64 };

export interface DeploymentScope {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tenantId: string;
  subscriptionDisplayName?: string;
  deploymentName: string;
  /** URI the template came from (for deployment() and relativePath). */
  templateLinkUri?: string;
}

export interface PlannedResource {
  /** As written in the template (for messages). */
  rawName: string;
  name: string;
  type: string;
  apiVersion: string;
  id: string;
  /** 'Microsoft.X/type/name/…' without scope, as concat(variables('factoryId'), '/…') builds it. */
  shortId: string;
  /** Evaluated resource body (properties, location, identity, tags, sku, kind, …). */
  body: Record<string, unknown>;
  /** Ids (as planned) this resource waits for. */
  dependsOn: string[];
  /** For Microsoft.Resources/deployments with inner scope: the unevaluated template. */
  innerTemplate?: unknown;
  /** Target scope of a nested deployment. */
  targetSubscriptionId: string;
  targetResourceGroup: string;
}

export interface PreparedTemplate {
  resources: PlannedResource[];
  parameters: Record<string, unknown>;
  /** Parameter names whose type is secure (their values are not echoed). */
  secureParameters: string[];
  parameterTypes: Record<string, string>;
  outputs: Record<string, unknown>;
  evaluator: ArmEvaluator;
  templateHash: string;
}

/** Parameter values from a request: {name: {value}} or Key Vault references. */
export type KeyVaultLookup = (vaultId: string, secretName: string, version?: string) => string | undefined;

function invalidTemplate(detail: string, extra: Partial<AzureError> = {}): AzureError {
  return azureError(400, 'InvalidTemplate', `Deployment template validation failed: '${detail}'.`, extra);
}

function column(haystack: string, needle: string): number {
  const i = haystack.indexOf(needle);
  return i < 0 ? 1 : i + 1;
}

export function templateHash(template: unknown): string {
  const h = crypto.createHash('sha256').update(JSON.stringify(template)).digest();
  return h.readBigUInt64BE(0).toString();
}

/** Unwraps request parameters ({value} or {reference:{keyVault,secretName}}) into plain values. */
export function unwrapParameters(
  params: unknown,
  keyVault: KeyVaultLookup,
): Record<string, unknown> | AzureError {
  if (params === undefined || params === null) return {};
  if (!isObject(params)) {
    return azureError(
      400,
      'InvalidRequestContent',
      "The request content was invalid and could not be deserialized: 'properties.parameters' must be an object.",
    );
  }
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(params)) {
    if (isObject(p) && 'value' in p) {
      out[name] = p.value;
    } else if (isObject(p) && isObject(p.reference)) {
      const ref = p.reference;
      const vault = isObject(ref.keyVault) ? String(ref.keyVault.id ?? '') : '';
      const secret = String(ref.secretName ?? '');
      const value = keyVault(
        vault,
        secret,
        typeof ref.secretVersion === 'string' ? ref.secretVersion : undefined,
      );
      if (value === undefined) {
        return azureError(
          400,
          'KeyVaultParameterReferenceSecretRetrieveFailed',
          `The value for the template parameter '${name}' could not be retrieved: the secret '${secret}' was not found in key vault '${vault}'.`,
        );
      }
      out[name] = value;
    } else {
      return azureError(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: the parameter '${name}' must have a 'value' or a 'reference' property.`,
      );
    }
  }
  return out;
}

/** Validates and evaluates a template for a scope. Throws an AzureError (InvalidTemplate …). */
export function prepareTemplate(
  template: unknown,
  supplied: Record<string, unknown>,
  scope: DeploymentScope,
): PreparedTemplate {
  if (!isObject(template))
    throw azureError(
      400,
      'InvalidTemplate',
      "Deployment template parse failed: 'The template must be a JSON object.'.",
    );
  let textCache: string | undefined;
  const text = (): string => (textCache ??= JSON.stringify(template));
  if (
    template.languageVersion !== undefined ||
    (template.resources !== undefined && !Array.isArray(template.resources))
  ) {
    throw invalidTemplate(
      'The template uses languageVersion 2.0 (symbolic resources), which this emulator does not support. Please see https://aka.ms/arm-syntax for usage details',
    );
  }
  if (
    template.functions !== undefined &&
    Array.isArray(template.functions) &&
    template.functions.length > 0
  ) {
    throw invalidTemplate(
      'The template defines user-defined functions, which this emulator does not support',
    );
  }
  const defs = (isObject(template.parameters) ? template.parameters : {}) as Record<
    string,
    TemplateParameterDefinition
  >;
  const variables = isObject(template.variables) ? template.variables : {};
  const rawResources = Array.isArray(template.resources) ? template.resources : [];
  const outputs = isObject(template.outputs) ? template.outputs : {};
  const paramCount = Object.keys(defs).length;
  if (paramCount > LIMITS.parameters) {
    throw invalidTemplate(
      `The number of template parameters limit exceeded. Limit: '${LIMITS.parameters}' and actual: '${paramCount}'`,
    );
  }
  if (Object.keys(variables).length > LIMITS.variables) {
    throw invalidTemplate(
      `The number of template variables limit exceeded. Limit: '${LIMITS.variables}' and actual: '${Object.keys(variables).length}'`,
    );
  }
  if (rawResources.length > LIMITS.resources) {
    throw invalidTemplate(
      `The number of template resources limit exceeded. Limit: '${LIMITS.resources}' and actual: '${rawResources.length}'`,
    );
  }
  if (Object.keys(outputs).length > LIMITS.outputs) {
    throw invalidTemplate(
      `The number of template outputs limit exceeded. Limit: '${LIMITS.outputs}' and actual: '${Object.keys(outputs).length}'`,
    );
  }

  const baseCtx = {
    subscription: {
      subscriptionId: scope.subscriptionId,
      tenantId: scope.tenantId,
      displayName: scope.subscriptionDisplayName,
    },
    resourceGroup: {
      name: scope.resourceGroup,
      location: scope.location,
      id: rgId(scope.subscriptionId, scope.resourceGroup),
    },
    deployment: deploymentFunctionValue(scope, template),
  };
  const resolution = resolveTemplateParameters(defs, supplied, baseCtx);
  if (resolution.unknown.length > 0) {
    throw invalidTemplate(
      `The template parameters '${resolution.unknown.join(', ')}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '${Object.keys(defs).join(', ')}'. Please see https://aka.ms/arm-pass-parameter-values for usage details`,
    );
  }
  if (resolution.missing.length > 0) {
    const p = resolution.missing[0];
    throw invalidTemplate(
      `The value for the template parameter '${p}' at line '1' and column '${column(text(), `"${p}":`)}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details`,
      {
        additionalInfo: [
          {
            type: 'TemplateViolation',
            info: {
              lineNumber: 1,
              linePosition: column(text(), `"${p}":`),
              path: `properties.template.parameters.${p}`,
            },
          },
        ],
      },
    );
  }
  if (resolution.invalid.length > 0) {
    const inv = resolution.invalid[0];
    throw invalidTemplate(
      `The provided value for the template parameter '${inv.name}' at line '1' and column '${column(text(), `"${inv.name}":`)}' is not valid. ${inv.message} Please see https://aka.ms/arm-create-parameter-file for usage details`,
    );
  }

  const evaluator = new ArmEvaluator({ ...baseCtx, parameters: resolution.values, variables });
  for (const v of Object.keys(variables)) {
    try {
      evaluator.variable(v);
    } catch (e) {
      if (e instanceof ArmExpressionError) {
        throw invalidTemplate(
          `The template variable '${v}' is not valid: ${e.message} Please see https://aka.ms/arm-functions for usage details`,
        );
      }
      throw e;
    }
  }

  // Nested child resources are flattened (their type and name are relative to the parent).
  const flat: {
    raw: Record<string, unknown>;
    evaluated: boolean;
    parentType?: string;
    parentName?: string;
  }[] = [];
  for (const r of rawResources) {
    if (!isObject(r)) throw invalidTemplate('Every template resource must be a JSON object');
    flat.push({ raw: r, evaluated: false });
  }

  const planned: PlannedResource[] = [];
  const excluded: { id: string; shortId: string; name: string }[] = [];
  const ids = (type: string, name: string, sub: string, rg: string): { id: string; shortId: string } => {
    const id = buildResourceId(rgId(sub, rg), type, [name]);
    return { id, shortId: id.slice(id.indexOf('/providers/') + '/providers/'.length) };
  };
  for (let i = 0; i < flat.length; i++) {
    const { raw, evaluated, parentType, parentName } = flat[i];
    const rawName = String(raw.name ?? '');
    // Computed only for errors: scanning a large template per resource is costly.
    const at = () => column(text(), JSON.stringify(raw));
    const fail = (msg: string, link = 'https://aka.ms/arm-functions'): never => {
      throw invalidTemplate(
        `The template resource '${rawName}' at line '1' and column '${at()}' is not valid: ${msg} Please see ${link} for usage details`,
      );
    };
    if (raw.copy !== undefined)
      fail('copy loops are not supported by this emulator.', 'https://aka.ms/arm-copy');
    let body: Record<string, unknown>;
    let innerTemplate: unknown;
    const qualify = (t: string, n: string): { type: string; name: string } =>
      parentType && parentName
        ? { type: `${parentType}/${t}`, name: `${parentName}/${n}` }
        : { type: t, name: n };
    try {
      if (raw.condition !== undefined) {
        const cond = evaluated ? raw.condition : evaluator.evaluateValue(raw.condition);
        if (typeof cond !== 'boolean')
          fail(`The condition must evaluate to a Boolean but was '${JSON.stringify(cond)}'.`);
        if (cond === false) {
          const q = qualify(
            String(evaluated ? raw.type : evaluator.evaluateValue(raw.type)),
            String(evaluated ? raw.name : evaluator.evaluateValue(raw.name)),
          );
          try {
            excluded.push({
              ...ids(q.type, q.name, scope.subscriptionId, scope.resourceGroup),
              name: q.name,
            });
          } catch {
            // An excluded resource with a malformed id cannot be depended on anyway.
          }
          continue;
        }
      }
      const isDeployment = lower(String(raw.type ?? '')) === 'microsoft.resources/deployments';
      const props = isObject(raw.properties) ? raw.properties : undefined;
      const inner =
        isDeployment &&
        props &&
        isObject(props.expressionEvaluationOptions) &&
        lower(String(props.expressionEvaluationOptions.scope ?? '')) === 'inner';
      if (evaluated) {
        body = raw;
      } else if (inner && props) {
        // Inner scope: the nested template is evaluated in its own context later.
        innerTemplate = props.template;
        const rest: Record<string, unknown> = { ...raw, properties: { ...props } };
        delete (rest.properties as Record<string, unknown>).template;
        body = evaluator.evaluateValue(rest) as Record<string, unknown>;
      } else {
        body = evaluator.evaluateValue(raw) as Record<string, unknown>;
      }
    } catch (e) {
      if (e instanceof ArmExpressionError) fail(e.message);
      throw e;
    }
    const { type, name } = qualify(String(body.type ?? ''), String(body.name ?? ''));
    if (Array.isArray(body.resources)) {
      for (const child of body.resources) {
        if (isObject(child)) flat.push({ raw: child, evaluated: true, parentType: type, parentName: name });
      }
      body = { ...body };
      delete body.resources;
    }
    if (!type.includes('/') || !name)
      fail(
        "The resource must have a 'type' (namespace/type) and a 'name'.",
        'https://aka.ms/arm-syntax-resources',
      );
    const typeSegs = type.split('/');
    const nameSegs = name.split('/');
    if (nameSegs.length !== typeSegs.length - 1) {
      throw invalidTemplate(
        `The template resource '${name}' for type '${type}' at line '1' and column '${at()}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-syntax-resources for usage details`,
      );
    }
    if (typeof body.apiVersion !== 'string' || body.apiVersion === '')
      fail("The resource must have an 'apiVersion'.", 'https://aka.ms/arm-syntax-resources');
    const targetSub = typeof body.subscriptionId === 'string' ? body.subscriptionId : scope.subscriptionId;
    const targetRg = typeof body.resourceGroup === 'string' ? body.resourceGroup : scope.resourceGroup;
    planned.push({
      rawName,
      name,
      type,
      apiVersion: String(body.apiVersion),
      ...ids(type, name, targetSub, targetRg),
      body,
      dependsOn: Array.isArray(body.dependsOn) ? body.dependsOn.map(String) : [],
      innerTemplate,
      targetSubscriptionId: targetSub,
      targetResourceGroup: targetRg,
    });
  }

  // Duplicate ids.
  const byId = new Map<string, PlannedResource>();
  for (const r of planned) {
    const k = lower(r.id);
    if (byId.has(k)) {
      throw invalidTemplate(
        `The resource '${r.id}' at line '1' and column '${column(text(), r.rawName)}' is defined multiple times in a template. Please see https://aka.ms/arm-syntax-resources for usage details`,
      );
    }
    byId.set(k, r);
  }

  // dependsOn: a full id, 'Namespace/type/name/…' (what ADF exports build), or a resource name.
  const matchesRef = (p: { id: string; shortId: string; name: string }, ref: string): boolean =>
    lower(p.id) === ref ||
    lower(p.shortId) === ref ||
    lower(`/providers/${p.shortId}`) === ref ||
    lower(p.name) === ref;
  for (const r of planned) {
    const resolved: string[] = [];
    for (const dep of r.dependsOn) {
      const ref = lower(dep);
      const matches = planned.filter((p) => matchesRef(p, ref));
      if (matches.length === 0) {
        // Depending on a resource switched off by its condition is allowed and ignored.
        if (excluded.some((p) => matchesRef(p, ref))) continue;
        throw invalidTemplate(
          `The resource '${dep}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details`,
        );
      }
      for (const m of matches) if (m !== r) resolved.push(m.id);
    }
    r.dependsOn = [...new Set(resolved)];
  }

  // Cycles.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (r: PlannedResource): void => {
    const k = lower(r.id);
    const s = state.get(k);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw invalidTemplate(
        `Circular dependency detected on resource: '${r.id}'. Please see https://aka.ms/arm-template/#resources for usage details`,
      );
    }
    state.set(k, 'visiting');
    for (const d of r.dependsOn) visit(byId.get(lower(d))!);
    state.set(k, 'done');
  };
  for (const r of planned) visit(r);

  const types: Record<string, string> = {};
  for (const [n, d] of Object.entries(defs)) types[n] = String(d?.type ?? 'string');
  return {
    resources: planned,
    parameters: resolution.values,
    secureParameters: resolution.secure,
    parameterTypes: types,
    outputs,
    evaluator,
    templateHash: templateHash(template),
  };
}

export function deploymentFunctionValue(
  scope: DeploymentScope,
  template: Record<string, unknown>,
): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    template: { contentVersion: template.contentVersion ?? '1.0.0.0' },
    templateHash: templateHash(template),
    parameters: {},
    mode: 'Incremental',
    provisioningState: 'Accepted',
  };
  if (scope.templateLinkUri) properties.templateLink = { uri: scope.templateLinkUri };
  return {
    name: scope.deploymentName,
    properties,
    location: scope.location,
  };
}

/** Evaluates the outputs section: {name: {type, value}}. Throws AzureError. */
export function evaluateOutputs(
  prepared: PreparedTemplate,
): Record<string, { type: string; value: unknown }> {
  const out: Record<string, { type: string; value: unknown }> = {};
  for (const [name, def] of Object.entries(prepared.outputs)) {
    if (!isObject(def)) continue;
    try {
      if (def.condition !== undefined && prepared.evaluator.evaluateValue(def.condition) === false) continue;
      out[name] = {
        type: PRETTY_TYPES[lower(String(def.type ?? 'string'))] ?? String(def.type),
        value: prepared.evaluator.evaluateValue(def.value),
      };
    } catch (e) {
      if (e instanceof ArmExpressionError) {
        throw azureError(
          400,
          'DeploymentOutputEvaluationFailed',
          `Unable to evaluate template outputs: '${name}'. ${e.message}`,
        );
      }
      throw e;
    }
  }
  return out;
}

/** The `parameters` echo of a deployment: secure values are hidden. */
export function parametersEcho(p: PreparedTemplate): Record<string, { type: string; value?: unknown }> {
  const out: Record<string, { type: string; value?: unknown }> = {};
  for (const [name, value] of Object.entries(p.parameters)) {
    const type = PRETTY_TYPES[lower(p.parameterTypes[name] ?? 'string')] ?? 'String';
    out[name] = p.secureParameters.includes(name) ? { type } : { type, value };
  }
  return out;
}
