/**
 * Linked templates the way the portal writes them (linkedTemplates/ in
 * adf_publish): resources re-ordered so every resource comes after what it
 * depends on (a stable sort by dependency depth), cut into templates of 20
 * resources, chained by ArmTemplate_master.json as Microsoft.Resources/deployments
 * that read ArmTemplate_N.json from containerUri + containerSasToken.
 * A child template keeps only the dependsOn entries inside itself (the
 * chaining orders the rest) and only the parameters it uses.
 */
import {
  FACTORY_ID_VARIABLE,
  PARAMETERS_SCHEMA,
  TEMPLATE_SCHEMA,
  parameterExpression,
  type ArmExport,
  type ArmParametersFile,
  type ArmTemplate,
  type ExportedResource,
} from './export-arm';

/** Resources per linked template, as the portal splits them. */
export const PORTAL_RESOURCES_PER_TEMPLATE = 20;
export const DEPLOYMENTS_API_VERSION = '2024-03-01';

export interface LinkedTemplateOptions {
  factoryName: string;
  resourcesPerTemplate?: number;
}

export interface LinkedTemplates {
  master: ArmTemplate;
  masterParameters: ArmParametersFile;
  /** ArmTemplate_0.json, ArmTemplate_1.json, ... */
  children: ArmTemplate[];
}

/** Stable sort by dependency depth (0 for resources that depend on nothing in the template). */
export function orderByDependencyDepth(resources: ExportedResource[]): ExportedResource[] {
  const byId = new Map(resources.map((r) => [r.id, r]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (r: ExportedResource): number => {
    const known = depth.get(r.id);
    if (known !== undefined) return known;
    if (visiting.has(r.id)) return 0; // a cycle (reported by validation); do not loop
    visiting.add(r.id);
    let d = 0;
    for (const id of r.dependsOnIds) {
      const dep = byId.get(id);
      if (dep) d = Math.max(d, depthOf(dep) + 1);
    }
    visiting.delete(r.id);
    depth.set(r.id, d);
    return d;
  };
  return resources
    .map((r, i) => ({ r, i, d: depthOf(r) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.r);
}

export function buildLinkedTemplates(exp: ArmExport, options: LinkedTemplateOptions): LinkedTemplates {
  const per = Math.max(1, options.resourcesPerTemplate ?? PORTAL_RESOURCES_PER_TEMPLATE);
  const ordered = orderByDependencyDepth(exp.resources);
  const children: ArmTemplate[] = [];
  const childParams: string[][] = [];
  for (let start = 0; start < ordered.length; start += per) {
    const chunk = ordered.slice(start, start + per);
    const ids = new Set(chunk.map((r) => r.id));
    const secure: string[] = [];
    const plain: string[] = [];
    const seen = new Set<string>();
    for (const r of chunk) {
      for (const name of r.parameterNames) {
        if (seen.has(name)) continue;
        seen.add(name);
        (exp.secureParameters.has(name) ? secure : plain).push(name);
      }
    }
    const names = [...secure, ...plain];
    childParams.push(names);
    const parameters: ArmTemplate['parameters'] = { factoryName: exp.template.parameters.factoryName };
    for (const n of names) parameters[n] = exp.template.parameters[n];
    children.push({
      $schema: TEMPLATE_SCHEMA,
      contentVersion: '1.0.0.0',
      parameters,
      variables: { factoryId: FACTORY_ID_VARIABLE },
      resources: chunk.map((r) => ({
        ...r.resource,
        dependsOn: r.dependsOnIds
          .map((id, k) => ({ id, expr: r.resource.dependsOn[k] }))
          .filter((x) => ids.has(x.id))
          .map((x) => x.expr),
      })),
    });
  }

  const masterParameters: ArmTemplate['parameters'] = { ...exp.template.parameters };
  masterParameters.containerUri = {
    type: 'string',
    metadata: 'URI to storage account containing linked ARM templates',
  };
  masterParameters.containerSasToken = {
    type: 'string',
    metadata: 'Sas token to storage account containing linked ARM templates',
  };
  const deploymentName = (i: number): string => `${options.factoryName}_ArmTemplate_${i}`;
  const master: ArmTemplate = {
    $schema: TEMPLATE_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: masterParameters,
    variables: { factoryId: FACTORY_ID_VARIABLE },
    resources: children.map((_, i) => ({
      name: deploymentName(i),
      type: 'Microsoft.Resources/deployments',
      apiVersion: DEPLOYMENTS_API_VERSION,
      properties: {
        mode: 'incremental',
        templateLink: {
          uri: `[concat(parameters('containerUri'), '/ArmTemplate_${i}.json', parameters('containerSasToken'))]`,
          contentVersion: '1.0.0.0',
        },
        parameters: Object.fromEntries(
          ['factoryName', ...childParams[i]].map((n) => [n, { value: parameterExpression(n) }]),
        ),
      },
      dependsOn:
        i === 0 ? [] : [`[resourceId('Microsoft.Resources/deployments', '${deploymentName(i - 1)}')]`],
    })),
  };
  const masterParametersFile: ArmParametersFile = {
    $schema: PARAMETERS_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: {
      ...exp.parametersFile.parameters,
      containerUri: { value: '' },
      containerSasToken: { value: '' },
    },
  };
  return { master, masterParameters: masterParametersFile, children };
}
