/**
 * Backup of the live definitions a deployment is about to overwrite or delete,
 * written as an ARM template in the shape of an ADF export so that redeploying
 * it (with this task) rolls those objects back. Secure values cannot be backed
 * up: the service never returns them.
 */
import { armTypeOf } from '../factory-client';
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
  const resources = ordered.map(({ o }) => ({
    name: `[concat(parameters('factoryName'), '/${o.name.replace(/'/g, "''")}')]`,
    type: armTypeOf(o.type),
    apiVersion: '2018-06-01',
    properties: o.properties,
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
      description: `Live definitions of ${live.length} object(s) of factory ${meta.factoryName} saved before deployment ${meta.deploymentName} changed or deleted them. Secure values are masked by the service and must be supplied again.`,
      createdAt: meta.createdAt,
    },
    parameters: { factoryName: { type: 'string', defaultValue: meta.factoryName } },
    variables: { factoryId: "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]" },
    resources,
  };
  return { text: `${JSON.stringify(template, null, 2)}\n`, count: live.length };
}
