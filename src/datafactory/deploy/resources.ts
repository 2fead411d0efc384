/**
 * The factory objects a template deploys, evaluated: names, properties and
 * dependsOn go through the shared ARM expression evaluator (parameters,
 * variables, concat, resourceId…), nested deployments are followed (linked
 * templates read from disk, inline templates in place), and anything the
 * evaluator cannot do fails with the resource and expression named.
 */
import {
  ArmEvaluator,
  ArmExpressionError,
  type ArmEvaluationContext,
  type TemplateParameterDefinition,
  resolveTemplateParameters,
} from '../arm-expressions';
import { registerSecret } from '../../common/secrets';
import { childTypeOfArmType, type FactoryChildType } from '../factory-client';
import { DeployInputError, listText } from './errors';
import { isOpaqueValue, OPAQUE_PREFIX } from './parameters';
import { linkedFileName, loadLinkedTemplate, type ArmTemplate } from './template';
import * as path from 'node:path';

export interface DesiredObject {
  type: FactoryChildType;
  /** Name inside the factory ('<vnet>/<endpoint>' for managed private endpoints, 'default' for global parameters). */
  name: string;
  /** Evaluated properties, runtimeState removed. */
  properties: Record<string, unknown>;
  /** For triggers: the runtimeState the template asks for (ARM itself ignores it). */
  runtimeState?: 'Started' | 'Stopped';
  /** Keys ('type:name') of factory objects this one waits for (dependsOn and references). */
  dependsOn: string[];
  /** Template file the resource came from (for messages). */
  source: string;
}

export interface DesiredFactory {
  location?: string;
  identity?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  /** Factory properties other than globalParameters. */
  properties: Record<string, unknown>;
}

export interface DesiredState {
  factoryName: string;
  objects: DesiredObject[];
  /** Present when the template contains the factory resource itself. */
  factory?: DesiredFactory;
  /** Evaluated template outputs ({name: {type, value}}), where they could be evaluated. */
  outputs: Record<string, { type?: string; value: unknown }>;
  warnings: string[];
  /**
   * Resources (or linked templates) whose factory objects could not be worked out
   * locally: the plan does not know every object the deployment writes, so
   * deleteRemoved cannot tell what "no longer in the template" means.
   */
  unresolved?: string[];
  /**
   * Values of secure parameters and every evaluated string that came from an
   * expression using one (registered as secrets): diffs mask strings holding them.
   */
  secureValues?: string[];
}

export interface ExtractOptions {
  template: ArmTemplate;
  /** Resolved parameter values. */
  parameters: Record<string, unknown>;
  factoryName: string;
  subscriptionId: string;
  resourceGroupName: string;
  /** Resource group location for resourceGroup().location. */
  location?: string;
  deploymentName: string;
  /** The template file (linked templates are looked up next to it). */
  templateFile: string;
  /** Follow links to template files on disk (direct) or not (arm: ARM fetches them). */
  readLinkedTemplates: boolean;
  /** How to report a problem: 'error' (direct must deploy it) or collect a warning (arm only plans). */
  strict: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectKey(type: FactoryChildType, name: string): string {
  return `${type}:${name.toLowerCase()}`;
}

const REFERENCE_TYPES: Record<string, FactoryChildType> = {
  linkedservicereference: 'linkedservices',
  datasetreference: 'datasets',
  pipelinereference: 'pipelines',
  dataflowreference: 'dataflows',
  integrationruntimereference: 'integrationRuntimes',
  credentialreference: 'credentials',
  managedvirtualnetworkreference: 'managedVirtualNetworks',
  // Tumbling window dependencies: {referenceTrigger: {referenceName, type: 'TriggerReference'}}.
  triggerreference: 'triggers',
};

/** Static {referenceName, type:'XxxReference'} inside a definition, as object keys (dynamic '@…' names skipped). */
export function referencedKeys(properties: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      const t = typeof v.type === 'string' ? REFERENCE_TYPES[v.type.toLowerCase()] : undefined;
      if (t && typeof v.referenceName === 'string' && v.referenceName && !v.referenceName.startsWith('@')) {
        out.add(objectKey(t, v.referenceName));
      }
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(properties);
  return [...out];
}

/** 'Microsoft.DataFactory/factories/f/pipelines/p' or a full id → the object key, or undefined. */
export function keyOfResourceId(id: string): string | undefined {
  const m =
    /providers\/Microsoft\.DataFactory\/factories\/[^/]+\/(.+)$/i.exec(id) ??
    /^Microsoft\.DataFactory\/factories\/[^/]+\/(.+)$/i.exec(id);
  if (!m) return undefined;
  const segs = m[1].split('/');
  if (segs.length === 2) {
    const t = childTypeOfArmType(`Microsoft.DataFactory/factories/${segs[0]}`);
    return t ? objectKey(t, segs[1]) : undefined;
  }
  if (
    segs.length === 4 &&
    segs[0].toLowerCase() === 'managedvirtualnetworks' &&
    segs[2].toLowerCase() === 'managedprivateendpoints'
  ) {
    return objectKey('managedPrivateEndpoints', `${segs[1]}/${segs[3]}`);
  }
  return undefined;
}

function describeResource(r: Record<string, unknown>, source: string): string {
  const name = typeof r.name === 'string' ? r.name : '(unnamed)';
  return `resource ${name} (${String(r.type ?? 'no type')}) in ${path.basename(source)}`;
}

const SECURE_TYPES = new Set(['securestring', 'secureobject']);

function namesIn(text: string, fn: 'parameters' | 'variables'): string[] {
  const re = new RegExp(`${fn}\\s*\\(\\s*'((?:[^']|'')*)'\\s*\\)`, 'gi');
  return [...text.matchAll(re)].map((m) => m[1].replace(/''/g, "'").toLowerCase());
}

/**
 * Which expressions of one template scope read a secure value: those naming a
 * secureString/secureObject parameter, or a variable built from one.
 */
class SecureScope {
  private readonly params: Set<string>;
  private readonly vars = new Set<string>();

  constructor(template: ArmTemplate) {
    const defs = (template.parameters ?? {}) as Record<string, { type?: unknown }>;
    this.params = new Set(
      Object.entries(defs)
        .filter(([, d]) => SECURE_TYPES.has(String(d?.type ?? '').toLowerCase()))
        .map(([n]) => n.toLowerCase()),
    );
    const raw = Object.entries(template.variables ?? {}).map(
      ([n, v]) => [n.toLowerCase(), JSON.stringify(v) ?? ''] as const,
    );
    // Variables may build on each other: repeat until nothing new is secure.
    for (let grew = this.params.size > 0; grew;) {
      grew = false;
      for (const [n, text] of raw) {
        if (!this.vars.has(n) && this.mentionsSecure(text)) {
          this.vars.add(n);
          grew = true;
        }
      }
    }
  }

  get secureParameters(): string[] {
    return [...this.params];
  }

  mentionsSecure(text: string): boolean {
    if (this.params.size === 0) return false;
    return (
      namesIn(text, 'parameters').some((n) => this.params.has(n)) ||
      namesIn(text, 'variables').some((n) => this.vars.has(n))
    );
  }
}

function isExpression(s: string): boolean {
  return s.startsWith('[') && s.endsWith(']') && !s.startsWith('[[');
}

class Extractor {
  readonly objects: DesiredObject[] = [];
  factory?: DesiredFactory;
  readonly warnings: string[] = [];
  readonly unresolved: string[] = [];
  readonly secureValues = new Set<string>();

  constructor(private readonly opts: ExtractOptions) {}

  /** unresolved: factory objects may hide behind the problem (false for a non-Data Factory resource). */
  private problem(message: string, what?: string): void {
    if (this.opts.strict) throw new DeployInputError('templateFile', message);
    this.warnings.push(message);
    if (what) this.unresolved.push(what);
  }

  /** Remembers (and registers as secrets) the string leaves of a secure value. */
  addSecure(v: unknown): void {
    if (typeof v === 'string') {
      if (v !== '' && !isOpaqueValue(v) && !this.secureValues.has(v)) {
        this.secureValues.add(v);
        registerSecret(v);
      }
    } else if (Array.isArray(v)) v.forEach((x) => this.addSecure(x));
    else if (isObject(v)) Object.values(v).forEach((x) => this.addSecure(x));
  }

  /** Values in `evaluated` whose template expression (same place in `raw`) reads a secure value. */
  private secureDerived(raw: unknown, evaluated: unknown, scope: SecureScope): void {
    if (typeof raw === 'string') {
      if (isExpression(raw) && scope.mentionsSecure(raw)) this.addSecure(evaluated);
    } else if (Array.isArray(raw)) {
      if (Array.isArray(evaluated)) raw.forEach((x, i) => this.secureDerived(x, evaluated[i], scope));
    } else if (isObject(raw) && isObject(evaluated)) {
      for (const [k, x] of Object.entries(raw)) this.secureDerived(x, evaluated[k], scope);
    }
  }

  private evaluator(template: ArmTemplate, parameters: Record<string, unknown>): ArmEvaluator {
    const ctx: ArmEvaluationContext = {
      parameters,
      variables: template.variables ?? {},
      subscription: { subscriptionId: this.opts.subscriptionId },
      resourceGroup: {
        name: this.opts.resourceGroupName,
        location: this.opts.location ?? '',
        id: `/subscriptions/${this.opts.subscriptionId}/resourceGroups/${this.opts.resourceGroupName}`,
      },
      deployment: { name: this.opts.deploymentName, properties: {} },
    };
    return new ArmEvaluator(ctx);
  }

  run(
    template: ArmTemplate,
    parameters: Record<string, unknown>,
    source: string,
    depth: number,
    outerScope?: { ev: ArmEvaluator; secure: SecureScope },
  ): ArmEvaluator {
    const ev = outerScope?.ev ?? this.evaluator(template, parameters);
    const secure = outerScope?.secure ?? new SecureScope(template);
    if (!outerScope) for (const n of secure.secureParameters) this.addSecure(lookup(parameters, n));
    for (const raw of template.resources ?? []) {
      if (!isObject(raw)) continue;
      try {
        this.resource(raw, ev, secure, source, depth);
      } catch (e) {
        if (e instanceof ArmExpressionError) {
          this.problem(
            `Cannot evaluate ${describeResource(raw, source)}: ${e.message} Functions an ADF export uses (parameters, variables, concat, resourceId, …) are supported; for anything else use deploymentMethod 'arm'.`,
            `${describeResource(raw, source)} (${e.message})`,
          );
          continue;
        }
        throw e;
      }
    }
    return ev;
  }

  private resource(
    r: Record<string, unknown>,
    ev: ArmEvaluator,
    secure: SecureScope,
    source: string,
    depth: number,
  ): void {
    if (r.copy !== undefined) {
      this.problem(
        `${describeResource(r, source)} uses a copy loop, which deploymentMethod 'direct' does not support; use 'arm'.`,
        `${describeResource(r, source)} (a copy loop)`,
      );
      return;
    }
    if (r.condition !== undefined) {
      const cond = ev.evaluateValue(r.condition);
      if (cond === false) return;
    }
    const type = typeof r.type === 'string' ? r.type : '';
    const lower = type.toLowerCase();
    if (lower === 'microsoft.resources/deployments') {
      this.nested(r, ev, secure, source, depth);
      return;
    }
    const name = String(ev.evaluateValue(r.name));
    if (lower === 'microsoft.datafactory/factories') {
      this.checkFactory(name, r, source);
      this.factoryResource(r, ev, secure);
      return;
    }
    const childType = childTypeOfArmType(type);
    if (!childType) {
      this.problem(
        `${describeResource(r, source)} is not a Data Factory object; deploymentMethod 'direct' deploys only Data Factory resources. Use 'arm' for this template.`,
      );
      return;
    }
    const slash = name.indexOf('/');
    const factory = slash < 0 ? name : name.slice(0, slash);
    const objectName = slash < 0 ? '' : name.slice(slash + 1);
    this.checkFactory(factory, r, source);
    if (!objectName) {
      this.problem(
        `${describeResource(r, source)} has no object name after the factory name ('${name}').`,
        `${describeResource(r, source)} (no object name)`,
      );
      return;
    }
    const props = ev.evaluateValue(r.properties ?? {});
    if (!isObject(props)) {
      this.problem(
        `${describeResource(r, source)}: properties must be an object.`,
        `${describeResource(r, source)} (properties are not an object)`,
      );
      return;
    }
    this.secureDerived(r.properties, props, secure);
    let runtimeState: 'Started' | 'Stopped' | undefined;
    if (childType === 'triggers') {
      const rs = props.runtimeState;
      runtimeState = typeof rs === 'string' && rs.toLowerCase() === 'started' ? 'Started' : 'Stopped';
      delete props.runtimeState;
    }
    const deps = new Set<string>();
    for (const d of Array.isArray(r.dependsOn) ? r.dependsOn : []) {
      if (typeof d !== 'string') continue;
      const v = ev.evaluateValue(d);
      const key = typeof v === 'string' ? keyOfResourceId(v) : undefined;
      if (key) deps.add(key);
    }
    for (const k of referencedKeys(props)) deps.add(k);
    if (childType === 'managedPrivateEndpoints')
      deps.add(objectKey('managedVirtualNetworks', objectName.split('/')[0]));
    const self = objectKey(childType, objectName);
    deps.delete(self);
    this.objects.push({
      type: childType,
      name: objectName,
      properties: props,
      runtimeState,
      dependsOn: [...deps],
      source,
    });
  }

  private checkFactory(factory: string, r: Record<string, unknown>, source: string): void {
    if (factory.toLowerCase() !== this.opts.factoryName.toLowerCase()) {
      throw new DeployInputError(
        'factoryName',
        `${describeResource(r, source)} targets factory '${factory}', not '${this.opts.factoryName}' (input 'factoryName'). Set the template's factory name parameter to the target factory.`,
      );
    }
  }

  private factoryResource(r: Record<string, unknown>, ev: ArmEvaluator, secure: SecureScope): void {
    const props = ev.evaluateValue(r.properties ?? {});
    this.secureDerived(r.properties, props, secure);
    const p = isObject(props) ? { ...props } : {};
    const gp = p.globalParameters;
    delete p.globalParameters;
    const location = r.location !== undefined ? ev.evaluateValue(r.location) : undefined;
    const identity = r.identity !== undefined ? ev.evaluateValue(r.identity) : undefined;
    const tags = r.tags !== undefined ? ev.evaluateValue(r.tags) : undefined;
    this.factory = {
      location: typeof location === 'string' ? location : undefined,
      identity: isObject(identity) ? identity : undefined,
      tags: isObject(tags) ? tags : undefined,
      properties: p,
    };
    if (isObject(gp)) {
      this.objects.push({
        type: 'globalParameters',
        name: 'default',
        properties: gp,
        dependsOn: [],
        source: 'factory resource',
      });
    }
  }

  private nested(
    r: Record<string, unknown>,
    ev: ArmEvaluator,
    secure: SecureScope,
    source: string,
    depth: number,
  ): void {
    if (depth > 3) {
      this.problem(
        `${describeResource(r, source)}: nested deployments deeper than 3 levels are not supported by 'direct'.`,
        `${describeResource(r, source)} (nested more than 3 levels deep)`,
      );
      return;
    }
    const props = isObject(r.properties) ? r.properties : {};
    let inner: ArmTemplate | undefined;
    let innerSource = source;
    if (isObject(props.template)) {
      inner = props.template as ArmTemplate;
      const outer =
        isObject(props.expressionEvaluationOptions) &&
        String(props.expressionEvaluationOptions.scope ?? '').toLowerCase() !== 'inner';
      if (outer || !isObject(props.expressionEvaluationOptions)) {
        // Outer scope: expressions inside use the parent's parameters and variables.
        this.run(inner, {}, source, depth + 1, { ev, secure });
        return;
      }
    } else if (isObject(props.templateLink)) {
      const fileName = linkedFileName(r);
      if (!this.opts.readLinkedTemplates) {
        // Resource Manager fetches it; locally its objects stay unknown.
        this.unresolved.push(
          `${describeResource(r, source)} (linked template ${fileName ?? 'from templateLink'} not read: not found next to ${path.basename(this.opts.templateFile)})`,
        );
        return;
      }
      if (!fileName) {
        this.problem(
          `${describeResource(r, source)} links to a template whose file name cannot be read from templateLink.`,
          `${describeResource(r, source)} (linked template file name unknown)`,
        );
        return;
      }
      innerSource = path.resolve(path.dirname(source), fileName);
      inner = loadLinkedTemplate(
        {
          rawName: typeof r.name === 'string' ? r.name : '(unnamed)',
          fileName,
          localPath: innerSource,
        },
        // Every linked template, at any depth, stays inside the master template's folder.
        path.dirname(path.resolve(this.opts.templateFile)),
        source,
      );
    }
    if (!inner) return;
    // Parameters passed to the nested template, evaluated in the parent's scope.
    const passed: Record<string, unknown> = {};
    if (isObject(props.parameters)) {
      for (const [k, v] of Object.entries(props.parameters)) {
        if (isObject(v) && 'value' in v) {
          passed[k] = ev.evaluateValue(v.value);
          this.secureDerived(v.value, passed[k], secure);
        } else if (isObject(v) && isObject(v.reference)) passed[k] = `${OPAQUE_PREFIX}keyvault:${k}`;
      }
    }
    const res = resolveTemplateParameters(
      (inner.parameters ?? {}) as Record<string, TemplateParameterDefinition>,
      passed,
    );
    if (res.missing.length > 0 || res.unknown.length > 0) {
      this.problem(
        `${describeResource(r, source)}: the linked template ${path.basename(innerSource)} ${res.missing.length > 0 ? `needs ${listText(res.missing)}` : `does not declare ${listText(res.unknown)}`}.`,
        `${describeResource(r, source)} (parameters of ${path.basename(innerSource)} do not match)`,
      );
      return;
    }
    this.run(inner, res.values, innerSource, depth + 1);
  }
}

/** The factory objects of a template, evaluated, plus the factory resource and outputs. */
export function extractDesiredState(opts: ExtractOptions): DesiredState {
  const x = new Extractor(opts);
  const ev = x.run(opts.template, opts.parameters, opts.templateFile, 0);
  // Duplicates (the same object twice, e.g. in two linked templates) are an error for ARM too.
  const seen = new Map<string, DesiredObject>();
  const dups: string[] = [];
  for (const o of x.objects) {
    const k = objectKey(o.type, o.name);
    if (seen.has(k)) dups.push(`${o.type}/${o.name}`);
    seen.set(k, o);
  }
  if (dups.length > 0) {
    throw new DeployInputError('templateFile', `The template defines ${listText(dups)} more than once.`);
  }
  const outputs: Record<string, { type?: string; value: unknown }> = {};
  for (const [name, o] of Object.entries(opts.template.outputs ?? {})) {
    try {
      outputs[name] = { type: o.type, value: ev.evaluateValue(o.value) };
    } catch (e) {
      x.warnings.push(`Output '${name}' cannot be evaluated locally: ${(e as Error).message}`);
    }
  }
  return {
    factoryName: opts.factoryName,
    objects: [...seen.values()],
    factory: x.factory,
    outputs,
    warnings: x.warnings,
    unresolved: x.unresolved,
    secureValues: [...x.secureValues],
  };
}

/** A parameter value by case-insensitive name. */
function lookup(values: Record<string, unknown>, lowerName: string): unknown {
  const k = Object.keys(values).find((n) => n.toLowerCase() === lowerName);
  return k === undefined ? undefined : values[k];
}

/** Whether a value holds something that cannot be compared with the live factory (Key Vault placeholders). */
export function containsOpaque(v: unknown): boolean {
  if (isOpaqueValue(v)) return true;
  if (Array.isArray(v)) return v.some(containsOpaque);
  if (isObject(v)) return Object.values(v).some(containsOpaque);
  return false;
}
