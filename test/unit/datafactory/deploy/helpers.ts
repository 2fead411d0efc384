/**
 * Builders for ADF-export-shaped ARM templates used by the DataFactoryDeploy
 * tests, the end-to-end tests and the benchmark: objects by type, names as
 * `[concat(parameters('factoryName'), '/x')]`, dependsOn from references.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Props = Record<string, unknown>;

export interface FactorySpec {
  integrationRuntimes?: Record<string, Props>;
  linkedServices?: Record<string, Props>;
  datasets?: Record<string, Props>;
  dataflows?: Record<string, Props>;
  pipelines?: Record<string, Props>;
  triggers?: Record<string, Props>;
  globalParameters?: Record<string, { type: string; value: unknown }>;
}

const TYPES: [keyof FactorySpec, string][] = [
  ['pipelines', 'pipelines'],
  ['datasets', 'datasets'],
  ['linkedServices', 'linkedServices'],
  ['dataflows', 'dataflows'],
  ['triggers', 'triggers'],
  ['integrationRuntimes', 'integrationRuntimes'],
];

const REF_SEGMENT: Record<string, string> = {
  LinkedServiceReference: 'linkedServices',
  DatasetReference: 'datasets',
  PipelineReference: 'pipelines',
  DataFlowReference: 'dataflows',
  IntegrationRuntimeReference: 'integrationRuntimes',
  TriggerReference: 'triggers',
};

function refs(v: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => refs(x, out));
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && typeof o.referenceName === 'string' && REF_SEGMENT[o.type]) {
      out.add(`${REF_SEGMENT[o.type]}/${o.referenceName}`);
    }
    Object.values(o).forEach((x) => refs(x, out));
  }
  return out;
}

export interface TemplateOptions {
  /** Extra template parameters (e.g. secure strings the objects use). */
  parameters?: Record<string, { type: string; defaultValue?: unknown }>;
  defaultFactoryName?: string;
  outputs?: Record<string, unknown>;
}

export function exportTemplate(spec: FactorySpec, opts: TemplateOptions = {}): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const [key, seg] of TYPES) {
    for (const [name, properties] of Object.entries(spec[key] ?? {})) {
      resources.push({
        name: `[concat(parameters('factoryName'), '/${name}')]`,
        type: `Microsoft.DataFactory/factories/${seg}`,
        apiVersion: '2018-06-01',
        properties,
        dependsOn: [...refs(properties, new Set())].map((r) => `[concat(variables('factoryId'), '/${r}')]`),
      });
    }
  }
  if (spec.globalParameters) {
    resources.push({
      name: "[concat(parameters('factoryName'), '/default')]",
      type: 'Microsoft.DataFactory/factories/globalparameters',
      apiVersion: '2018-06-01',
      properties: spec.globalParameters,
      dependsOn: [],
    });
  }
  return {
    $schema: 'http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    parameters: {
      factoryName: {
        type: 'string',
        metadata: 'Data Factory name',
        defaultValue: opts.defaultFactoryName ?? 'adf-dev',
      },
      ...(opts.parameters ?? {}),
    },
    variables: { factoryId: "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]" },
    resources,
    ...(opts.outputs ? { outputs: opts.outputs } : {}),
  };
}

export const ls = (url = 'https://st.dfs.core.windows.net/'): Props => ({
  annotations: [],
  type: 'AzureBlobFS',
  typeProperties: { url },
});

export const dataset = (linkedService: string, folder = 'in'): Props => ({
  linkedServiceName: { referenceName: linkedService, type: 'LinkedServiceReference' },
  annotations: [],
  type: 'Parquet',
  typeProperties: { location: { type: 'AzureBlobFSLocation', fileSystem: 'data', folderPath: folder } },
});

export const pipeline = (
  opts: { datasets?: string[]; calls?: string[]; wait?: number; description?: string } = {},
): Props => {
  const activities: Props[] = [];
  for (const d of opts.datasets ?? []) {
    activities.push({
      name: `Lookup ${d}`,
      type: 'Lookup',
      dependsOn: [],
      typeProperties: {
        source: { type: 'ParquetSource' },
        dataset: { referenceName: d, type: 'DatasetReference', parameters: {} },
      },
    });
  }
  for (const p of opts.calls ?? []) {
    activities.push({
      name: `Run ${p}`,
      type: 'ExecutePipeline',
      dependsOn: [],
      typeProperties: { pipeline: { referenceName: p, type: 'PipelineReference' }, waitOnCompletion: true },
    });
  }
  if (activities.length === 0 || opts.wait !== undefined) {
    activities.push({
      name: 'Wait',
      type: 'Wait',
      dependsOn: [],
      typeProperties: { waitTimeInSeconds: opts.wait ?? 1 },
    });
  }
  return { activities, annotations: [], ...(opts.description ? { description: opts.description } : {}) };
};

export const scheduleTrigger = (
  pipelines: string[],
  state: 'Started' | 'Stopped' = 'Started',
  hour = 2,
): Props => ({
  annotations: [],
  runtimeState: state,
  pipelines: pipelines.map((p) => ({
    pipelineReference: { referenceName: p, type: 'PipelineReference' },
    parameters: {},
  })),
  type: 'ScheduleTrigger',
  typeProperties: {
    recurrence: {
      frequency: 'Day',
      interval: 1,
      startTime: '2024-01-01T00:00:00Z',
      timeZone: 'UTC',
      schedule: { hours: [hour] },
    },
  },
});

export const blobEventTrigger = (pipeline: string, state: 'Started' | 'Stopped' = 'Started'): Props => ({
  annotations: [],
  runtimeState: state,
  pipelines: [{ pipelineReference: { referenceName: pipeline, type: 'PipelineReference' }, parameters: {} }],
  type: 'BlobEventsTrigger',
  typeProperties: {
    blobPathBeginsWith: '/landing/blobs/',
    ignoreEmptyBlobs: true,
    scope:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st',
    events: ['Microsoft.Storage.BlobCreated'],
  },
});

/** A factory of n pipelines (each with its own dataset) over a few linked services, and triggers. */
export function largeFactory(opts: {
  pipelines: number;
  triggers: number;
  linkedServices?: number;
}): FactorySpec {
  const spec: FactorySpec = { linkedServices: {}, datasets: {}, pipelines: {}, triggers: {} };
  const lsCount = opts.linkedServices ?? 10;
  for (let i = 0; i < lsCount; i++)
    spec.linkedServices![`LS_${i}`] = ls(`https://st${i}.dfs.core.windows.net/`);
  for (let i = 0; i < opts.pipelines; i++) {
    spec.datasets![`DS_${i}`] = dataset(`LS_${i % lsCount}`, `folder${i}`);
    spec.pipelines![`PL_${i}`] = pipeline({ datasets: [`DS_${i}`] });
  }
  for (let i = 0; i < opts.triggers; i++)
    spec.triggers![`TR_${i}`] = scheduleTrigger([`PL_${i % opts.pipelines}`], 'Started', i % 24);
  return spec;
}

/** Writes JSON files into a fresh temp folder; returns the folder. */
export function writeFiles(files: Record<string, unknown>, prefix = 'adf-deploy-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

export const GOLDEN = path.join(__dirname, '..', '..', '..', 'fixtures', 'adf', 'golden');
