/**
 * Benchmark for DataFactoryBuildArmTemplate's core: generated factory folders of
 * 100, 1,000 and 5,000 objects (10% linked services, 30% datasets, 10% data
 * flows, 40% pipelines of 6 activities with a nested ForEach, 10% triggers),
 * validated and exported with the default parameterisation (linked templates
 * on auto). Prints wall time, time per object and memory; the target is under
 * 2 s for 1,000 objects and linear growth.
 *
 *   npx tsx bench/adf-export.ts [--sizes 100,1000,5000] [--runs 3]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/common/logger';
import { buildArmTemplate, formatBytes } from '../src/datafactory/build-arm-template';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const SIZES = arg('sizes', '100,1000,5000').split(',').map(Number);
const RUNS = Number(arg('runs', '3'));

function write(dir: string, rel: string, body: unknown): void {
  const file = path.join(dir, ...rel.split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(body, null, '\t'));
}

const ref = (referenceName: string, type: string) => ({ referenceName, type });

/** A factory of `n` objects whose shapes follow what ADF Studio writes. */
function generateFactory(dir: string, n: number): void {
  const nLs = Math.max(2, Math.round(n * 0.1));
  const nDs = Math.max(2, Math.round(n * 0.3));
  const nDf = Math.max(1, Math.round(n * 0.1));
  const nTr = Math.max(1, Math.round(n * 0.1));
  const nPl = Math.max(1, n - nLs - nDs - nDf - nTr);
  const pad = (i: number) => String(i).padStart(5, '0');
  write(dir, 'factory/adf-bench.json', {
    name: 'adf-bench',
    properties: { globalParameters: { environment: { type: 'string', value: 'dev' } } },
    location: 'westeurope',
  });
  write(dir, 'linkedService/LS_KeyVault.json', {
    name: 'LS_KeyVault',
    properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: 'https://kv-bench.vault.azure.net/' } },
  });
  for (let i = 1; i < nLs; i++) {
    const name = `LS_${pad(i)}`;
    const props =
      i % 3 === 0
        ? {
            type: 'AzureDatabricks',
            typeProperties: {
              domain: 'https://adb-1.azuredatabricks.net',
              accessToken: {
                type: 'AzureKeyVaultSecret',
                store: ref('LS_KeyVault', 'LinkedServiceReference'),
                secretName: `t${i}`,
              },
              existingClusterId: '0101-000000-abc',
            },
          }
        : {
            type: 'AzureBlobFS',
            typeProperties: { url: `https://st${i}.dfs.core.windows.net/`, encryptedCredential: 'ZW5j' },
          };
    write(dir, `linkedService/${name}.json`, { name, properties: { annotations: [], ...props } });
  }
  const lsName = (i: number) => `LS_${pad(1 + (i % (nLs - 1)))}`;
  for (let i = 0; i < nDs; i++) {
    const name = `DS_${pad(i)}`;
    write(dir, `dataset/${name}.json`, {
      name,
      properties: {
        linkedServiceName: ref(lsName(i), 'LinkedServiceReference'),
        annotations: [],
        type: 'DelimitedText',
        typeProperties: {
          location: {
            type: 'AzureBlobFSLocation',
            fileName: `f${i}.csv`,
            folderPath: `raw/${i}`,
            fileSystem: 'landing',
          },
          columnDelimiter: ',',
          firstRowAsHeader: true,
        },
        schema: Array.from({ length: 8 }, (_, c) => ({ name: `col${c}`, type: 'String' })),
      },
    });
  }
  const dsName = (i: number) => `DS_${pad(i % nDs)}`;
  for (let i = 0; i < nDf; i++) {
    const name = `DF_${pad(i)}`;
    write(dir, `dataflow/${name}.json`, {
      name,
      properties: {
        type: 'MappingDataFlow',
        typeProperties: {
          sources: [{ dataset: ref(dsName(i), 'DatasetReference'), name: 'src' }],
          sinks: [{ dataset: ref(dsName(i + 1), 'DatasetReference'), name: 'snk' }],
          transformations: [{ name: 'd1' }],
          scriptLines: Array.from({ length: 20 }, (_, l) => `line ${l} of the data flow script ~> step${l}`),
        },
      },
    });
  }
  const policy = {
    timeout: '0.12:00:00',
    retry: 0,
    retryIntervalInSeconds: 30,
    secureOutput: false,
    secureInput: false,
  };
  for (let i = 0; i < nPl; i++) {
    const name = `PL_${pad(i)}`;
    const activities: unknown[] = [
      {
        name: 'Copy',
        type: 'Copy',
        dependsOn: [],
        policy,
        userProperties: [],
        typeProperties: {
          source: { type: 'DelimitedTextSource' },
          sink: { type: 'DelimitedTextSink' },
          enableStaging: false,
        },
        inputs: [ref(dsName(i), 'DatasetReference')],
        outputs: [ref(dsName(i + 7), 'DatasetReference')],
      },
      {
        name: 'Lookup',
        type: 'Lookup',
        dependsOn: [{ activity: 'Copy', dependencyConditions: ['Succeeded'] }],
        policy,
        userProperties: [],
        typeProperties: {
          source: { type: 'DelimitedTextSource' },
          dataset: ref(dsName(i + 3), 'DatasetReference'),
        },
      },
      {
        name: 'Flow',
        type: 'ExecuteDataFlow',
        dependsOn: [],
        policy,
        userProperties: [],
        typeProperties: {
          dataflow: ref(`DF_${pad(i % nDf)}`, 'DataFlowReference'),
          compute: { coreCount: 8, computeType: 'General' },
        },
      },
      {
        name: 'Loop',
        type: 'ForEach',
        dependsOn: [],
        userProperties: [],
        typeProperties: {
          items: { value: '@pipeline().parameters.items', type: 'Expression' },
          activities: [
            {
              name: 'Notebook',
              type: 'DatabricksNotebook',
              dependsOn: [],
              policy,
              userProperties: [],
              typeProperties: {
                notebookPath: `/etl/${i}`,
                baseParameters: { item: { value: '@item()', type: 'Expression' } },
              },
              linkedServiceName: ref('LS_00003', 'LinkedServiceReference'),
            },
          ],
        },
      },
      {
        name: 'Wait',
        type: 'Wait',
        dependsOn: [],
        userProperties: [],
        typeProperties: { waitTimeInSeconds: 1 },
      },
    ];
    if (i > 0) {
      activities.push({
        name: 'Child',
        type: 'ExecutePipeline',
        dependsOn: [],
        userProperties: [],
        typeProperties: {
          pipeline: ref(`PL_${pad(Math.floor(i / 2))}`, 'PipelineReference'),
          waitOnCompletion: true,
        },
      });
    }
    write(dir, `pipeline/${name}.json`, {
      name,
      properties: {
        activities,
        parameters: { items: { type: 'array', defaultValue: [1, 2] } },
        annotations: [],
      },
    });
  }
  for (let i = 0; i < nTr; i++) {
    const name = `TR_${pad(i)}`;
    write(dir, `trigger/${name}.json`, {
      name,
      properties: {
        annotations: [],
        runtimeState: 'Started',
        pipelines: [
          { pipelineReference: ref(`PL_${pad(i % nPl)}`, 'PipelineReference'), parameters: { items: [i] } },
        ],
        type: 'ScheduleTrigger',
        typeProperties: { recurrence: { frequency: 'Hour', interval: 1, startTime: '2024-01-01T00:00:00Z' } },
      },
    });
  }
}

function main(): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-bench-'));
  const rows: Array<{
    n: number;
    ms: number;
    perObject: number;
    heapMb: number;
    rssMb: number;
    resources: number;
    bytes: number;
  }> = [];
  try {
    for (const n of SIZES) {
      const dir = path.join(root, `f${n}`);
      generateFactory(dir, n);
      let best = Infinity;
      let resources = 0;
      let bytes = 0;
      let heapMb = 0;
      for (let r = 0; r < RUNS; r++) {
        const out = path.join(root, `out${n}-${r}`);
        global.gc?.();
        const heapBefore = process.memoryUsage().heapUsed;
        const t0 = performance.now();
        const result = buildArmTemplate({ factoryFolder: dir, outputFolder: out }, silentLogger);
        const ms = performance.now() - t0;
        heapMb = Math.max(heapMb, (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024);
        if (!result.ok)
          throw new Error(`factory of ${n} objects failed validation: ${result.errors[0]?.message}`);
        best = Math.min(best, ms);
        resources = result.resourceCount;
        bytes = result.templateBytes;
      }
      rows.push({
        n,
        ms: best,
        perObject: best / n,
        heapMb,
        rssMb: process.memoryUsage().rss / 1024 / 1024,
        resources,
        bytes,
      });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`DataFactoryBuildArmTemplate core, best of ${RUNS} run(s), Node ${process.version}`);
  console.log('objects  resources  template     time (ms)  ms/object  heap growth (MB)  rss (MB)');
  for (const r of rows) {
    console.log(
      `${String(r.n).padStart(7)}  ${String(r.resources).padStart(9)}  ${formatBytes(r.bytes).padStart(9)}  ${r.ms.toFixed(0).padStart(12)}  ${r.perObject.toFixed(3).padStart(9)}  ${r.heapMb.toFixed(1).padStart(16)}  ${r.rssMb.toFixed(0).padStart(8)}`,
    );
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (rows.length > 1) {
    console.log(
      `growth: ${(last.n / first.n).toFixed(0)}x objects -> ${(last.ms / first.ms).toFixed(1)}x time (${(last.perObject / first.perObject).toFixed(2)}x per object)`,
    );
  }
  const thousand = rows.find((r) => r.n === 1000);
  if (thousand)
    console.log(
      `1,000 objects: ${thousand.ms.toFixed(0)} ms (target < 2000 ms) ${thousand.ms < 2000 ? 'OK' : 'SLOW'}`,
    );
}

main();
