/**
 * DataFactoryDeploy review fixes, each against the in-process emulator:
 * deleteRemoved refuses an incomplete plan (linked templates not on disk, a
 * resource the local evaluator cannot read); plan diffs never print secure
 * values, however long or escaped; backups redeploy (bracketed strings, secure
 * values as parameters); a lost answer to the deployment PUT is recovered; a
 * trigger started between plan and ARM deployment is stopped and redeployed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ArmClient, type DeploymentProperties } from '../../../../src/datafactory/arm-client';
import { formatDiff, maskDiffSecrets, SECURE_MASK } from '../../../../src/datafactory/deploy/compare';
import { DeployFailedError, DeployInputError } from '../../../../src/datafactory/deploy/errors';
import {
  dataset,
  exportTemplate,
  ls,
  pipeline,
  scheduleTrigger,
  type FactorySpec,
  type Props,
} from './helpers';
import { createWorld, factoryState, FACTORY, RG, SUB, type World } from './world';

const v1: FactorySpec = {
  linkedServices: { LS: ls() },
  datasets: { DS: dataset('LS'), DS2: dataset('LS', 'two') },
  pipelines: {
    Child: pipeline({ datasets: ['DS'] }),
    Parent: pipeline({ calls: ['Child'] }),
    Other: pipeline({ datasets: ['DS2'] }),
  },
  triggers: {
    T_parent: scheduleTrigger(['Parent']),
    T_off: scheduleTrigger(['Child'], 'Stopped', 6),
  },
};

type Template = { parameters: Record<string, unknown>; resources: Record<string, unknown>[] };

/** The writes (PUT, DELETE, trigger start/stop) in the emulator's journal. */
function writes(w: World): string[] {
  return w.emu
    .requests()
    .filter((e) => e.method === 'PUT' || e.method === 'DELETE' || /\/(start|stop)$/.test(e.path))
    .map((e) => `${e.method} ${e.path}`);
}

describe('datafactory deploy: review fixes', function () {
  this.timeout(30_000);
  let w: World;
  before(async () => {
    w = await createWorld();
  });
  after(async () => w.close());
  beforeEach(() => w.reset());

  describe('deleteRemoved with an incomplete plan (P1)', () => {
    /** v1 as an ADF linked-template export: a master that links ArmTemplate_0.json (served by the emulator). */
    function linkedMaster(): Template {
      const full = exportTemplate(v1) as Template;
      const childUrl = w.arm.putTemplateFile('release/linkedTemplates/ArmTemplate_0.json', full);
      const containerUri = childUrl.replace(/\/ArmTemplate_0\.json$/, '');
      return {
        parameters: {
          factoryName: { type: 'string', defaultValue: 'adf-dev' },
          containerUri: { type: 'string', defaultValue: containerUri },
          containerSasToken: { type: 'string', defaultValue: '' },
        },
        resources: [
          {
            name: 'adf-dev_ArmTemplate_0',
            type: 'Microsoft.Resources/deployments',
            apiVersion: '2018-02-01',
            properties: {
              mode: 'incremental',
              templateLink: {
                uri: "[concat(parameters('containerUri'), '/ArmTemplate_0.json', parameters('containerSasToken'))]",
                contentVersion: '1.0.0.0',
              },
              parameters: { factoryName: { value: "[parameters('factoryName')]" } },
            },
            dependsOn: [],
          },
        ],
      };
    }

    it('arm: refuses before any change when the linked templates are not on disk', async () => {
      await w.deploy(exportTemplate(v1), { method: 'direct' });
      const before = factoryState(w);
      w.emu.clearJournal();
      const master = { ...exportTemplate({}), ...linkedMaster() };
      await assert.rejects(
        w.deploy(master, { method: 'arm', deleteRemoved: true, maxDeletes: 100 }),
        (e: unknown) => {
          assert.ok(e instanceof DeployInputError, String(e));
          assert.equal(e.input, 'deleteRemoved');
          assert.match(e.message, /deleteRemoved/);
          assert.match(e.message, /ArmTemplate_0\.json not read/);
          assert.match(e.message, /Nothing was changed/);
          return true;
        },
      );
      assert.deepEqual(writes(w), []);
      assert.deepEqual(factoryState(w), before);

      // Without deleteRemoved the same template deploys (ARM fetches the linked template itself).
      const ok = await w.deploy(master, { method: 'arm' });
      assert.deepEqual(ok.deleted, []);
      assert.deepEqual(Object.keys(factoryState(w).objects.pipelines).sort(), ['Child', 'Other', 'Parent']);
    });

    it('arm: refuses (dry run too) when a resource cannot be evaluated locally', async () => {
      await w.deploy(exportTemplate(v1), { method: 'direct' });
      w.emu.clearJournal();
      const t = exportTemplate(v1) as Template;
      const other = t.resources.find((r) => String(r.name).includes("'/Other'"))!;
      other.properties = {
        ...(other.properties as Props),
        description:
          "[reference(resourceId('Microsoft.Storage/storageAccounts', 'st')).primaryEndpoints.dfs]",
      };
      for (const dryRun of [true, false]) {
        await assert.rejects(w.deploy(t, { method: 'arm', deleteRemoved: true, dryRun }), (e: unknown) => {
          assert.ok(e instanceof DeployInputError, String(e));
          assert.equal(e.input, 'deleteRemoved');
          assert.match(e.message, /resource \[concat\(parameters\('factoryName'\), '\/Other'\)\]/);
          assert.match(e.message, /reference/);
          return true;
        });
      }
      assert.deepEqual(writes(w), []);
      assert.ok(factoryState(w).objects.pipelines.Other, 'Other is still there');
    });
  });

  describe('secure values in plan diffs (P2)', () => {
    // Longer than the 100 characters a diff value is cut to, with quotes that JSON escapes.
    const secretOf = (v: string) =>
      `Zx9-"conn"-${v};DefaultEndpointsProtocol=https;AccountName=leaky;AccountKey=${'k'.repeat(60)}${v}/+Q==`;
    const blob = (): Props => ({
      annotations: [],
      type: 'AzureBlobStorage',
      typeProperties: {
        // A secure parameter in a plain-string property, as the default definition produces.
        connectionString: "[parameters('LS_Blob_connectionString')]",
        // Derived from the secure parameter: its value does not contain the secret itself.
        encodedKey: "[base64(parameters('LS_Blob_connectionString'))]",
        containerUri: "[concat('https://st.blob.core.windows.net/c?', variables('sas'))]",
      },
    });
    const template = () => {
      const t = exportTemplate(
        { linkedServices: { LS_Blob: blob(), LS: ls() } },
        { parameters: { LS_Blob_connectionString: { type: 'secureString' } } },
      ) as Template & { variables: Record<string, unknown> };
      t.variables.sas = "[concat('sig=', uriComponent(parameters('LS_Blob_connectionString')))]";
      return t;
    };
    const leaks = (text: string, secret: string): string[] => {
      const forms = [
        secret,
        secret.slice(0, 20),
        JSON.stringify(secret).slice(1, 21),
        Buffer.from(secret).toString('base64').slice(0, 20),
        encodeURIComponent(secret).slice(0, 20),
      ];
      return forms.filter((f) => text.includes(f));
    };

    for (const method of ['direct', 'arm'] as const) {
      it(`${method}: dry run and deployment never print a secure value or its prefix`, async () => {
        const old = secretOf('old');
        const next = secretOf('new');
        await w.deploy(template(), {
          method: 'direct',
          overrideParameters: `-LS_Blob_connectionString '${old}'`,
        });
        for (const dryRun of [true, false]) {
          const res = await w.deploy(template(), {
            method,
            dryRun,
            overrideParameters: `-LS_Blob_connectionString '${next}'`,
          });
          const text = `${res.logger.text()}\n${res.summaryMarkdown}`;
          assert.deepEqual(leaks(text, next), [], text);
          assert.deepEqual(leaks(text, old), [], text);
          assert.deepEqual(
            res.plan!.items.filter((i) => i.action === 'update').map((i) => i.name),
            ['LS_Blob'],
          );
          if (dryRun || method === 'direct') {
            // The change is still visible, masked.
            assert.match(text, /~ typeProperties\.connectionString: "\*{10}" → "\*{10}"/);
            assert.match(text, /~ typeProperties\.encodedKey: "\*{10}" → "\*{10}"/);
          }
        }
        const live = factoryState(w).objects.linkedServices.LS_Blob as {
          typeProperties: { connectionString: string };
        };
        assert.equal(live.typeProperties.connectionString, next);
      });
    }

    it('masks before escaping and shortening, whole values and nested ones', () => {
      const secret = 'p"w' + 'x'.repeat(120);
      const diffs = maskDiffSecrets(
        [
          { path: 'a', kind: 'changed', before: 'old-secret-value', after: `Server=s;Password=${secret}` },
          { path: 'b', kind: 'added', after: { user: 'u', password: secret, list: [secret, 'ok'] } },
          { path: 'c', kind: 'removed', before: 'plain' },
        ],
        [secret],
      );
      assert.deepEqual(diffs, [
        { path: 'a', kind: 'changed', before: SECURE_MASK, after: SECURE_MASK },
        { path: 'b', kind: 'added', after: { user: 'u', password: SECURE_MASK, list: [SECURE_MASK, 'ok'] } },
        { path: 'c', kind: 'removed', before: 'plain' },
      ]);
      const lines = formatDiff([{ path: 'x', kind: 'added', after: secret }], 25, [secret]);
      assert.deepEqual(lines, [`+ x: "${SECURE_MASK}"`]);
    });
  });

  describe('backup (P3)', () => {
    const sql = (annotation?: string): Props => ({
      annotations: annotation ? [annotation] : [],
      type: 'AzureSqlDatabase',
      typeProperties: {
        connectionString: { type: 'SecureString', value: "[parameters('LS_Sql_connectionString')]" },
      },
    });
    const table = (description?: string): Props => ({
      linkedServiceName: { referenceName: 'LS_Sql', type: 'LinkedServiceReference' },
      annotations: [],
      type: 'AzureSqlTable',
      ...(description ? { description } : {}),
      // ARM reads "[...]" as an expression: an export escapes literal brackets as "[[".
      typeProperties: { tableName: '[[dbo].[Customers]' },
    });
    const withList = (description?: string): Props => ({
      ...pipeline({ datasets: ['DS_Customers'] }),
      parameters: { ids: { type: 'string', defaultValue: '[[1,2,3]' } },
      ...(description ? { description } : {}),
    });
    const spec = (changed: boolean): FactorySpec => ({
      linkedServices: { LS_Sql: sql(changed ? 'v2' : undefined) },
      datasets: { DS_Customers: table(changed ? 'v2' : undefined) },
      pipelines: { PL_Load: withList(changed ? 'v2' : undefined) },
    });
    const opts = { parameters: { LS_Sql_connectionString: { type: 'secureString' } } };
    const password = 'Server=tcp:sql;Password=[not an expression]';

    it('redeploys through arm: bracketed strings stay literal, secure values become parameters', async () => {
      await w.deploy(exportTemplate(spec(false), opts), {
        method: 'direct',
        overrideParameters: `-LS_Sql_connectionString '${password}'`,
      });
      const original = factoryState(w).objects;
      assert.equal(
        (original.datasets.DS_Customers as { typeProperties: { tableName: string } }).typeProperties
          .tableName,
        '[dbo].[Customers]',
      );
      const res = await w.deploy(exportTemplate(spec(true), opts), {
        method: 'direct',
        overrideParameters: `-LS_Sql_connectionString 'changed'`,
      });
      assert.ok(res.backupFile);
      const backup = JSON.parse(fs.readFileSync(res.backupFile, 'utf8'));
      assert.equal(backup.resources.length, 3);
      assert.deepEqual(backup.parameters.LS_Sql_connectionString.type, 'secureString');
      const text = fs.readFileSync(res.backupFile, 'utf8');
      assert.ok(text.includes('"[[dbo].[Customers]"') && text.includes('"[[1,2,3]"'), text);
      assert.ok(!text.includes('**********'), 'no masked value is written back as a value');

      // Roll back with the backup, as a user would: arm, the secure value given again.
      const rolled = await w.deploy(backup, {
        method: 'arm',
        overrideParameters: `-LS_Sql_connectionString '${password}'`,
      });
      assert.equal(rolled.updated.length, 3);
      assert.deepEqual(factoryState(w).objects, original);
    });
  });

  describe('lost answer to the deployment PUT (P4)', () => {
    it('a reset after the PUT ran: the retry meets DeploymentActive, the run follows its own deployment', async () => {
      w.arm.setOptions({ deploymentStartMs: 400 });
      w.emu.addFault({ kind: 'resetAfter', api: 'arm.deployments.put', count: 1 });
      const res = await w.deploy(exportTemplate(v1), { method: 'arm' });
      const puts = w.emu.requests({ api: 'arm.deployments.put' });
      assert.deepEqual(
        puts.map((p) => `${p.status}${p.fault ? ` ${p.fault}` : ''}`),
        ['201 resetAfter', '409'],
      );
      assert.match(res.logger.text(), /created by this run: following it/);
      assert.equal(res.created.length, 8);
      assert.deepEqual(Object.keys(factoryState(w).objects.pipelines).sort(), ['Child', 'Other', 'Parent']);
    });

    it('every answer lost: after the client gives up, the run still finds and follows its deployment', async () => {
      // Long enough for every retry of the client to land while the deployment is still active.
      w.arm.setOptions({ deploymentStartMs: 2500 });
      w.emu.addFault({ kind: 'resetAfter', api: 'arm.deployments.put', count: 50 });
      const res = await w.deploy(exportTemplate(v1), { method: 'arm' });
      const puts = w.emu.requests({ api: 'arm.deployments.put' });
      assert.ok(puts.length > 2 && puts.every((p) => p.fault === 'resetAfter'));
      assert.equal(puts.filter((p) => p.status < 300).length, 1, 'one deployment');
      assert.match(res.logger.text(), /created by this run: following it/);
      assert.equal(res.created.length, 8);
    });

    it("another run's deployment of the same name is not adopted", async () => {
      w.arm.setOptions({ deploymentStartMs: 2000 });
      const name = 'release-42';
      const props: DeploymentProperties = { mode: 'Incremental', template: exportTemplate({}) };
      await w.armClient.createDeployment(name, props, undefined, 'someone-else');
      await assert.rejects(
        w.deploy(exportTemplate(v1), { method: 'arm', deploymentName: name }),
        (e: unknown) => {
          assert.ok(e instanceof DeployFailedError, String(e));
          assert.match(e.message, /Another deployment named release-42 is still running/);
          return true;
        },
      );
    });
  });

  describe('a trigger started between the plan and the ARM deployment (P7)', () => {
    it('stops it, deploys once more and restarts it', async () => {
      await w.deploy(exportTemplate(v1), { method: 'direct' });
      const f = w.arm.factory(SUB, RG, FACTORY)!;
      const changed: FactorySpec = {
        ...v1,
        triggers: { ...v1.triggers, T_off: scheduleTrigger(['Child'], 'Stopped', 9) },
      };
      // Someone starts T_off (stopped when planned) just before the deployment.
      class RacingArm extends ArmClient {
        raced = false;
        override createDeployment(...args: Parameters<ArmClient['createDeployment']>) {
          if (!this.raced) {
            this.raced = true;
            f.setTriggerRuntimeState('T_off', 'Started');
          }
          return super.createDeployment(...args);
        }
      }
      const racing = new RacingArm(w.http, w.armClient.scope, {
        poll: { initialDelayMs: 20, maxDelayMs: 200, minDelayMs: 10 },
      });
      w.emu.clearJournal();
      const res = await w.deploy(exportTemplate(changed), { method: 'arm', arm: racing });
      assert.match(res.logger.text(), /T_off.*TriggerEnabledCannotUpdate.*deploying once more/);
      assert.equal(w.emu.requests({ api: 'arm.deployments.put' }).length, 2);
      const t = f.definition('triggers', 'T_off') as {
        typeProperties: { recurrence: { schedule: { hours: number[] } } };
      };
      assert.deepEqual(t.typeProperties.recurrence.schedule.hours, [9]);
      // It was running when stopped: this run restarts it.
      assert.equal(factoryState(w).triggers.T_off, 'Started');
      assert.deepEqual(
        res.stoppedTriggers.map((s) => [s.name, s.restarted]),
        [['T_off', true]],
      );
    });

    it('does not stop it when stopTriggers is false: the failure is reported', async () => {
      await w.deploy(exportTemplate(v1), { method: 'direct' });
      const f = w.arm.factory(SUB, RG, FACTORY)!;
      f.setTriggerRuntimeState('T_off', 'Started');
      const changed: FactorySpec = {
        ...v1,
        triggers: { ...v1.triggers, T_off: scheduleTrigger(['Child'], 'Stopped', 9) },
      };
      // The plan sees it started and refuses; start it after planning instead by racing as above.
      f.setTriggerRuntimeState('T_off', 'Stopped');
      class RacingArm extends ArmClient {
        override createDeployment(...args: Parameters<ArmClient['createDeployment']>) {
          f.setTriggerRuntimeState('T_off', 'Started');
          return super.createDeployment(...args);
        }
      }
      const racing = new RacingArm(w.http, w.armClient.scope, {
        poll: { initialDelayMs: 20, maxDelayMs: 200, minDelayMs: 10 },
      });
      await assert.rejects(
        w.deploy(exportTemplate(changed), { method: 'arm', arm: racing, stopTriggers: false }),
        /triggers T_off: TriggerEnabledCannotUpdate/,
      );
      assert.equal(factoryState(w).triggers.T_off, 'Started');
    });
  });
});
