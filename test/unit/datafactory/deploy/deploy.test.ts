/**
 * deployFactory against the in-process emulator (real HTTP stack): both
 * methods, trigger handling from the emulator's trigger journal, deletes,
 * failures, preview modes, faults and cancellation.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DeployFailedError, DeployInputError } from '../../../../src/datafactory/deploy/errors';
import { isHttpError } from '../../../../src/http';
import {
  blobEventTrigger,
  dataset,
  exportTemplate,
  ls,
  pipeline,
  scheduleTrigger,
  type FactorySpec,
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
    T_other: scheduleTrigger(['Other'], 'Started', 4),
    T_child: scheduleTrigger(['Child'], 'Started', 5),
    T_off: scheduleTrigger(['Child'], 'Stopped', 6),
  },
};

/** v1 with Parent and T_child changed. */
const v2: FactorySpec = {
  ...v1,
  pipelines: { ...v1.pipelines, Parent: pipeline({ calls: ['Child'], description: 'v2' }) },
  triggers: { ...v1.triggers, T_child: scheduleTrigger(['Child'], 'Started', 7) },
};

function stoppedTriggers(w: World): string[] {
  return w.arm
    .triggerStoppedIntervals(FACTORY)
    .map((i) => i.trigger)
    .sort();
}

function triggerEvents(w: World) {
  return w.arm.factory(SUB, RG, FACTORY)!.triggerEvents;
}

describe('datafactory deploy: deployFactory against the emulator', function () {
  this.timeout(20_000);
  let w: World;
  before(async () => {
    w = await createWorld();
  });
  after(async () => w.close());
  beforeEach(() => w.reset());

  for (const method of ['direct', 'arm'] as const) {
    describe(`method ${method}`, () => {
      it('deploys into an empty factory and starts the triggers the template marks Started', async () => {
        const res = await w.deploy(exportTemplate(v1), { method });
        const s = factoryState(w);
        assert.deepEqual(Object.keys(s.objects.pipelines).sort(), ['Child', 'Other', 'Parent']);
        assert.deepEqual(s.triggers, {
          T_parent: 'Started',
          T_other: 'Started',
          T_child: 'Started',
          T_off: 'Stopped',
        });
        assert.equal(res.created.length, 10);
        assert.deepEqual(res.startedTriggers.sort(), ['T_child', 'T_other', 'T_parent']);
        assert.deepEqual(res.stoppedTriggers, []);
        assert.match(res.summaryMarkdown, /### Deployed: factory `adf-prod`/);
      });

      it('redeploys changes: stops only the changed started trigger, updates, restarts; others untouched', async () => {
        await w.deploy(exportTemplate(v1), { method });
        w.emu.clearJournal();
        const before = triggerEvents(w).length;
        const res = await w.deploy(exportTemplate(v2), { method });
        assert.deepEqual(stoppedTriggers(w), ['T_child']);
        const events = triggerEvents(w).slice(before);
        assert.deepEqual(
          events.map((e) => `${e.action} ${e.trigger}`),
          ['stop T_child', 'start T_child'],
        );
        const s = factoryState(w);
        assert.equal(s.triggers.T_child, 'Started');
        assert.equal((s.objects.pipelines.Parent as { description?: string }).description, 'v2');
        assert.deepEqual(res.updated.map((u) => u.name).sort(), ['Parent', 'T_child']);
        assert.equal(res.stoppedTriggers.length, 1);
        assert.equal(res.stoppedTriggers[0].restarted, true);
        if (method === 'direct') {
          // Only the two changed objects were written.
          const puts = w.emu.requests({ method: 'PUT' }).map((e) => e.path.split('/').slice(-2).join('/'));
          assert.deepEqual(puts.sort(), ['pipelines/Parent', 'triggers/T_child']);
          assert.match(res.logger.text(), /~ typeProperties\.recurrence\.schedule\.hours\[0\]: 5 → 7/);
        }
        // A backup of the live definitions that were overwritten.
        assert.ok(res.backupFile && fs.existsSync(res.backupFile));
        const backup = JSON.parse(fs.readFileSync(res.backupFile, 'utf8'));
        assert.equal(backup.resources.length, 2);
      });

      it('reports each failed resource with its error and restarts the triggers it stopped', async () => {
        await w.deploy(exportTemplate(v1), { method });
        const bad: FactorySpec = {
          ...v2,
          pipelines: { ...v2.pipelines, Broken: pipeline({ datasets: ['DS_missing'] }) },
        };
        // As an export of a broken factory would have it: the reference without a dependsOn entry.
        const template = exportTemplate(bad) as { resources: { name: string; dependsOn: string[] }[] };
        template.resources.find((r) => r.name.includes('/Broken'))!.dependsOn = [];
        await assert.rejects(
          () => w.deploy(template, { method }),
          (e: unknown) => {
            assert.ok(e instanceof DeployFailedError);
            const f = e.failures.find((x) => /Broken/.test(x.target));
            assert.ok(f, JSON.stringify(e.failures));
            assert.match(f.message, /invalid reference 'ds_missing'/);
            assert.match(e.message, /Broken/);
            assert.match(e.message, /restarted/);
            return true;
          },
        );
        const s = factoryState(w);
        assert.deepEqual(s.triggers, {
          T_parent: 'Started',
          T_other: 'Started',
          T_child: 'Started',
          T_off: 'Stopped',
        });
      });

      it('deletes removed objects after the deployment, dependents first, within maxDeletes', async () => {
        await w.deploy(exportTemplate(v1), { method });
        const v3: FactorySpec = {
          linkedServices: v1.linkedServices,
          datasets: { DS: v1.datasets!.DS },
          pipelines: { Child: v1.pipelines!.Child },
          triggers: { T_child: v1.triggers!.T_child },
        };
        await assert.rejects(
          () => w.deploy(exportTemplate(v3), { method, deleteRemoved: true, maxDeletes: 3 }),
          (e: unknown) =>
            e instanceof DeployInputError && e.input === 'maxDeletes' && /deletes 6 objects/.test(e.message),
        );
        assert.equal(w.emu.writes().filter((x) => x.method === 'DELETE').length, 0);
        const res = await w.deploy(exportTemplate(v3), { method, deleteRemoved: true, maxDeletes: 6 });
        assert.equal(res.deleted.length, 6);
        const s = factoryState(w);
        assert.deepEqual(Object.keys(s.objects.pipelines), ['Child']);
        assert.deepEqual(Object.keys(s.objects.triggers), ['T_child']);
        assert.deepEqual(Object.keys(s.objects.datasets), ['DS']);
        // Parent was deleted before the Child it calls could have been; started triggers were stopped first.
        const deletes = w.emu.requests({ method: 'DELETE' }).map((e) => e.path.split('/').slice(-1)[0]);
        assert.ok(deletes.indexOf('T_parent') < deletes.indexOf('Parent'));
        assert.ok(deletes.indexOf('Other') < deletes.indexOf('DS2'));
      });

      it('changes nothing for Validation, WhatIf and a dry run', async () => {
        await w.deploy(exportTemplate(v1), { method });
        const changes = w.arm.changeCount;
        w.emu.clearJournal();
        const dry = await w.deploy(exportTemplate(v2), { method, dryRun: true, deleteRemoved: true });
        assert.match(
          dry.logger.text(),
          /Dry run: plan: 0 to create, 2 to update, 8 unchanged, 0 to delete, 1 trigger\(s\) to stop/,
        );
        assert.match(dry.logger.text(), /\+ description: "v2"/);
        assert.match(dry.summaryMarkdown, /Dry run \(nothing changed\)/);
        const val = await w.deploy(exportTemplate(v2), { method, mode: 'Validation' });
        assert.match(val.summaryMarkdown, /Validation \(nothing changed\)/);
        const wi = await w.deploy(exportTemplate(v2), { method, mode: 'WhatIf' });
        if (method === 'arm') assert.ok(wi.whatIf && wi.whatIf.length > 0);
        assert.equal(w.arm.changeCount, changes);
        const writes = w.emu.writes().filter((e) => !/validate|whatIf/i.test(e.api));
        assert.deepEqual(
          writes.map((e) => `${e.method} ${e.path}`),
          [],
        );
      });
    });
  }

  it('direct and arm leave the same factory behind for the same template', async () => {
    const spec: FactorySpec = { ...v2, globalParameters: { env: { type: 'String', value: 'prod' } } };
    await w.deploy(exportTemplate(spec), { method: 'arm' });
    const viaArm = factoryState(w);
    w.reset();
    await w.deploy(exportTemplate(spec), { method: 'direct' });
    const viaDirect = factoryState(w);
    assert.deepEqual(viaDirect, viaArm);
    // And redeploying the same template with direct writes nothing.
    w.emu.clearJournal();
    const again = await w.deploy(exportTemplate(spec), { method: 'direct' });
    assert.equal(again.created.length + again.updated.length, 0);
    assert.equal(w.emu.writes().length, 0);
  });

  it('arm: leaves unchanged started triggers out of the deployment so they are never stopped', async () => {
    await w.deploy(exportTemplate(v1), { method: 'arm' });
    const res = await w.deploy(exportTemplate(v2), { method: 'arm' });
    assert.match(res.logger.text(), /2 started trigger\(s\) are unchanged: left out of the deployment/);
    assert.deepEqual(stoppedTriggers(w), ['T_child']);
  });

  it('direct: a trigger is stopped only while its own update runs', async () => {
    w.arm.setOptions({ triggerOperationMs: 100 });
    await w.deploy(exportTemplate(v1), { method: 'direct' });
    const res = await w.deploy(exportTemplate(v2), { method: 'direct' });
    const [iv] = w.arm.triggerStoppedIntervals(FACTORY);
    assert.equal(iv.trigger, 'T_child');
    assert.ok(iv.durationMs < 1000, `stopped ${iv.durationMs} ms`);
    assert.ok(res.stoppedTriggers[0].ms < 1000);
  });

  it('retries starting an event trigger while it is provisioning', async () => {
    w.arm.setOptions({ eventTriggerProvisioningMs: 300 });
    const spec: FactorySpec = { ...v1, triggers: { T_blob: blobEventTrigger('Child') } };
    const res = await w.deploy(exportTemplate(spec), { method: 'direct' });
    assert.deepEqual(res.startedTriggers, ['T_blob']);
    assert.equal(factoryState(w).triggers.T_blob, 'Started');
    assert.match(res.logger.text(), /cannot be updated during provisioning.*retrying/);
  });

  it('handles TriggerEnabledCannotUpdate when a trigger was started after the plan was made', async () => {
    await w.deploy(exportTemplate(v1), { method: 'direct' });
    // T_off is stopped when planned; someone starts it just before its PUT.
    const f = w.arm.factory(SUB, RG, FACTORY)!;
    const changed: FactorySpec = {
      ...v1,
      triggers: { ...v1.triggers, T_off: scheduleTrigger(['Child'], 'Stopped', 9) },
    };
    let started = false;
    const origPut = w.factory.put.bind(w.factory);
    w.factory.put = async (type, name, props, o) => {
      if (type === 'triggers' && name === 'T_off' && !started) {
        started = true;
        f.setTriggerRuntimeState('T_off', 'Started');
      }
      return origPut(type, name, props, o);
    };
    try {
      const res = await w.deploy(exportTemplate(changed), { method: 'direct' });
      assert.deepEqual(
        res.updated.map((u) => u.name),
        ['T_off'],
      );
    } finally {
      w.factory.put = origPut;
    }
    assert.equal(factoryState(w).triggers.T_off, 'Started');
  });

  it('refuses to update a started trigger when stopTriggers is false, before changing anything', async () => {
    await w.deploy(exportTemplate(v1), { method: 'direct' });
    w.emu.clearJournal();
    await assert.rejects(
      () => w.deploy(exportTemplate(v2), { method: 'direct', stopTriggers: false }),
      (e: unknown) =>
        e instanceof DeployInputError && e.input === 'stopTriggers' && /T_child/.test(e.message),
    );
    assert.equal(w.emu.writes().length, 0);
  });

  it('ends with the right factory despite 10% injected faults', async () => {
    w.emu.addRandomFaults(0.1, { api: /^(adf|arm)\./ });
    await w.deploy(exportTemplate(v1), { method: 'direct' });
    await w.deploy(exportTemplate(v2), { method: 'direct', deleteRemoved: true });
    w.emu.clearFaults();
    const s = factoryState(w);
    assert.deepEqual(s.triggers, {
      T_parent: 'Started',
      T_other: 'Started',
      T_child: 'Started',
      T_off: 'Stopped',
    });
    assert.equal((s.objects.pipelines.Parent as { description?: string }).description, 'v2');
    w.emu.addRandomFaults(0.1, { api: /^(adf|arm)\./ });
    await w.deploy(exportTemplate(v1), { method: 'arm' });
    w.emu.clearFaults();
    assert.equal(
      (factoryState(w).objects.pipelines.Parent as { description?: string }).description,
      undefined,
    );
    assert.equal(factoryState(w).triggers.T_child, 'Started');
  });

  it('restarts the triggers it stopped when the run is cancelled', async () => {
    w.arm.setOptions({ triggerOperationMs: 20, deploymentStepMs: 200 });
    await w.deploy(exportTemplate(v1), { method: 'arm' });
    const ac = new AbortController();
    const p = w.deploy(exportTemplate(v2), { method: 'arm', signal: ac.signal });
    // Cancel once the changed trigger is stopped and the deployment is running.
    for (let i = 0; i < 200 && factoryState(w).triggers.T_child !== 'Stopped'; i++)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await assert.rejects(
      p,
      (e: unknown) =>
        (e instanceof Error && e.name === 'AbortError') || (isHttpError(e) && e.kind === 'aborted'),
    );
    assert.equal(factoryState(w).triggers.T_child, 'Started');
  });

  for (const method of ['arm', 'direct'] as const) {
    it(`${method}: a cancel while a trigger stop is in flight lets it land, restarts the trigger and ends Cancelled`, async () => {
      await w.deploy(exportTemplate(v1), { method });
      // The stop reaches the service 300 ms after it is sent: the cancel lands in between.
      w.emu.setLatency(300, 'adf.triggers.stop');
      const eventsBefore = triggerEvents(w).length;
      const journalBefore = w.emu.journal.length;
      const ac = new AbortController();
      const p = w.deploy(exportTemplate(v2), { method, signal: ac.signal });
      const inFlight = () => w.emu.requests({ api: 'adf.triggers.stop' }).some((e) => e.status === 0);
      for (let i = 0; i < 300 && !inFlight(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(inFlight(), 'no trigger stop went out');
      ac.abort();
      await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof Error && e.name === 'AbortError', `expected a cancellation, got ${String(e)}`);
        assert.match(String((e as { summaryMarkdown?: string }).summaryMarkdown), /Deployment cancelled/);
        return true;
      });
      // Anything still in flight has landed before the state is read.
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(factoryState(w).triggers, {
        T_parent: 'Started',
        T_other: 'Started',
        T_child: 'Started',
        T_off: 'Stopped',
      });
      const events = triggerEvents(w)
        .slice(eventsBefore)
        .filter((e) => e.trigger === 'T_child');
      assert.deepEqual(
        events.map((e) => e.action),
        ['stop', 'start'],
        'the stop landed before the restart',
      );
      if (method === 'arm') {
        // Nothing was deployed: the cancel came before the deployment.
        assert.ok(!w.emu.journal.slice(journalBefore).some((e) => e.api === 'arm.deployments.put'));
      } else {
        // The trigger's own update never went out after the cancel.
        const puts = w.emu.journal.slice(journalBefore).filter((e) => e.method === 'PUT');
        assert.ok(!puts.some((e) => e.path.endsWith('/triggers/T_child')));
      }
    });
  }

  it('direct: applies the factory resource and its global parameters, keeping the git configuration', async () => {
    const f = w.arm.factory(SUB, RG, FACTORY)!;
    f.properties = {
      repoConfiguration: {
        type: 'FactoryGitHubConfiguration',
        repositoryName: 'adf',
        collaborationBranch: 'main',
      },
    };
    const template = exportTemplate(
      { pipelines: { P: pipeline() } },
      { parameters: { location: { type: 'string', defaultValue: '[resourceGroup().location]' } } },
    ) as {
      resources: unknown[];
    };
    template.resources.unshift({
      name: "[parameters('factoryName')]",
      type: 'Microsoft.DataFactory/factories',
      apiVersion: '2018-06-01',
      location: "[parameters('location')]",
      identity: { type: 'SystemAssigned' },
      properties: {
        publicNetworkAccess: 'Disabled',
        globalParameters: { env: { type: 'String', value: 'prod' } },
      },
    });
    const res = await w.deploy(template, { method: 'direct' });
    assert.match(res.logger.text(), /updated {4}factory adf-prod/);
    assert.equal(f.properties.publicNetworkAccess, 'Disabled');
    assert.deepEqual(f.properties.repoConfiguration, {
      type: 'FactoryGitHubConfiguration',
      repositoryName: 'adf',
      collaborationBranch: 'main',
    });
    assert.deepEqual(f.definition('globalParameters', 'default'), { env: { type: 'String', value: 'prod' } });
    assert.equal(f.identity?.type, 'SystemAssigned');
    // Nothing left to do the second time.
    w.emu.clearJournal();
    await w.deploy(template, { method: 'direct' });
    assert.equal(w.emu.writes().length, 0);
  });

  it('creates a missing factory only when a location is given', async () => {
    w.reset({ factory: false });
    await assert.rejects(
      () => w.deploy(exportTemplate(v1)),
      (e: unknown) =>
        e instanceof DeployInputError &&
        e.input === 'location' &&
        /does not exist.*give input 'location'/.test(e.message),
    );
    await w.deploy(exportTemplate(v1), { location: 'northeurope' });
    assert.equal(w.arm.factory(SUB, RG, FACTORY)?.location, 'northeurope');
    assert.equal(factoryState(w).triggers.T_parent, 'Started');
  });
});
