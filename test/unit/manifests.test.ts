/**
 * Repo-wide checks of every tasks/<Folder>/task.json present (plus the test fixture task) and of
 * vss-extension.json: the vendored task schema, the rules tfx and Microsoft's task repo enforce,
 * visibleRules, connection types, server-task rules, icons, and the generated package manifest.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { REPO_ROOT } from '../harness/run-task';
import {
  buildOnce,
  FIXTURE_TASKS_ROOT,
  loadPackageScript,
  TASKS_ROOT,
  type BuildOutput,
} from '../harness/build-once';
import { readPngInfo } from '../harness/png';

interface TaskInput {
  name: string;
  type: string;
  label?: string;
  defaultValue?: string | boolean;
  required?: boolean;
  groupName?: string;
  visibleRule?: string;
  options?: Record<string, string>;
  properties?: Record<string, string | boolean>;
}

interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  instanceNameFormat?: string;
  runsOn?: string[];
  version: { Major: number; Minor: number; Patch: number };
  demands?: string[];
  minimumAgentVersion?: string;
  groups?: { name: string; displayName: string; visibleRule?: string }[];
  inputs?: TaskInput[];
  outputVariables?: { name: string }[];
  dataSourceBindings?: { endpointId?: string; dataSourceName?: string; target?: string }[];
  execution?: Record<string, { target?: string; Execute?: unknown }>;
  prejobexecution?: Record<string, { target?: string }>;
  postjobexecution?: Record<string, { target?: string }>;
}

interface TaskFile {
  folder: string;
  dir: string;
  root: string;
  json: TaskJson;
}

interface DataSource {
  name: string;
  endpointUrl: string;
  resultSelector?: string;
}

interface EndpointTypeProperties {
  name: string;
  displayName: string;
  url?: { displayName?: string };
  authenticationSchemes: {
    type: string;
    headers?: { name: string; value: string }[];
    inputDescriptors?: { id: string; isConfidential?: boolean; validation?: { isRequired?: boolean } }[];
  }[];
  dataSources?: DataSource[];
  helpMarkDown?: string;
}

interface Contribution {
  id: string;
  type: string;
  targets: string[];
  properties: Record<string, unknown>;
}

interface ExtensionManifest {
  manifestVersion: number;
  id: string;
  publisher: string;
  version: string;
  name: string;
  description: string;
  categories: string[];
  targets: { id: string }[];
  icons: { default: string };
  content: { details: { path: string } };
  files?: { path: string; addressable?: boolean }[];
  contributions: Contribution[];
}

const NODE_HANDLERS = ['Node24', 'Node20_1', 'Node16', 'Node10', 'Node'];
const END_OF_LIFE_HANDLERS = ['Node', 'Node10', 'Node16'];
const SERVER_HANDLERS = ['HttpRequest', 'HttpRequestChain', 'ServiceBus'];
const BUILT_IN_CONNECTION_TYPES = ['AzureRM'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The seven tasks the extension ships; each needs its own icon even before its task.json exists.
const PLANNED_TASKS = [
  'DatabricksDeployNotebooksV1',
  'DatabricksRunNotebookV1',
  'DatabricksRunGateV1',
  'DataFactoryBuildArmTemplateV1',
  'DataFactoryDeployV1',
  'DataFactoryRunPipelineV1',
  'DataFactoryPipelineRunGateV1',
];

function readJson<T>(file: string): T {
  let text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.startsWith('\uFEFF'), `${file} starts with a BOM`);
  text = text.trim();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path.relative(REPO_ROOT, file)} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function discover(root: string): TaskFile[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'task.json')))
    .map((d) => ({
      folder: d.name,
      dir: path.join(root, d.name),
      root,
      json: readJson<TaskJson>(path.join(root, d.name, 'task.json')),
    }))
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

function formatAjvErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}

const schema = readJson<Record<string, unknown>>(path.join(REPO_ROOT, 'test', 'schema', 'tasks.schema.json'));
// strict:false: the vendored schema uses union types and enum-only branches ajv's strict mode flags.
const ajv = new Ajv({ allErrors: true, strict: false });
const validateTaskJson = ajv.compile(schema);

const manifest = readJson<ExtensionManifest>(path.join(REPO_ROOT, 'vss-extension.json'));
const endpointTypes = manifest.contributions.filter(
  (c) => c.type === 'ms.vss-endpoint.service-endpoint-type',
);
const contributedConnectionTypes = endpointTypes.map(
  (c) => (c.properties as unknown as EndpointTypeProperties).name,
);

function handlerNames(
  json: TaskJson,
  key: 'execution' | 'prejobexecution' | 'postjobexecution' = 'execution',
): string[] {
  return Object.keys(json[key] ?? {});
}

const isServerTask = (json: TaskJson) =>
  (json.runsOn ?? []).some((r) => r === 'Server' || r === 'ServerGate');

/** Input names a visibleRule refers to; throws on syntax the task editor mis-evaluates. */
function visibleRuleInputs(rule: string): string[] {
  if (/[()]/.test(rule))
    throw new Error(`visibleRule "${rule}" uses parentheses, which the editor does not support`);
  if (rule.includes('&&') && rule.includes('||')) throw new Error(`visibleRule "${rule}" mixes && and ||`);
  return rule.split(/&&|\|\|/).map((clause) => {
    const m =
      /^\s*([A-Za-z][A-Za-z0-9_.]*)\s*(==|!=|=|<=|>=|<|>|\s(?:NotContains|Contains|NotEndsWith|EndsWith|NotStartsWith|StartsWith)\s)/.exec(
        clause,
      );
    if (!m) throw new Error(`visibleRule clause "${clause.trim()}" is not "<input> <operator> <value>"`);
    return m[1];
  });
}

function checkTask(t: TaskFile, built: () => BuildOutput): void {
  const j = t.json;
  const where = path.relative(REPO_ROOT, path.join(t.dir, 'task.json'));

  it('matches the task schema', () => {
    const ok = validateTaskJson(j);
    assert.ok(ok, `${where}:\n${formatAjvErrors(validateTaskJson.errors)}`);
  });

  it('follows the tfx rules (GUID id, name, friendlyName ≤ 40, instanceNameFormat)', () => {
    assert.match(j.id, GUID, `${where}: id must be a GUID`);
    assert.match(j.name, /^[A-Za-z0-9-]+$/, `${where}: name must match ^[A-Za-z0-9\\-]+$`);
    assert.ok(
      j.friendlyName && j.friendlyName.length <= 40,
      `${where}: friendlyName must be 1-40 characters`,
    );
    assert.ok(
      j.instanceNameFormat && j.instanceNameFormat.trim(),
      `${where}: instanceNameFormat is required`,
    );
  });

  it('lives in the folder <name>V<Major>', () => {
    assert.equal(t.folder, `${j.name}V${j.version.Major}`);
  });

  if (isServerTask(j)) {
    it('is a valid server task (one HttpRequest/HttpRequestChain/ServiceBus handler, no demands, no minimumAgentVersion)', () => {
      const handlers = handlerNames(j);
      assert.equal(
        handlers.length,
        1,
        `${where}: server tasks need exactly one execution handler, found ${handlers.join(', ')}`,
      );
      assert.ok(SERVER_HANDLERS.includes(handlers[0]), `${where}: ${handlers[0]} cannot run on the server`);
      assert.ok(!j.demands?.length, `${where}: server tasks must not have demands`);
      assert.equal(
        j.minimumAgentVersion,
        undefined,
        `${where}: server tasks must not set minimumAgentVersion`,
      );
      assert.ok(
        (j.runsOn ?? []).every((r) => r === 'Server' || r === 'ServerGate'),
        `${where}: runsOn ${JSON.stringify(j.runsOn)} mixes server and agent targets`,
      );
      assert.equal(j.prejobexecution, undefined);
      assert.equal(j.postjobexecution, undefined);
      assert.ok(
        !fs.existsSync(path.join(t.dir, 'index.ts')),
        `${where}: server task folders have no index.ts`,
      );
    });

    it('points HttpRequest EndpointId at a real connection input', () => {
      const exec = j.execution ?? {};
      const sections: Record<string, unknown>[] = [];
      const http = exec.HttpRequest as
        { Execute?: Record<string, unknown>; Cancel?: Record<string, unknown> } | undefined;
      if (http?.Execute) sections.push(http.Execute);
      if (http?.Cancel) sections.push(http.Cancel);
      const chain = exec.HttpRequestChain as
        { Execute?: { RequestInputs: Record<string, unknown> }[] } | undefined;
      for (const step of chain?.Execute ?? []) sections.push(step.RequestInputs);
      const inputs = new Map((j.inputs ?? []).map((i) => [i.name, i]));
      for (const s of sections) {
        const m = /^\$\(([^)]+)\)$/.exec(String(s.EndpointId ?? ''));
        if (!m) continue;
        const input = inputs.get(m[1]);
        assert.ok(input, `${where}: EndpointId $(${m[1]}) is not an input`);
        assert.match(
          input.type,
          /^connectedService:/,
          `${where}: EndpointId $(${m[1]}) is not a connection input`,
        );
      }
    });
  } else {
    it('ships Node20_1 and Node24 handlers on the same bundled index.js', () => {
      const exec = j.execution ?? {};
      assert.ok(exec.Node20_1?.target, `${where}: missing execution.Node20_1`);
      assert.ok(exec.Node24?.target, `${where}: missing execution.Node24`);
      assert.equal(
        exec.Node20_1.target,
        exec.Node24.target,
        `${where}: Node20_1 and Node24 must run the same file`,
      );
      assert.equal(exec.Node24.target, 'index.js', `${where}: scripts/build.mjs emits index.js`);
      const eol = handlerNames(j).filter((h) => END_OF_LIFE_HANDLERS.includes(h));
      assert.deepEqual(eol, [], `${where}: end-of-life handlers ${eol.join(', ')}`);
      const other = handlerNames(j).filter((h) => !NODE_HANDLERS.includes(h));
      assert.deepEqual(other, [], `${where}: unexpected handlers ${other.join(', ')}`);
      assert.ok(fs.existsSync(path.join(t.dir, 'index.ts')), `${where}: Node task without index.ts`);
    });

    it('has every execution target in the build output', () => {
      const out = path.join(built().out, 'tasks', t.folder);
      for (const key of ['prejobexecution', 'execution', 'postjobexecution'] as const) {
        for (const [handler, spec] of Object.entries(j[key] ?? {})) {
          const target = String(spec.target ?? '').replace(/\$\(\s*currentdirectory\s*\)/i, '.');
          assert.ok(target, `${where}: ${key}.${handler}.target is empty`);
          assert.ok(
            fs.existsSync(path.join(out, target)),
            `${where}: ${key}.${handler}.target ${target} was not built`,
          );
        }
      }
      assert.ok(fs.existsSync(path.join(out, 'task.json')) && fs.existsSync(path.join(out, 'icon.png')));
    });
  }

  it('has unique input names, known groups and sound visibleRules', () => {
    const inputs = j.inputs ?? [];
    const names = inputs.map((i) => i.name);
    assert.equal(
      new Set(names.map((n) => n.toLowerCase())).size,
      names.length,
      `${where}: duplicate input names`,
    );
    const groups = new Set((j.groups ?? []).map((g) => g.name));
    for (const i of inputs) {
      if (i.groupName)
        assert.ok(groups.has(i.groupName), `${where}: input ${i.name} is in unknown group ${i.groupName}`);
    }
    const rules = [
      ...inputs
        .filter((i) => i.visibleRule)
        .map((i) => ({ owner: `input ${i.name}`, rule: i.visibleRule as string })),
      ...(j.groups ?? [])
        .filter((g) => g.visibleRule)
        .map((g) => ({ owner: `group ${g.name}`, rule: g.visibleRule as string })),
    ];
    for (const { owner, rule } of rules) {
      let refs: string[];
      try {
        refs = visibleRuleInputs(rule);
      } catch (err) {
        assert.fail(`${where}: ${owner}: ${(err as Error).message}`);
      }
      for (const r of refs)
        assert.ok(names.includes(r), `${where}: ${owner} visibleRule names unknown input ${r}`);
    }
  });

  it('uses only known connection types', () => {
    const allowed = [...BUILT_IN_CONNECTION_TYPES, ...contributedConnectionTypes];
    for (const i of j.inputs ?? []) {
      const m = /^connectedService:(.+)$/.exec(i.type);
      if (m)
        assert.ok(
          allowed.includes(m[1]),
          `${where}: input ${i.name} uses connection type ${m[1]}; known: ${allowed.join(', ')}`,
        );
    }
  });

  it('gives pickList/radio inputs options that contain the default, and booleans true/false defaults', () => {
    for (const i of j.inputs ?? []) {
      if (i.type === 'pickList' || i.type === 'radio') {
        const keys = Object.keys(i.options ?? {});
        assert.ok(keys.length > 0, `${where}: ${i.type} input ${i.name} has no options`);
        const editable = String(i.properties?.EditableOptions ?? '').toLowerCase() === 'true';
        if (i.defaultValue !== undefined && i.defaultValue !== '' && !editable) {
          assert.ok(
            keys.includes(String(i.defaultValue)),
            `${where}: default "${i.defaultValue}" of ${i.name} is not an option`,
          );
        }
      }
      if (i.type === 'boolean' && i.defaultValue !== undefined) {
        assert.match(
          String(i.defaultValue),
          /^(true|false)$/,
          `${where}: boolean ${i.name} default must be true/false`,
        );
      }
    }
  });

  it('binds data sources to connection inputs and data sources that exist', () => {
    const inputs = new Map((j.inputs ?? []).map((i) => [i.name, i]));
    for (const b of j.dataSourceBindings ?? []) {
      if (b.target)
        assert.ok(inputs.has(b.target), `${where}: dataSourceBinding target ${b.target} is not an input`);
      const m = /^\$\(([^)]+)\)$/.exec(b.endpointId ?? '');
      if (!m) continue;
      const input = inputs.get(m[1]);
      assert.ok(input, `${where}: dataSourceBinding endpointId $(${m[1]}) is not an input`);
      const type = /^connectedService:(.+)$/.exec(input.type)?.[1];
      const ours = endpointTypes.find(
        (c) => (c.properties as unknown as EndpointTypeProperties).name === type,
      );
      if (ours && b.dataSourceName) {
        const names = ((ours.properties as unknown as EndpointTypeProperties).dataSources ?? []).map(
          (d) => d.name,
        );
        assert.ok(
          names.includes(b.dataSourceName),
          `${where}: data source ${b.dataSourceName} is not defined on ${type}`,
        );
      }
    }
  });

  it('declares unique output variables', () => {
    const names = (j.outputVariables ?? []).map((o) => o.name);
    assert.equal(new Set(names).size, names.length, `${where}: duplicate output variables`);
  });

  it('has a square PNG icon of at least 32x32', () => {
    const info = readPngInfo(path.join(t.dir, 'icon.png'));
    assert.equal(info.width, info.height, `${where}: icon is not square`);
    assert.ok(info.width >= 32, `${where}: icon is smaller than 32x32`);
  });
}

const tasks = discover(TASKS_ROOT);
const fixtures = discover(FIXTURE_TASKS_ROOT);

describe('task manifests', function () {
  this.timeout(60_000);
  let realBuild: BuildOutput | undefined;
  let fixtureBuild: BuildOutput | undefined;
  before(async () => {
    [realBuild, fixtureBuild] = await Promise.all([buildOnce(TASKS_ROOT), buildOnce(FIXTURE_TASKS_ROOT)]);
  });

  it('finds the task folders (tasks/*/task.json)', () => {
    // Folders may exist with only an icon while their task is being written.
    for (const t of tasks) assert.ok(fs.existsSync(path.join(t.dir, 'task.json')));
    assert.ok(
      fixtures.some((f) => f.folder === 'SampleV1'),
      'the SampleV1 fixture keeps these checks exercised',
    );
  });

  it('gives every task a unique id and name', () => {
    const all = [...tasks, ...fixtures];
    const ids = all.map((t) => t.json.id.toLowerCase());
    const names = all.map((t) => t.json.name.toLowerCase());
    assert.equal(new Set(ids).size, ids.length, 'duplicate task ids');
    assert.equal(new Set(names).size, names.length, 'duplicate task names');
  });

  it('has a distinct 128x128 icon for each planned task', () => {
    const hashes = new Set<string>();
    for (const folder of PLANNED_TASKS) {
      const icon = path.join(TASKS_ROOT, folder, 'icon.png');
      assert.ok(fs.existsSync(icon), `${folder}/icon.png is missing (node scripts/make-icons.mjs)`);
      const info = readPngInfo(icon);
      assert.deepEqual([info.width, info.height], [128, 128], `${folder}/icon.png`);
      hashes.add(crypto.createHash('sha256').update(fs.readFileSync(icon)).digest('hex'));
    }
    assert.equal(hashes.size, PLANNED_TASKS.length, 'two planned tasks share an icon');
  });

  for (const t of tasks) {
    describe(`tasks/${t.folder}`, () => checkTask(t, () => realBuild as BuildOutput));
  }
  for (const t of fixtures) {
    describe(`fixture ${t.folder}`, () => checkTask(t, () => fixtureBuild as BuildOutput));
  }
});

describe('visibleRule lint', () => {
  it('accepts simple rules and reports the inputs they name', () => {
    assert.deepEqual(visibleRuleInputs('a = true && b != ""'), ['a', 'b']);
    assert.deepEqual(visibleRuleInputs('mode = x || mode = y'), ['mode', 'mode']);
    assert.deepEqual(visibleRuleInputs('path NotEndsWith .py'), ['path']);
  });
  it('rejects mixed operators, parentheses and malformed clauses', () => {
    assert.throws(() => visibleRuleInputs('a = 1 && b = 2 || c = 3'), /mixes/);
    assert.throws(() => visibleRuleInputs('(a = 1)'), /parentheses/);
    assert.throws(() => visibleRuleInputs('just words'), /not "<input> <operator> <value>"/);
  });
});

describe('task schema (vendored and extended)', () => {
  const base = {
    id: '0d3b2f8e-1c4a-4b6d-9e8f-7a6b5c4d3e2f',
    name: 'Gate',
    friendlyName: 'Gate',
    instanceNameFormat: 'Gate',
    version: { Major: 1, Minor: 0, Patch: 0 },
  };
  it('accepts HttpRequest and HttpRequestChain server handlers', () => {
    const http = {
      ...base,
      runsOn: ['Server', 'ServerGate'],
      execution: {
        HttpRequest: {
          Execute: {
            EndpointId: '$(conn)',
            EndpointUrl: '$(endpoint.url)/api/2.1/jobs/runs/get?run_id=$(runId)',
            Method: 'GET',
            Headers: '{"Content-Type":"application/json"}',
            WaitForCompletion: 'false',
            Expression: "eq(root['state']['result_state'], 'SUCCESS')",
          },
        },
      },
    };
    assert.ok(validateTaskJson(http), formatAjvErrors(validateTaskJson.errors));
    const chain = {
      ...base,
      runsOn: ['ServerGate'],
      execution: {
        HttpRequestChain: {
          Execute: [
            {
              RequestInputs: { EndpointUrl: 'https://x/y', Method: 'GET' },
              ExecutionOptions: {
                OutputVariables: '{"A":"jsonpath(\'$.a\')[0]"}',
                SkipSectionExpression: 'false',
              },
            },
          ],
        },
      },
    };
    assert.ok(validateTaskJson(chain), formatAjvErrors(validateTaskJson.errors));
  });
  it('still rejects what the original schema rejects', () => {
    assert.equal(
      validateTaskJson({ ...base, inputs: [{ name: 'a', label: 'A', type: 'string', required: 'true' }] }),
      false,
    );
    assert.equal(validateTaskJson({ ...base, execution: { Node20: { target: 'index.js' } } }), false);
    assert.equal(
      validateTaskJson({ ...base, execution: { HttpRequest: { Execute: { Method: 'GET' } } } }),
      false,
    );
    assert.equal(validateTaskJson({ ...base, category: 'Tool' }), false);
  });
});

describe('vss-extension.json', () => {
  it('has the manifest fields the Marketplace needs', () => {
    assert.equal(manifest.manifestVersion, 1);
    assert.match(manifest.id, /^[A-Za-z0-9][A-Za-z0-9-]*$/);
    assert.match(manifest.publisher, /^[A-Za-z0-9][A-Za-z0-9-]*$/);
    assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
    assert.ok(manifest.name && manifest.description);
    assert.deepEqual(manifest.categories, ['Azure Pipelines']);
    assert.deepEqual(manifest.targets, [{ id: 'Microsoft.VisualStudio.Services' }]);
    assert.ok(
      fs.existsSync(path.join(REPO_ROOT, manifest.content.details.path)),
      'content.details.path is missing',
    );
    for (const f of manifest.files ?? [])
      assert.ok(fs.existsSync(path.join(REPO_ROOT, f.path)), `files entry ${f.path} is missing`);
  });

  it('has a 128x128 PNG extension icon', () => {
    const info = readPngInfo(path.join(REPO_ROOT, manifest.icons.default));
    assert.deepEqual([info.width, info.height], [128, 128]);
  });

  it('leaves task contributions to scripts/package.mjs and has unique contribution ids', () => {
    assert.ok(manifest.contributions.every((c) => c.type !== 'ms.vss-distributed-task.task'));
    const ids = manifest.contributions.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  describe('DatabricksWorkspace service connection type', () => {
    const contribution = endpointTypes.find(
      (c) => (c.properties as unknown as EndpointTypeProperties).name === 'DatabricksWorkspace',
    );
    const props = contribution?.properties as unknown as EndpointTypeProperties;

    it('is contributed as a service endpoint type', () => {
      assert.ok(contribution, 'no DatabricksWorkspace endpoint type');
      assert.deepEqual(contribution.targets, ['ms.vss-endpoint.endpoint-types']);
      assert.ok(props.displayName && props.url?.displayName && props.helpMarkDown);
    });

    it('offers a PAT (token scheme, sent as a Bearer header) and OAuth M2M (basic scheme)', () => {
      const token = props.authenticationSchemes.find(
        (s) => s.type === 'ms.vss-endpoint.endpoint-auth-scheme-token',
      );
      assert.ok(token, 'no token scheme');
      const apitoken = token.inputDescriptors?.find((d) => d.id === 'apitoken');
      assert.ok(apitoken?.isConfidential, 'apitoken must be confidential');
      const auth = token.headers?.find((h) => h.name === 'Authorization');
      assert.match(auth?.value ?? '', /^Bearer \{\{\{?endpoint\.apitoken\}\}\}?$/);

      const basic = props.authenticationSchemes.find(
        (s) => s.type === 'ms.vss-endpoint.endpoint-auth-scheme-basic',
      );
      assert.ok(basic, 'no basic scheme');
      const ids = (basic.inputDescriptors ?? []).map((d) => d.id);
      assert.deepEqual(ids.sort(), ['password', 'username']);
      assert.ok(
        basic.inputDescriptors?.find((d) => d.id === 'password')?.isConfidential,
        'password must be confidential',
      );
    });

    it('has uniquely named data sources with jsonpath selectors, including TestConnection', () => {
      const sources = props.dataSources ?? [];
      const names = sources.map((d) => d.name);
      assert.equal(new Set(names).size, names.length, 'duplicate data source names');
      assert.ok(names.includes('TestConnection'));
      for (const d of sources) {
        assert.ok(
          d.endpointUrl.startsWith('{{endpoint.url}}'),
          `${d.name}: endpointUrl must start at the workspace URL`,
        );
        if (d.resultSelector !== undefined)
          assert.ok(d.resultSelector.startsWith('jsonpath:'), `${d.name}: resultSelector`);
      }
      const test = sources.find((d) => d.name === 'TestConnection') as DataSource;
      assert.match(test.endpointUrl, /\/api\/2\.0\/workspace\/get-status\?path=%2F$/);
    });
  });

  it('generates one task contribution and files entry per built task', async () => {
    const { generateManifest } = await loadPackageScript();
    const all = [...tasks, ...fixtures].map((t) => ({
      folder: t.folder,
      taskJson: t.json as unknown as Record<string, unknown>,
    }));
    const generated = generateManifest(manifest as unknown as Record<string, unknown>, all);
    const taskContribs = generated.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task');
    assert.equal(taskContribs.length, all.length);
    const files = (generated.files as { path: string }[]).map((f) => f.path);
    for (const t of all) {
      const c = taskContribs.find((x) => x.properties.name === `tasks/${t.folder}`);
      assert.ok(c, `no contribution for ${t.folder}`);
      assert.match(c.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(files.includes(`tasks/${t.folder}`), `files lacks tasks/${t.folder}`);
    }
    const ids = generated.contributions.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});
