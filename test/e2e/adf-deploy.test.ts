/**
 * DataFactoryDeploy@1 end to end: the bundled task, run as the agent runs it,
 * against emulated Entra ID, Azure DevOps (OIDC) and Resource Manager with Data
 * Factory. Trigger handling is asserted from the emulator's trigger journal.
 */
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installArm, type ArmEmulator, type ArmOptions } from '../emulator/arm';
import { generateCertificate } from '../emulator/certificate';
import { Emulator } from '../emulator/core';
import { installDevops, type DevopsPlugin } from '../emulator/devops';
import { installEntra, type EntraPlugin } from '../emulator/entra';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask, type EndpointSpec, type RunTaskOptions, type TaskRun } from '../harness/run-task';
import {
  dataset,
  exportTemplate,
  GOLDEN,
  ls,
  pipeline,
  scheduleTrigger,
  type FactorySpec,
} from '../unit/datafactory/deploy/helpers';
import { armSecretEndpoint } from '../harness/arm-endpoint';

const TASK = 'DataFactoryDeployV1';
const SUB = '33333333-4444-5555-6666-777777777777';
const RG = 'rg-analytics-prod';
const FACTORY = 'adf-analytics-prod';
const SECRET = 'e2e-adf-deploy-client-secret-0123456789';
const SQL_PASSWORD = 'Sup3r secret; pa$$ "word"';
const FAST: Partial<ArmOptions> = {
  deploymentStartMs: 5,
  deploymentStepMs: 2,
  triggerOperationMs: 30,
  asyncRetryAfterSeconds: 0,
};

const sqlLinkedService = {
  annotations: [],
  type: 'AzureSqlDatabase',
  typeProperties: {
    connectionString: { type: 'SecureString', value: "[parameters('LS_Sql_connectionString')]" },
  },
};

const v1: FactorySpec = {
  linkedServices: { LS_Lake: ls(), LS_Sql: sqlLinkedService },
  datasets: { DS_Raw: dataset('LS_Lake', 'raw'), DS_Curated: dataset('LS_Lake', 'curated') },
  pipelines: {
    PL_Load: pipeline({ datasets: ['DS_Raw'] }),
    PL_Transform: pipeline({ datasets: ['DS_Curated'] }),
    PL_Master: pipeline({ calls: ['PL_Load', 'PL_Transform'] }),
    PL_Report: pipeline({ wait: 2 }),
  },
  triggers: {
    TR_Nightly: scheduleTrigger(['PL_Master']),
    TR_Report: scheduleTrigger(['PL_Report'], 'Started', 6),
    TR_Hourly: scheduleTrigger(['PL_Load'], 'Started', 1),
    TR_Manual: scheduleTrigger(['PL_Report'], 'Stopped', 9),
  },
};
const templateOptions = { parameters: { LS_Sql_connectionString: { type: 'secureString' } } };
const parametersFile = {
  $schema: 'https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#',
  contentVersion: '1.0.0.0',
  parameters: { factoryName: { value: 'adf-analytics-dev' }, LS_Sql_connectionString: { value: '' } },
};

/** v1 with PL_Master and TR_Nightly changed. */
const v2: FactorySpec = {
  ...v1,
  pipelines: {
    ...v1.pipelines,
    PL_Master: pipeline({ calls: ['PL_Load', 'PL_Transform'], description: 'nightly v2' }),
  },
  triggers: { ...v1.triggers, TR_Nightly: scheduleTrigger(['PL_Master'], 'Started', 3) },
};

describe('DataFactoryDeploy@1 (e2e)', function () {
  this.timeout(120_000);
  let emu: Emulator;
  let arm: ArmEmulator;
  let entra: EntraPlugin;
  let devops: DevopsPlugin;
  let distDir: string;
  let clientId: string;
  let work: string;

  before(async function () {
    this.timeout(180_000);
    const [built, e] = await Promise.all([buildOnce(TASKS_ROOT), Emulator.create({ seed: 21 })]);
    distDir = built.out;
    emu = e;
    entra = await installEntra(emu);
    devops = await installDevops(emu);
    arm = await installArm(emu, FAST);
  });
  after(async () => emu?.stop());

  beforeEach(() => {
    emu.reset();
    arm.setOptions(FAST);
    arm.addSubscription(SUB, { tenantId: entra.defaultTenantId, displayName: 'Analytics' });
    arm.addResourceGroup(SUB, RG, 'westeurope');
    clientId = crypto.randomUUID();
    entra.addApp({ tenantId: entra.defaultTenantId, clientId, secret: SECRET });
    arm.grant(SUB, clientId, 'Data Factory Contributor');
    arm.addFactory(SUB, RG, FACTORY, 'westeurope');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-adf-deploy-'));
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  const endpoint = (over: Partial<EndpointSpec> = {}): EndpointSpec =>
    armSecretEndpoint(
      {
        armUrl: arm.url,
        tenantId: entra.defaultTenantId,
        authorityHost: entra.authorityHost,
        clientId,
        secret: SECRET,
        subscriptionId: SUB,
      },
      over,
    );

  /** Writes the template (and parameters) into the work folder; returns the template path. */
  function writeTemplate(spec: FactorySpec | object, name = 'ARMTemplateForFactory.json'): string {
    const t = 'resources' in spec ? spec : exportTemplate(spec as FactorySpec, templateOptions);
    const file = path.join(work, name);
    fs.writeFileSync(file, JSON.stringify(t, null, 2));
    fs.writeFileSync(path.join(work, 'ARMTemplateParametersForFactory.json'), JSON.stringify(parametersFile));
    return file;
  }

  function deploy(inputs: Record<string, string>, extra: Partial<RunTaskOptions> = {}): Promise<TaskRun> {
    return runTask({
      task: TASK,
      distDir,
      inputs: {
        azureSubscription: 'arm-conn',
        resourceGroupName: RG,
        factoryName: FACTORY,
        templateParametersFile: path.join(work, 'ARMTemplateParametersForFactory.json'),
        overrideParameters: `-LS_Sql_connectionString "${SQL_PASSWORD.replace(/["\\]/g, '\\$&')}"`,
        deploymentMethod: 'arm',
        ...inputs,
      },
      endpoints: { 'arm-conn': endpoint(), ...extra.endpoints },
      variables: { 'Build.BuildId': '4711', 'System.HostType': 'build', ...extra.variables },
      secrets: [SECRET, SQL_PASSWORD, ...(extra.secrets ?? [])],
      env: { ...emu.env(), ...extra.env },
      ...omit(extra, ['endpoints', 'variables', 'secrets', 'env']),
    });
  }

  function omit<T extends object>(o: T, keys: (keyof T)[]): Partial<T> {
    const out = { ...o };
    for (const k of keys) delete out[k];
    return out;
  }

  const dropFactory = () => arm.state.deleteFactory(SUB, RG, FACTORY);
  const explain = (r: TaskRun) =>
    `${r.outcome}: ${r.result?.message}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`;
  const factory = () => arm.factory(SUB, RG, FACTORY);
  const triggerStates = () =>
    Object.fromEntries(
      factory()!
        .list('triggers')
        .map((t) => [t.name, t.runtimeState]),
    );
  const stopped = () =>
    arm
      .triggerStoppedIntervals(FACTORY)
      .map((i) => i.trigger)
      .sort();

  it('first deployment: creates the factory in location, deploys everything, starts triggers, masks secrets', async () => {
    dropFactory();
    const r = await deploy({ templateFile: writeTemplate(v1), location: 'northeurope' });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    const f = factory()!;
    assert.equal(f.location, 'northeurope');
    assert.deepEqual(triggerStates(), {
      TR_Nightly: 'Started',
      TR_Report: 'Started',
      TR_Hourly: 'Started',
      TR_Manual: 'Stopped',
    });
    // The quoted override reached the factory exactly, and never the log.
    const sql = f.definition('linkedServices', 'LS_Sql') as {
      typeProperties: { connectionString: { value: string } };
    };
    assert.equal(sql.typeProperties.connectionString.value, SQL_PASSWORD);
    assert.equal(r.outputVariables.deploymentName, 'adf-adf-analytics-prod-b4711');
    assert.equal(r.outputVariables.updatedCount, '12');
    assert.equal(r.outputVariables.deletedCount, '0');
    assert.equal(r.outputVariables.triggersRestarted, '3');
    assert.deepEqual(JSON.parse(r.outputVariables.deploymentOutputs), {});
    assert.match(r.summaries[0]?.content ?? '', /### Deployed: factory `adf-analytics-prod`/);
    assert.ok(r.secretsSet.includes(SQL_PASSWORD), 'the secure value is registered with the agent');
    assert.ok(arm.deployment(SUB, RG, 'adf-adf-analytics-prod-b4711'), 'one ARM deployment');
    r.assertNoSecrets();
  });

  for (const method of ['arm', 'direct']) {
    it(`redeployment with changes (${method}): the changed started trigger is stopped, updated, restarted; others never stopped`, async () => {
      assert.equal(
        (await deploy({ templateFile: writeTemplate(v1), deploymentMethod: method })).outcome,
        'Succeeded',
      );
      const eventsBefore = factory()!.triggerEvents.length;
      const r = await deploy({ templateFile: writeTemplate(v2), deploymentMethod: method });
      assert.equal(r.outcome, 'Succeeded', explain(r));
      assert.deepEqual(stopped(), ['TR_Nightly']);
      assert.deepEqual(
        factory()!
          .triggerEvents.slice(eventsBefore)
          .map((e) => `${e.action} ${e.trigger}`),
        ['stop TR_Nightly', 'start TR_Nightly'],
      );
      assert.deepEqual(triggerStates(), {
        TR_Nightly: 'Started',
        TR_Report: 'Started',
        TR_Hourly: 'Started',
        TR_Manual: 'Stopped',
      });
      assert.equal(
        (factory()!.definition('pipelines', 'PL_Master') as { description: string }).description,
        'nightly v2',
      );
      // The linked service with a secure value is always rewritten (its value cannot be read back).
      assert.equal(r.outputVariables.updatedCount, '3');
      assert.equal(r.outputVariables.triggersRestarted, '1');
      // The overwritten live definitions are kept as a build artifact.
      const backup = r.uploads.find((u) => u.kind === 'artifact');
      assert.ok(backup?.content, 'backup uploaded');
      const saved = JSON.parse(backup.content);
      assert.ok(saved.resources.some((x: { name: string }) => x.name.includes('/PL_Master')));
      const summary = r.summaries[0]?.content ?? '';
      assert.match(summary, /\| `TR_Nightly` \| [\d.]+ (ms|s) \| yes \|/);
      if (method === 'direct') {
        assert.match(r.stdout, /~ typeProperties\.recurrence\.schedule\.hours\[0\]: 2 → 3/);
        assert.match(r.stdout, /\+ description: "nightly v2"/);
      }
      r.assertNoSecrets();
    });
  }

  it('deleteRemoved: deletes removed pipelines callers first, keeps what is referenced, honours maxDeletes', async () => {
    assert.equal(
      (await deploy({ templateFile: writeTemplate(v1), deploymentMethod: 'direct' })).outcome,
      'Succeeded',
    );
    // PL_Master (calls PL_Load and PL_Transform) and its trigger go; PL_Transform goes; PL_Load stays for TR_Hourly.
    const v3: FactorySpec = {
      linkedServices: v1.linkedServices,
      datasets: v1.datasets,
      pipelines: { PL_Load: v1.pipelines!.PL_Load, PL_Report: v1.pipelines!.PL_Report },
      triggers: {
        TR_Report: v1.triggers!.TR_Report,
        TR_Hourly: v1.triggers!.TR_Hourly,
        TR_Manual: v1.triggers!.TR_Manual,
      },
    };
    const guarded = await deploy({
      templateFile: writeTemplate(v3),
      deploymentMethod: 'direct',
      deleteRemoved: 'true',
      maxDeletes: '2',
    });
    assert.equal(guarded.outcome, 'Failed');
    assert.match(
      guarded.result?.message ?? '',
      /deletes 3 objects, more than maxDeletes \(2\).*Nothing was changed/,
    );
    assert.equal(emu.requests({ method: 'DELETE' }).length, 0);
    const r = await deploy({
      templateFile: writeTemplate(v3),
      deploymentMethod: 'direct',
      deleteRemoved: 'true',
      maxDeletes: '3',
    });
    assert.equal(r.outcome, 'Succeeded', explain(r));
    assert.equal(r.outputVariables.deletedCount, '3');
    const deletes = emu
      .requests({ method: 'DELETE' })
      .map((e) => decodeURIComponent(e.path.split('/').pop()!));
    assert.deepEqual(deletes.slice(0, 1), ['TR_Nightly']);
    assert.ok(deletes.indexOf('PL_Master') < deletes.indexOf('PL_Transform'), deletes.join());
    assert.deepEqual(Object.keys(factory()!.snapshot().pipelines).sort(), ['PL_Load', 'PL_Report']);
    assert.deepEqual(stopped(), ['TR_Nightly'], 'the deleted started trigger was stopped first');
  });

  it('a failing resource: each failed operation is reported and the stopped triggers are restarted', async () => {
    assert.equal((await deploy({ templateFile: writeTemplate(v1) })).outcome, 'Succeeded');
    const broken = exportTemplate(
      { ...v2, pipelines: { ...v2.pipelines, PL_Broken: pipeline({ datasets: ['DS_Missing'] }) } },
      templateOptions,
    ) as { resources: { name: string; dependsOn: string[] }[] };
    broken.resources.find((x) => x.name.includes('/PL_Broken'))!.dependsOn = [];
    const r = await deploy({ templateFile: writeTemplate(broken) });
    assert.equal(r.outcome, 'Failed');
    const msg = r.result?.message ?? '';
    assert.match(
      msg,
      /1 resource\(s\) failed: pipelines PL_Broken: BadRequest: The document creation or update failed because of invalid reference 'ds_missing'/,
    );
    assert.match(msg, /The 1 trigger\(s\) this run stopped were restarted/);
    assert.ok(
      r.errors.some((e) => /pipelines PL_Broken: deploy failed: BadRequest/.test(e)),
      r.errors.join('\n'),
    );
    assert.deepEqual(triggerStates(), {
      TR_Nightly: 'Started',
      TR_Report: 'Started',
      TR_Hourly: 'Started',
      TR_Manual: 'Stopped',
    });
    assert.match(r.summaries[0]?.content ?? '', /### Deployment failed/);
    r.assertNoSecrets();
  });

  it('Validation, WhatIf and a dry run write nothing', async () => {
    assert.equal((await deploy({ templateFile: writeTemplate(v1) })).outcome, 'Succeeded');
    const changes = arm.changeCount;
    emu.clearJournal();
    const file = writeTemplate(v2);
    const val = await deploy({ templateFile: file, deploymentMode: 'Validation' });
    assert.equal(val.outcome, 'Succeeded', explain(val));
    assert.match(val.stdout, /The template is valid according to Resource Manager/);
    const whatIf = await deploy({ templateFile: file, deploymentMode: 'WhatIf' });
    assert.equal(whatIf.outcome, 'Succeeded', explain(whatIf));
    assert.match(whatIf.stdout, /Modify: \d+/);
    assert.equal(whatIf.outputVariables.updatedCount, '3');
    const dry = await deploy({
      templateFile: file,
      deploymentMethod: 'direct',
      dryRun: 'true',
      deleteRemoved: 'true',
    });
    assert.equal(dry.outcome, 'Succeeded', explain(dry));
    assert.match(
      dry.stdout,
      /Dry run: plan: 0 to create, 3 to update, 9 unchanged, 0 to delete, 1 trigger\(s\) to stop, 1 trigger\(s\) to start/,
    );
    assert.match(dry.stdout, /\+ description: "nightly v2"/);
    assert.equal(arm.changeCount, changes, 'no state changed');
    const writes = emu.writes().filter((e) => e.host === 'management' && !/validate|whatIf/.test(e.api));
    assert.deepEqual(
      writes.map((e) => `${e.method} ${e.path}`),
      [],
    );
    assert.equal(emu.requests({ method: 'POST', api: 'arm.deployments.validate' }).length, 1);
  });

  it('direct from linked templates on disk leaves the same factory as arm with the single-file export', async () => {
    // The exporter's golden output; tumbling-window triggers are left stopped here (see report).
    dropFactory();
    const copy = path.join(work, 'golden');
    fs.cpSync(path.join(GOLDEN, 'linked-templates'), copy, { recursive: true });
    for (const f of ['ARMTemplateForFactory.json', 'linkedTemplates/ArmTemplate_1.json']) {
      const file = path.join(copy, f);
      fs.writeFileSync(
        file,
        fs
          .readFileSync(file, 'utf8')
          .replace(/("runtimeState": )"Started"(,\s*"pipeline": \{)/g, '$1"Stopped"$2'),
      );
    }
    const overrides =
      '-LS_ADLS_accountKey "a key" -LS_Blob_Sas_sasUri "https://st.blob.core.windows.net/?sv=x" -LS_SqlDb_connectionString "Server=tcp:sql"';
    const viaArm = await deploy({
      templateFile: path.join(copy, 'ARMTemplateForFactory.json'),
      templateParametersFile: path.join(copy, 'ARMTemplateParametersForFactory.json'),
      overrideParameters: overrides,
      location: 'westeurope',
    });
    assert.equal(viaArm.outcome, 'Succeeded', explain(viaArm));
    const armState = factory()!.snapshot();
    const armTriggers = triggerStates();
    emu.reset();
    arm.setOptions(FAST);
    arm.addSubscription(SUB, { tenantId: entra.defaultTenantId });
    arm.addResourceGroup(SUB, RG, 'westeurope');
    entra.addApp({ tenantId: entra.defaultTenantId, clientId, secret: SECRET });
    arm.grant(SUB, clientId, 'Contributor');
    const viaDirect = await deploy({
      templateFile: path.join(copy, 'linkedTemplates', 'ArmTemplate_master.json'),
      templateParametersFile: path.join(copy, 'linkedTemplates', 'ArmTemplateParameters_master.json'),
      overrideParameters: overrides,
      deploymentMethod: 'direct',
      location: 'westeurope',
    });
    assert.equal(viaDirect.outcome, 'Succeeded', explain(viaDirect));
    assert.deepEqual(factory()!.snapshot(), armState);
    assert.deepEqual(triggerStates(), armTriggers);
    // arm with the master needs the templates in storage: a clear message, not a failed deployment.
    const noStorage = await deploy({
      templateFile: path.join(copy, 'linkedTemplates', 'ArmTemplate_master.json'),
      templateParametersFile: path.join(copy, 'linkedTemplates', 'ArmTemplateParameters_master.json'),
      overrideParameters: overrides,
    });
    assert.equal(noStorage.outcome, 'Failed');
    assert.match(noStorage.result?.message ?? '', /containerUri is empty.*deploymentMethod to 'direct'/);
  });

  it('an over-size template: arm refuses before sending and points at direct, which deploys it', async () => {
    const spec: FactorySpec = {
      linkedServices: { LS_Lake: ls() },
      datasets: { DS: dataset('LS_Lake') },
      pipelines: {},
    };
    for (let i = 0; i < 120; i++)
      spec.pipelines![`PL_${i}`] = pipeline({ datasets: ['DS'], description: `${i} `.padEnd(40_000, 'x') });
    const file = writeTemplate(exportTemplate(spec, templateOptions));
    assert.ok(fs.statSync(file).size > 4 * 1024 * 1024);
    const r = await deploy({ templateFile: file });
    assert.equal(r.outcome, 'Failed');
    assert.match(
      r.result?.message ?? '',
      /above Azure Resource Manager's 4 MB limit.*Set deploymentMethod to 'direct'/,
    );
    assert.equal(emu.requests({ api: /^arm\.deployments/ }).length, 0, 'nothing sent to ARM');
    const d = await deploy({ templateFile: file, deploymentMethod: 'direct' });
    assert.equal(d.outcome, 'Succeeded', explain(d));
    assert.equal(Object.keys(factory()!.snapshot().pipelines).length, 120);
  });

  it('with 10% injected faults the factory ends up exactly as the template says', async () => {
    assert.equal(
      (await deploy({ templateFile: writeTemplate(v1), deploymentMethod: 'direct' })).outcome,
      'Succeeded',
    );
    emu.addRandomFaults(0.1, { host: 'management' });
    const r = await deploy({ templateFile: writeTemplate(v2), deploymentMethod: 'direct' });
    const a = await deploy({ templateFile: writeTemplate(v1), deploymentMethod: 'arm' });
    emu.clearFaults();
    assert.equal(r.outcome, 'Succeeded', explain(r));
    assert.equal(a.outcome, 'Succeeded', explain(a));
    assert.ok(
      emu.journal.some((e) => e.fault && e.fault !== 'rateLimit'),
      'faults fired',
    );
    assert.equal(
      (factory()!.definition('pipelines', 'PL_Master') as { description?: string }).description,
      undefined,
    );
    assert.deepEqual(triggerStates(), {
      TR_Nightly: 'Started',
      TR_Report: 'Started',
      TR_Hourly: 'Started',
      TR_Manual: 'Stopped',
    });
  });

  it('authenticates with workload identity federation and with a certificate', async () => {
    const wifClient = crypto.randomUUID();
    const sc = devops.addServiceConnection({ name: 'adf-prod-wif' });
    entra.addApp({
      tenantId: entra.defaultTenantId,
      clientId: wifClient,
      federated: { issuer: devops.issuer, subject: devops.subjectFor(sc.name) },
    });
    arm.grant(SUB, wifClient, 'Contributor');
    const wif = await deploy(
      { templateFile: writeTemplate(v1), azureSubscription: sc.id },
      {
        endpoints: {
          [sc.id]: endpoint({
            scheme: 'WorkloadIdentityFederation',
            parameters: { serviceprincipalid: wifClient, tenantid: entra.defaultTenantId },
          }),
        },
        variables: { 'System.OidcRequestUri': devops.oidcRequestUri },
        systemAccessToken: devops.issueAccessToken(),
      },
    );
    assert.equal(wif.outcome, 'Succeeded', explain(wif));
    assert.ok(entra.issued.some((t) => t.via === 'federated' && t.clientId === wifClient));

    const cert = await generateCertificate('adf-deploy-sp');
    const certClient = crypto.randomUUID();
    entra.addApp({ tenantId: entra.defaultTenantId, clientId: certClient, certificatePem: cert.certPem });
    arm.grant(SUB, certClient, 'Contributor');
    const pem = `${cert.certPem}\n${cert.keyPem}`;
    const viaCert = await deploy(
      { templateFile: writeTemplate(v2), deploymentMethod: 'direct', azureSubscription: 'cert-conn' },
      {
        endpoints: {
          'cert-conn': endpoint({
            parameters: {
              serviceprincipalid: certClient,
              tenantid: entra.defaultTenantId,
              authenticationType: 'spnCertificate',
              servicePrincipalCertificate: pem,
            },
          }),
        },
        secrets: [cert.keyPem.split('\n').filter((l) => l.length > 40)[0]],
      },
    );
    assert.equal(viaCert.outcome, 'Succeeded', explain(viaCert));
    assert.ok(entra.issued.some((t) => t.clientId === certClient));
    viaCert.assertNoSecrets();
  });

  it('cancelled mid-deployment: the ARM deployment is cancelled and stopped triggers are restarted', async () => {
    assert.equal((await deploy({ templateFile: writeTemplate(v1) })).outcome, 'Succeeded');
    arm.setOptions({ deploymentStepMs: 400 });
    const r = await deploy(
      { templateFile: writeTemplate(v2) },
      {
        onStdoutLine: (line, control) => {
          if (/^Creating Resource Manager deployment/.test(line))
            setTimeout(() => control.kill('SIGINT'), 300);
        },
      },
    );
    assert.equal(r.outcome, 'Cancelled', explain(r));
    assert.equal(
      emu.requests({ api: 'arm.deployments.cancel' }).length,
      1,
      'the ARM deployment was cancelled',
    );
    assert.equal(triggerStates().TR_Nightly, 'Started');
    assert.match(r.stdout, /Restarting 1 trigger\(s\) this run stopped: TR_Nightly/);
  });

  describe('bad input fails before any change, naming the input', () => {
    const cases: { name: string; inputs: () => Record<string, string>; input: string; re: RegExp }[] = [
      {
        name: 'missing template',
        inputs: () => ({ templateFile: path.join(work, 'nope.json') }),
        input: 'templateFile',
        re: /must be an existing file/,
      },
      {
        name: 'unknown override',
        inputs: () => ({
          templateFile: writeTemplate(v1),
          overrideParameters: '-LS_Sql_connectionString x -factoryNme adf',
        }),
        input: 'overrideParameters',
        re: /-factoryNme is not a parameter of the template/,
      },
      {
        name: 'unclosed quote',
        inputs: () => ({
          templateFile: writeTemplate(v1),
          overrideParameters: '-LS_Sql_connectionString "abc',
        }),
        input: 'overrideParameters',
        re: /no closing "/,
      },
      {
        name: 'missing secure parameter',
        inputs: () => ({
          templateFile: writeTemplate(v1),
          templateParametersFile: '',
          overrideParameters: '',
        }),
        input: 'overrideParameters',
        re: /needs a value for LS_Sql_connectionString/,
      },
      {
        name: 'bad factory name',
        inputs: () => ({ templateFile: writeTemplate(v1), factoryName: 'adf_prod!' }),
        input: 'factoryName',
        re: /only letters, numbers and single dashes/,
      },
      {
        name: 'unknown mode',
        inputs: () => ({ templateFile: writeTemplate(v1), deploymentMode: 'Complete' }),
        input: 'deploymentMode',
        re: /must be one of Incremental, Validation, WhatIf/,
      },
      {
        name: 'missing resource group',
        inputs: () => ({ templateFile: writeTemplate(v1), resourceGroupName: 'rg-nope' }),
        input: 'resourceGroupName',
        re: /Resource group 'rg-nope' was not found/,
      },
      {
        name: 'missing factory without location',
        inputs: () => ({ templateFile: writeTemplate(v1) }),
        input: 'location',
        re: /does not exist.*give input 'location'/,
      },
      {
        name: 'template for another factory',
        inputs: () => ({
          templateFile: writeTemplate({
            ...exportTemplate(v1, templateOptions),
            resources: [
              {
                name: 'adf-other/PL_X',
                type: 'Microsoft.DataFactory/factories/pipelines',
                apiVersion: '2018-06-01',
                properties: { activities: [] },
              },
            ],
          }),
        }),
        input: 'factoryName',
        re: /targets factory 'adf-other'/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        if (c.name === 'missing factory without location') dropFactory();
        const r = await deploy(c.inputs());
        assert.equal(r.outcome, 'Failed', explain(r));
        assert.match(r.result?.message ?? '', c.re);
        assert.match(r.result?.message ?? '', new RegExp(c.input));
        assert.deepEqual(
          emu.writes().filter((e) => e.host === 'management'),
          [],
        );
      });
    }
  });
});
