/**
 * References between factory objects: every {"referenceName": "...", "type": "XxxReference"}
 * inside an object's properties, plus the implicit link from a managed private
 * endpoint to its managed virtual network.
 */
import { KINDS, type AdfObject, type ObjectKind } from './model';
import type { JsonPath } from './json-position';

export interface ObjectReference {
  kind: ObjectKind;
  name: string;
  /** Path of the referenceName value inside the file (for annotations). */
  path: JsonPath;
}

const KIND_BY_REF_TYPE = new Map<string, ObjectKind>(
  KINDS.filter((k) => k.referenceType).map((k) => [(k.referenceType as string).toLowerCase(), k.kind]),
);

/** Integration runtimes every factory has without a file in git. */
export const BUILT_IN_INTEGRATION_RUNTIMES = new Set(['autoresolveintegrationruntime']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asReference(v: unknown): { kind: ObjectKind; name: string } | undefined {
  if (!isPlainObject(v)) return undefined;
  const t = v.type;
  const n = v.referenceName;
  if (typeof t !== 'string' || typeof n !== 'string' || n === '') return undefined;
  const kind = KIND_BY_REF_TYPE.get(t.toLowerCase());
  return kind ? { kind, name: n } : undefined;
}

/** Containers whose activities the portal walks with the top level (Switch cases are not among them). */
const CHILD_ACTIVITY_KEYS = ['activities', 'ifTrueActivities', 'ifFalseActivities'];

/**
 * Every reference in an object, in the order the portal lists dependsOn:
 *
 * 1. pipelines only: the activities' own references (at most two levels into the
 *    activity: linkedServiceName, inputs, outputs, typeProperties.dataset, .pipeline,
 *    .dataflow, .connectVia, .scriptLinkedService...; in document order), activity by
 *    activity, level by level through ForEach/Until/IfCondition bodies;
 * 2. then every other reference, breadth first through the JSON (so shallower
 *    ones, like connectVia, come before deeper ones, like Key Vault stores).
 *
 * Checked against public ARMTemplateForFactory.json files and their git folders.
 */
export function collectReferences(o: Pick<AdfObject, 'kind' | 'json' | 'parent'>): ObjectReference[] {
  const out: ObjectReference[] = [];
  if (o.kind === 'managedPrivateEndpoint' && o.parent) {
    out.push({ kind: 'managedVirtualNetwork', name: o.parent, path: ['name'] });
  }
  const taken = new Set<string>();
  const take = (v: unknown, path: Array<string | number>): void => {
    const ref = asReference(v);
    if (!ref) return;
    const key = path.join('\u0000');
    if (taken.has(key)) return;
    taken.add(key);
    out.push({ ...ref, path: [...path, 'referenceName'] });
  };

  const props = o.json.properties;
  if (o.kind === 'pipeline' && isPlainObject(props) && Array.isArray(props.activities)) {
    const queue: Array<{ list: unknown[]; path: Array<string | number> }> = [
      { list: props.activities, path: ['properties', 'activities'] },
    ];
    for (let qi = 0; qi < queue.length; qi++) {
      const { list, path } = queue[qi];
      list.forEach((activity, i) => {
        if (!isPlainObject(activity)) return;
        const ap = [...path, i];
        // The activity's own references: at most two levels down (linkedServiceName,
        // inputs[i], typeProperties.dataset/scriptLinkedService/connectVia...), in document order.
        const near = (v: unknown, p: Array<string | number>, depth: number): void => {
          if (asReference(v)) {
            take(v, p);
            return;
          }
          if (depth >= 2) return;
          if (Array.isArray(v)) v.forEach((x, j) => near(x, [...p, j], depth + 1));
          else if (isPlainObject(v)) for (const k of Object.keys(v)) near(v[k], [...p, k], depth + 1);
        };
        for (const k of Object.keys(activity)) near(activity[k], [...ap, k], 1);
        const tp = activity.typeProperties;
        if (isPlainObject(tp)) {
          for (const ck of CHILD_ACTIVITY_KEYS) {
            const children = tp[ck];
            if (Array.isArray(children)) queue.push({ list: children, path: [...ap, 'typeProperties', ck] });
          }
        }
      });
    }
  }

  // Breadth first through everything else.
  const queue: Array<{ v: unknown; path: Array<string | number> }> = [{ v: props, path: ['properties'] }];
  for (let qi = 0; qi < queue.length; qi++) {
    const { v, path } = queue[qi];
    take(v, path);
    if (Array.isArray(v)) v.forEach((x, i) => queue.push({ v: x, path: [...path, i] }));
    else if (isPlainObject(v)) for (const k of Object.keys(v)) queue.push({ v: v[k], path: [...path, k] });
  }
  return out;
}
