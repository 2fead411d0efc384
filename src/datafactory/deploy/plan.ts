/**
 * The deployment plan against the live factory: per object create, update (with
 * a property-level diff) or unchanged; deletes of objects the template no longer
 * has (never one that something remaining still references); which started
 * triggers must stop and which triggers start afterwards; dependency levels.
 */
import type { FactoryChildType, FactoryResource } from '../factory-client';
import {
  deepEqual,
  diffDefinitions,
  hasUncomparableValues,
  maskDiffSecrets,
  normalizeDefinition,
  type PropertyDiff,
} from './compare';
import { DeployInputError, listText } from './errors';
import { deletionLevels, dependencyLevels } from './graph';
import { objectKey, referencedKeys, type DesiredObject, type DesiredState } from './resources';

export interface LiveObject {
  type: FactoryChildType;
  name: string;
  properties: Record<string, unknown>;
  etag?: string;
}

export interface LiveFactory {
  factory?: FactoryResource;
  objects: LiveObject[];
}

export type PlanAction = 'create' | 'update' | 'unchanged' | 'delete';

export interface PlanItem {
  key: string;
  type: FactoryChildType;
  name: string;
  action: PlanAction;
  desired?: DesiredObject;
  live?: LiveObject;
  diff: PropertyDiff[];
  /** Why an update is planned without a visible diff, e.g. secure values. */
  reason?: string;
  /** Keys of objects this one needs first (creates/updates) or that need it gone first (deletes). */
  dependsOn: string[];
}

export interface KeptObject {
  type: FactoryChildType;
  name: string;
  referencedBy: string;
}

export interface TriggerPlan {
  /** Started triggers this run stops (they are updated or deleted). */
  stop: string[];
  /** Triggers started after the deployment: the template marks them Started, or this run stopped them. */
  start: string[];
  /** Started triggers that would be updated or deleted while stopTriggers is false. */
  blocked: string[];
}

export interface Plan {
  factoryName: string;
  factoryExists: boolean;
  /** Differences of the factory resource's own properties (template keys only). */
  factoryDiff: PropertyDiff[];
  items: PlanItem[];
  deletes: PlanItem[];
  /** Objects missing from the template that stay because remaining objects reference them. */
  kept: KeptObject[];
  /** Creates and updates, in dependency order. */
  levels: PlanItem[][];
  /** Deletes, dependents first. */
  deleteLevels: PlanItem[][];
  triggers: TriggerPlan;
  /** References to objects neither in the template nor in the factory. */
  missingReferences: { from: string; to: string }[];
}

export interface PlanOptions {
  stopTriggers: boolean;
  deleteRemoved: boolean;
  /**
   * Triggers Resource Manager will PUT whether or not they changed (a linked
   * template ARM fetches itself): they must stop too when started.
   */
  alsoWritten?: ReadonlySet<string>;
}

/** Types deleteRemoved may delete (managed network, endpoints, credentials and global parameters are left alone). */
export const DELETABLE_TYPES: ReadonlySet<FactoryChildType> = new Set([
  'triggers',
  'pipelines',
  'dataflows',
  'datasets',
  'linkedservices',
  'integrationRuntimes',
]);

const BUILT_IN = new Set(['integrationRuntimes:autoresolveintegrationruntime']);

/** Display and tie-break order within a level. */
export const TYPE_ORDER: readonly FactoryChildType[] = [
  'globalParameters',
  'managedVirtualNetworks',
  'managedPrivateEndpoints',
  'integrationRuntimes',
  'credentials',
  'linkedservices',
  'datasets',
  'dataflows',
  'pipelines',
  'adfcdcs',
  'triggers',
];

export function typeRank(t: FactoryChildType): number {
  const i = TYPE_ORDER.indexOf(t);
  return i < 0 ? TYPE_ORDER.length : i;
}

export function liveRuntimeState(o: LiveObject | undefined): string | undefined {
  const rs = o?.properties.runtimeState;
  return typeof rs === 'string' ? rs : undefined;
}

function isStarted(o: LiveObject | undefined): boolean {
  return liveRuntimeState(o)?.toLowerCase() === 'started';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function factoryDiff(
  desired: DesiredState,
  live: FactoryResource | undefined,
  secrets: readonly string[],
): PropertyDiff[] {
  const f = desired.factory;
  if (!f || !live) return [];
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  const liveProps = isObject(live.properties) ? live.properties : {};
  for (const [k, v] of Object.entries(f.properties)) {
    after[k] = v;
    if (k in liveProps) before[k] = liveProps[k];
  }
  if (f.identity && typeof f.identity.type === 'string') {
    after.identityType = f.identity.type;
    if (isObject(live.identity) && typeof live.identity.type === 'string')
      before.identityType = live.identity.type;
  }
  const nb = normalizeDefinition('pipelines', before);
  const na = normalizeDefinition('pipelines', after);
  return deepEqual(nb, na) ? [] : maskDiffSecrets(diffDefinitions(nb, na), secrets);
}

export function buildPlan(desired: DesiredState, live: LiveFactory, opts: PlanOptions): Plan {
  if (opts.deleteRemoved && (desired.unresolved?.length ?? 0) > 0) {
    // Deleting "what the template no longer has" from a partial view would delete what it deploys.
    const list = desired.unresolved ?? [];
    throw new DeployInputError(
      'deleteRemoved',
      `Input 'deleteRemoved' is true, but the plan does not know every object the template deploys, so it cannot tell which objects the template no longer contains: ${listText(list, 10)}. Nothing was changed. Deploy without deleteRemoved, or make the whole template readable: keep the linked templates (ArmTemplate_N.json) next to the master template, or use only the functions an ADF export uses (parameters, variables, concat, resourceId, …).`,
    );
  }
  const secrets = desired.secureValues ?? [];
  const liveByKey = new Map(live.objects.map((o) => [objectKey(o.type, o.name), o]));
  const desiredKeys = new Set(desired.objects.map((o) => objectKey(o.type, o.name)));

  const items: PlanItem[] = desired.objects.map((d) => {
    const key = objectKey(d.type, d.name);
    const l = liveByKey.get(key);
    if (!l)
      return {
        key,
        type: d.type,
        name: d.name,
        action: 'create',
        desired: d,
        diff: [],
        dependsOn: d.dependsOn,
      };
    const nl = normalizeDefinition(d.type, l.properties);
    const nd = normalizeDefinition(d.type, d.properties);
    const diff = deepEqual(nl, nd) ? [] : maskDiffSecrets(diffDefinitions(nl, nd), secrets);
    const uncomparable = hasUncomparableValues(d.properties);
    const action: PlanAction = diff.length > 0 || uncomparable ? 'update' : 'unchanged';
    return {
      key,
      type: d.type,
      name: l.name,
      action,
      desired: d,
      live: l,
      diff,
      reason:
        action === 'update' && diff.length === 0
          ? 'holds secure or Key Vault values, which the service never returns, so it is always written'
          : undefined,
      dependsOn: d.dependsOn,
    };
  });

  // Deletes: live objects of deletable types the template no longer has, unless something remaining references them.
  let candidates = live.objects.filter((o) => {
    const key = objectKey(o.type, o.name);
    return opts.deleteRemoved && DELETABLE_TYPES.has(o.type) && !desiredKeys.has(key) && !BUILT_IN.has(key);
  });
  const kept: KeptObject[] = [];
  for (;;) {
    const deleting = new Set(candidates.map((o) => objectKey(o.type, o.name)));
    const referencedBy = new Map<string, string>();
    const note = (from: string, props: unknown) => {
      for (const k of referencedKeys(props))
        if (deleting.has(k) && !referencedBy.has(k)) referencedBy.set(k, from);
    };
    for (const d of desired.objects) note(`${d.type}/${d.name}`, d.properties);
    for (const o of live.objects) {
      const key = objectKey(o.type, o.name);
      if (!deleting.has(key) && !desiredKeys.has(key)) note(`${o.type}/${o.name}`, o.properties);
    }
    if (referencedBy.size === 0) break;
    candidates = candidates.filter((o) => {
      const by = referencedBy.get(objectKey(o.type, o.name));
      if (by) kept.push({ type: o.type, name: o.name, referencedBy: by });
      return !by;
    });
  }
  const deletes: PlanItem[] = candidates.map((o) => ({
    key: objectKey(o.type, o.name),
    type: o.type,
    name: o.name,
    action: 'delete',
    live: o,
    diff: [],
    dependsOn: referencedKeys(o.properties),
  }));

  const changed = items.filter((i) => i.action === 'create' || i.action === 'update');
  const levels = dependencyLevels(changed, (n) => typeRank(n.type));
  const deleteLevels = deletionLevels(deletes).map((l) =>
    l.sort((a, b) => typeRank(b.type) - typeRank(a.type)),
  );

  // Triggers.
  const written = new Set(changed.map((i) => i.key));
  for (const k of opts.alsoWritten ?? []) if (desiredKeys.has(k)) written.add(k);
  const touchedStarted = [
    ...items.filter((i) => i.type === 'triggers' && written.has(i.key) && isStarted(i.live)),
    ...deletes.filter((i) => i.type === 'triggers' && isStarted(i.live)),
  ].map((i) => i.name);
  const stop = opts.stopTriggers ? touchedStarted : [];
  const stopSet = new Set(stop.map((n) => n.toLowerCase()));
  const start = opts.stopTriggers
    ? items
        .filter((i) => i.type === 'triggers')
        .filter((i) => {
          const willBeStopped = !isStarted(i.live) || stopSet.has(i.name.toLowerCase());
          return (
            willBeStopped && (i.desired?.runtimeState === 'Started' || stopSet.has(i.name.toLowerCase()))
          );
        })
        .map((i) => i.name)
    : [];

  const missingReferences: { from: string; to: string }[] = [];
  for (const d of desired.objects) {
    for (const k of referencedKeys(d.properties)) {
      if (!desiredKeys.has(k) && !liveByKey.has(k) && !BUILT_IN.has(k)) {
        missingReferences.push({ from: `${d.type}/${d.name}`, to: k.replace(':', '/') });
      }
    }
  }

  return {
    factoryName: desired.factoryName,
    factoryExists: live.factory !== undefined,
    factoryDiff: factoryDiff(desired, live.factory, secrets),
    items,
    deletes,
    kept,
    levels,
    deleteLevels,
    triggers: { stop, start, blocked: opts.stopTriggers ? [] : touchedStarted },
    missingReferences,
  };
}

export interface PlanCounts {
  create: number;
  update: number;
  unchanged: number;
  delete: number;
  stop: number;
  start: number;
}

export function planCounts(plan: Plan): PlanCounts {
  const c = (a: PlanAction) => plan.items.filter((i) => i.action === a).length;
  return {
    create: c('create'),
    update: c('update'),
    unchanged: c('unchanged'),
    delete: plan.deletes.length,
    stop: plan.triggers.stop.length,
    start: plan.triggers.start.length,
  };
}
