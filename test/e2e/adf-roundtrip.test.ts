/**
 * Round trip of a Data Factory git folder through the bundled tasks: export
 * test/fixtures/adf/sample-factory with DataFactoryBuildArmTemplate@1, deploy
 * the export with DataFactoryDeploy@1 (arm with the single-file template,
 * direct with the single-file template and with the linked templates) into an
 * emulated factory, read every object back as the REST API returns it, and
 * compare it with the source JSON. Allowed differences are the documented ones:
 * - parameter substitution: the exported parameters file holds the source
 *   values, and the secure parameters are given again as overrides;
 * - runtimeState: not part of a definition; each trigger must end in the
 *   state its source file gives;
 * - secure values: the service returns SecureString values masked, and the
 *   export replaces a linked service's encryptedCredential (only meaningful to
 *   the source factory) with the SecureString it stands for;
 * - defaults the portal's export adds (src/datafactory/normalize.ts): empty
 *   objects and arrays, policy.secureInput false, and properties the service
 *   fills in (provisioningState, connectionState, …).
 */
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installArm, type ArmEmulator, type ArmOptions } from '../emulator/arm';
import type { AdfKind } from '../emulator/azure/factory';
import { Emulator } from '../emulator/core';
import { installDevops } from '../emulator/devops';
import { installEntra, type EntraPlugin } from '../emulator/entra';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type TaskRun } from '../harness/run-task';
import { armSecretEndpoint } from '../harness/arm-endpoint';

const SOURCE = path.resolve(__dirname, '../fixtures/adf/sample-factory');
const SUB = '44444444-5555-6666-7777-888888888888';
const RG = 'rg-sample-test';
const FACTORY = 'adf-sample-test';
const SECRET = 'e2e-adf-roundtrip-client-secret-0123456789';
const FAST: Partial<ArmOptions> = {
  deploymentStartMs: 5,
  deploymentStepMs: 2,
  triggerOperationMs: 20,
  asyncRetryAfterSeconds: 0,
};
const MASK = '**********';

/** Git folder → the emulator's kind for the objects in it. */
const FOLDERS: Record<string, AdfKind> = {
  integrationRuntime: 'integrationRuntimes',
  credential: 'credentials',
  linkedService: 'linkedServices',
  dataset: 'datasets',
  dataflow: 'dataflows',
  pipeline: 'pipelines',
  trigger: 'triggers',
  managedVirtualNetwork: 'managedVirtualNetworks',
};

/** Properties the service sets itself and returns on GET. */
const SERVICE_FILLED = new Set(['provisioningState', 'connectionState', 'isReserved', 'vNetId', 'alias']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Json;
}

/** Every source object: kind, name ('vnet/endpoint' for private endpoints), properties. */
function sourceObjects(): { kind: AdfKind; name: string; properties: Json; file: string }[] {
  const out: { kind: AdfKind; name: string; properties: Json; file: string }[] = [];
  for (const [folder, kind] of Object.entries(FOLDERS)) {
    const dir = path.join(SOURCE, folder);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const json = readJson(path.join(dir, f));
      out.push({
        kind,
        name: String(json.name),
        properties: isObject(json.properties) ? json.properties : {},
        file: `${folder}/${f}`,
      });
    }
    if (folder !== 'managedVirtualNetwork') continue;
    for (const vnet of fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const mpeDir = path.join(dir, vnet.name, 'managedPrivateEndpoint');
      for (const f of fs.readdirSync(mpeDir).filter((x) => x.endsWith('.json'))) {
        const json = readJson(path.join(mpeDir, f));
        out.push({
          kind: 'managedPrivateEndpoints',
          name: `${vnet.name}/${String(json.name)}`,
          properties: isObject(json.properties) ? json.properties : {},
          file: `managedVirtualNetwork/${vnet.name}/managedPrivateEndpoint/${f}`,
        });
      }
    }
  }
  return out;
}

/** A value the portal's export (or the service) adds without changing meaning: {}, [], false, or only such. */
function isAddedDefault(v: unknown): boolean {
  if (v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.values(v).every(isAddedDefault);
  return false;
}

/**
 * Differences between a source definition and the deployed one (as GET returns
 * it), other than the documented ones. `secretsFromCredential`: the source had an
 * encryptedCredential, so masked SecureStrings may appear in its place.
 */
function differences(
  source: unknown,
  deployed: unknown,
  at: string,
  secretsFromCredential: boolean,
): string[] {
  if (isObject(source) && isObject(deployed)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(source), ...Object.keys(deployed)])) {
      const p = at ? `${at}.${k}` : k;
      if (k === 'runtimeState') continue;
      if (k === 'encryptedCredential' && !(k in deployed)) continue;
      if (!(k in deployed)) out.push(`${p}: missing after the round trip`);
      else if (!(k in source)) {
        const v = deployed[k];
        const maskedSecret = isObject(v) && v.type === 'SecureString' && v.value === MASK;
        if (!isAddedDefault(v) && !SERVICE_FILLED.has(k) && !(maskedSecret && secretsFromCredential))
          out.push(`${p}: added ${JSON.stringify(v)}`);
      } else out.push(...differences(source[k], deployed[k], p, secretsFromCredential));
    }
    return out;
  }
  if (Array.isArray(source) && Array.isArray(deployed)) {
    if (source.length !== deployed.length)
      return [`${at}: ${source.length} item(s) became ${deployed.length}`];
    return source.flatMap((x, i) => differences(x, deployed[i], `${at}[${i}]`, secretsFromCredential));
  }
  return JSON.stringify(source) === JSON.stringify(deployed)
    ? []
    : [`${at}: ${JSON.stringify(source)} became ${JSON.stringify(deployed)}`];
}

describe('Data Factory round trip: export → DataFactoryDeploy → read back (e2e)', function () {
  this.timeout(120_000);
  let emu: Emulator;
  let arm: ArmEmulator;
  let entra: EntraPlugin;
  let distDir: string;
  let clientId: string;
  let build: TaskRun;
  let repo: string;
  let out: string;

  before(async function () {
    this.timeout(180_000);
    const [built, e] = await Promise.all([buildOnce(TASKS_ROOT), Emulator.create({ seed: 55 })]);
    distDir = built.out;
    emu = e;
    entra = await installEntra(emu);
    await installDevops(emu);
    arm = await installArm(emu, FAST);
    // Export the git folder as a build would: single-file and linked templates.
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-roundtrip-repo-'));
    fs.cpSync(SOURCE, path.join(repo, 'adf'), { recursive: true });
    build = await runTask({
      task: 'DataFactoryBuildArmTemplateV1',
      distDir,
      inputs: { factoryFolder: 'adf', outputFolder: '', linkedTemplates: 'always' },
      sourcesDirectory: repo,
      keepWorkFolder: true,
    });
    assert.equal(build.outcome, 'Succeeded', `${build.result?.message}\n${build.stdout.slice(-3000)}`);
    out = path.dirname(build.outputVariables.templateFile);
  });
  after(async () => {
    build?.cleanup();
    if (repo) fs.rmSync(repo, { recursive: true, force: true });
    await emu?.stop();
  });

  beforeEach(() => {
    emu.reset();
    arm.setOptions(FAST);
    arm.addSubscription(SUB, { tenantId: entra.defaultTenantId, displayName: 'Sample test' });
    arm.addResourceGroup(SUB, RG, 'westeurope');
    clientId = crypto.randomUUID();
    entra.addApp({ tenantId: entra.defaultTenantId, clientId, secret: SECRET });
    arm.grant(SUB, clientId, 'Data Factory Contributor');
  });

  const source = readJson(path.join(SOURCE, 'linkedService', 'LS_SqlDb.json')) as {
    properties: { typeProperties: { connectionString: string } };
  };
  // The secure parameters the export made, given again; the plain connection string gets its source value.
  const SAS = 'https://stsampledev.blob.core.windows.net/?sv=2022-11-02&sig=roundtrip-sas-signature';
  const ACCOUNT_KEY = 'cm91bmR0cmlwLWFjY291bnQta2V5LTAxMjM0NTY3ODk=';
  const overrides = [
    `-LS_SqlDb_connectionString "${source.properties.typeProperties.connectionString}"`,
    `-LS_Blob_Sas_sasUri "${SAS}"`,
    `-LS_ADLS_accountKey "${ACCOUNT_KEY}"`,
  ].join(' ');

  function deploy(templateFile: string, parametersFile: string, method: 'arm' | 'direct'): Promise<TaskRun> {
    return runTask({
      task: 'DataFactoryDeployV1',
      distDir,
      inputs: {
        azureSubscription: 'arm-conn',
        resourceGroupName: RG,
        factoryName: FACTORY,
        location: 'westeurope',
        templateFile,
        templateParametersFile: parametersFile,
        overrideParameters: overrides,
        deploymentMethod: method,
      },
      endpoints: {
        'arm-conn': armSecretEndpoint({
          armUrl: arm.url,
          tenantId: entra.defaultTenantId,
          authorityHost: entra.authorityHost,
          clientId,
          secret: SECRET,
          subscriptionId: SUB,
        }),
      },
      variables: { 'Build.BuildId': '8080', 'System.HostType': 'build' },
      secrets: [SECRET, SAS, ACCOUNT_KEY],
      env: emu.env(),
    });
  }

  /** Compares the deployed factory with the source folder; returns the differences. */
  function compareWithSource(): string[] {
    const f = arm.factory(SUB, RG, FACTORY);
    assert.ok(f, 'the factory exists');
    const problems: string[] = [];
    const expected = sourceObjects();
    assert.equal(expected.length, 27, 'every source object is compared');
    for (const s of expected) {
      const o = f.get(s.kind, s.name);
      if (!o) {
        problems.push(`${s.file}: ${s.kind}/${s.name} was not deployed`);
        continue;
      }
      // As GET returns it: SecureString values masked, runtimeState for triggers.
      const deployed = f.toResource(o).properties as Json;
      const tp = isObject(s.properties.typeProperties) ? s.properties.typeProperties : {};
      const diffs = differences(s.properties, deployed, '', 'encryptedCredential' in tp);
      problems.push(...diffs.map((d) => `${s.file}: ${d}`));
      if (s.kind === 'triggers' && deployed.runtimeState !== (s.properties.runtimeState ?? 'Stopped'))
        problems.push(`${s.file}: runtimeState ${String(deployed.runtimeState)}`);
    }
    // Nothing more than the source (the built-in AutoResolve runtime aside, which the source has too).
    const names = new Set(expected.map((s) => `${s.kind}/${s.name.toLowerCase()}`));
    for (const o of f.objects.values()) {
      if (o.kind === 'globalParameters') continue;
      if (!names.has(`${o.kind}/${o.name.toLowerCase()}`)) problems.push(`unexpected ${o.kind}/${o.name}`);
    }
    // Global parameters: the factory file's, with the parameters file's (source) values.
    const factoryFile = readJson(path.join(SOURCE, 'factory', 'adf-sample-dev.json')) as {
      properties: { globalParameters: Json };
    };
    const gp = (f.factoryResource().properties as Json).globalParameters;
    problems.push(...differences(factoryFile.properties.globalParameters, gp, 'globalParameters', false));
    // Secure values reached the factory as given.
    const sql = f.definition('linkedServices', 'LS_SqlDb') as { typeProperties: Json };
    assert.equal(sql.typeProperties.connectionString, source.properties.typeProperties.connectionString);
    const sas = f.definition('linkedServices', 'LS_Blob_Sas') as { typeProperties: { sasUri: Json } };
    assert.deepEqual(sas.typeProperties.sasUri, { type: 'SecureString', value: SAS });
    const adls = f.definition('linkedServices', 'LS_ADLS') as { typeProperties: { accountKey: Json } };
    assert.deepEqual(adls.typeProperties.accountKey, { type: 'SecureString', value: ACCOUNT_KEY });
    return problems;
  }

  const cases: { label: string; method: 'arm' | 'direct'; template: string; parameters: string }[] = [
    {
      label: 'arm, single-file template',
      method: 'arm',
      template: 'ARMTemplateForFactory.json',
      parameters: 'ARMTemplateParametersForFactory.json',
    },
    {
      label: 'direct, single-file template',
      method: 'direct',
      template: 'ARMTemplateForFactory.json',
      parameters: 'ARMTemplateParametersForFactory.json',
    },
    {
      label: 'direct, linked templates read from disk',
      method: 'direct',
      template: 'linkedTemplates/ArmTemplate_master.json',
      parameters: 'linkedTemplates/ArmTemplateParameters_master.json',
    },
  ];
  const states: Record<string, unknown> = {};
  for (const c of cases) {
    it(`${c.label}: every object reads back as its source file`, async () => {
      const r = await deploy(path.join(out, c.template), path.join(out, c.parameters), c.method);
      assert.equal(r.outcome, 'Succeeded', `${r.result?.message}\n${r.stdout.slice(-4000)}`);
      r.assertNoSecrets();
      assert.deepEqual(compareWithSource(), []);
      states[c.label] = arm.factory(SUB, RG, FACTORY)!.snapshot();

      // Deploying the same export again changes nothing.
      emu.clearJournal();
      const again = await deploy(path.join(out, c.template), path.join(out, c.parameters), c.method);
      assert.equal(again.outcome, 'Succeeded', `${again.result?.message}\n${again.stdout.slice(-4000)}`);
      assert.deepEqual(arm.factory(SUB, RG, FACTORY)!.snapshot(), states[c.label]);
      if (c.method === 'direct') {
        // Only what cannot be compared (objects holding secure values) is written again.
        const puts = emu
          .requests({ method: 'PUT' })
          .filter((e) => e.host === 'management')
          .map((e) => e.path.split('/').slice(-1)[0])
          .sort();
        assert.deepEqual(puts, ['LS_ADLS', 'LS_Blob_Sas']);
      }
    });
  }

  it('the comparison reports changed, missing and added values, and allows only the documented ones', () => {
    const src = {
      type: 'X',
      typeProperties: { url: 'a', encryptedCredential: 'e' },
      runtimeState: 'Started',
    };
    assert.deepEqual(
      differences(
        src,
        {
          type: 'X',
          typeProperties: { url: 'b', key: { type: 'SecureString', value: MASK } },
          runtimeState: 'Stopped',
          annotations: [],
          policy: { elapsedTimeMetric: {}, secureInput: false },
          provisioningState: 'Succeeded',
          extra: 1,
        },
        '',
        true,
      ),
      ['typeProperties.url: "a" became "b"', 'extra: added 1'],
    );
    assert.deepEqual(differences({ a: [1, 2], b: 'x' }, { a: [1] }, '', false), [
      'a: 2 item(s) became 1',
      'b: missing after the round trip',
    ]);
    assert.deepEqual(differences({}, { key: { type: 'SecureString', value: MASK } }, '', false), [
      'key: added {"type":"SecureString","value":"**********"}',
    ]);
  });

  it('arm and direct leave the same factory behind', () => {
    const labels = cases.map((c) => c.label).filter((l) => l in states);
    assert.equal(labels.length, cases.length, 'every round trip ran');
    for (const l of labels.slice(1)) assert.deepEqual(states[l], states[labels[0]], l);
  });
});
