/**
 * Backup of the live definitions a deployment is about to overwrite or delete,
 * written as an ARM template in the shape of an ADF export so that redeploying
 * it (with this task) rolls those objects back. Strings are escaped so ARM
 * keeps "[dbo].[Customers]" literal. Secure values cannot be backed up (the
 * service never returns them): each becomes a secureString parameter of the
 * backup template, to be supplied when redeploying it.
 */
import { escapeArmString } from '../export-arm';
import { armTypeOf } from '../factory-client';
import { SECURE_MASK } from './compare';
import { dependencyLevels } from './graph';
import type { LiveObject, PlanItem } from './plan';
import { objectKey, referencedKeys } from './resources';

export interface Backup {
  /** The template text. */
  text: string;
  /** How many objects it holds. */
  count: number;
}

function resourceIdExpr(o: LiveObject): string {
  const arm = armTypeOf(o.type).replace(/^Microsoft\.DataFactory\/factories\//, '');
  if (o.type === 'managedPrivateEndpoints') {
    const [vnet, mpe] = o.name.split('/');
    return `[concat(variables('factoryId'), '/managedVirtualNetworks/${vnet}/managedPrivateEndpoints/${mpe}')]`;
  }
  return `[concat(variables('factoryId'), '/${arm}/${o.name.replace(/'/g, "''")}')]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A parameter name from the object name and property path, as the portal names them (letters, digits, '_'). */
function parameterName(objectName: string, pathParts: string[], taken: Set<string>): string {
  const parts = pathParts.filter((p) => p !== 'typeProperties' && p !== 'value');
  const base = [objectName, ...(parts.length > 0 ? parts : ['secret'])]
    .join('_')
    .replace(/[^A-Za-z0-9_]/g, '_');
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base}_${i}`;
  taken.add(name.toLowerCase());
  return name;
}

/**
 * Live properties as template values: every string escaped for ARM, and every
 * SecureString value (masked by the service) replaced by a new secureString parameter.
 */
function templateValue(
  v: unknown,
  objectName: string,
  pathParts: string[],
  params: Record<string, Record<string, unknown>>,
  taken: Set<string>,
): unknown {
  if (typeof v === 'string') return escapeArmString(v);
  if (Array.isArray(v))
    return v.map((x, i) => templateValue(x, objectName, [...pathParts, String(i)], params, taken));
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  const secure = typeof v.type === 'string' && v.type.toLowerCase() === 'securestring' && 'value' in v;
  for (const [k, x] of Object.entries(v)) {
    if (secure && k === 'value') {
      const name = parameterName(objectName, pathParts, taken);
      params[name] = {
        type: 'secureString',
        metadata: {
          description: `Secure value of ${objectName} at ${pathParts.join('.') || 'value'}; the service never returns it${x === SECURE_MASK ? '' : ' (it returned a masked value)'}, so supply it again.`,
        },
      };
      out[k] = `[parameters('${name}')]`;
    } else out[k] = templateValue(x, objectName, [...pathParts, k], params, taken);
  }
  return out;
}

/** Builds the backup template from the live side of the items to update or delete. */
export function buildBackup(
  items: PlanItem[],
  meta: { factoryName: string; deploymentName: string; createdAt: string },
): Backup | undefined {
  const live = items.map((i) => i.live).filter((l): l is LiveObject => l !== undefined);
  if (live.length === 0) return undefined;
  const keys = new Set(live.map((o) => objectKey(o.type, o.name)));
  const nodes = live.map((o) => ({
    key: objectKey(o.type, o.name),
    dependsOn: referencedKeys(o.properties),
    o,
  }));
  let ordered: typeof nodes;
  try {
    ordered = dependencyLevels(nodes).flat();
  } catch {
    ordered = nodes;
  }
  const byKey = new Map(nodes.map((n) => [n.key, n.o]));
  const secureParams: Record<string, Record<string, unknown>> = {};
  const taken = new Set(['factoryname']);
  const resources = ordered.map(({ o }) => ({
    name: `[concat(parameters('factoryName'), '/${o.name.replace(/'/g, "''")}')]`,
    type: armTypeOf(o.type),
    apiVersion: '2018-06-01',
    properties: templateValue(o.properties, o.name.replace(/\//g, '_'), [], secureParams, taken),
    dependsOn: referencedKeys(o.properties)
      .filter((k) => keys.has(k))
      .map((k) => byKey.get(k))
      .filter((x): x is LiveObject => x !== undefined)
      .map(resourceIdExpr),
  }));
  const template = {
    $schema: 'http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    metadata: {
      description: `Live definitions of ${live.length} object(s) of factory ${meta.factoryName} saved before deployment ${meta.deploymentName} changed or deleted them. Secure values are not returned by the service: supply each secureString parameter again when redeploying.`,
      createdAt: meta.createdAt,
    },
    parameters: { factoryName: { type: 'string', defaultValue: meta.factoryName }, ...secureParams },
    variables: { factoryId: "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]" },
    resources,
  };
  return { text: `${JSON.stringify(template, null, 2)}\n`, count: live.length };
}
