import assert from 'node:assert/strict';
import { buildBackup } from '../../../../src/datafactory/deploy/backup';
import { checkDeleteGuard } from '../../../../src/datafactory/deploy/cleanup';
import {
  diffDefinitions,
  formatDiff,
  hasUncomparableValues,
  normalizeDefinition,
} from '../../../../src/datafactory/deploy/compare';
import { DeployInputError } from '../../../../src/datafactory/deploy/errors';
import { dependencyLevels } from '../../../../src/datafactory/deploy/graph';
import { buildPlan, planCounts, type LiveObject } from '../../../../src/datafactory/deploy/plan';
import { extractDesiredState, type DesiredState } from '../../../../src/datafactory/deploy/resources';
import type { FactoryChildType } from '../../../../src/datafactory/factory-client';
import { dataset, exportTemplate, ls, pipeline, scheduleTrigger, type FactorySpec } from './helpers';

function desiredOf(spec: FactorySpec): DesiredState {
  return extractDesiredState({
    template: exportTemplate(spec),
    parameters: { factoryName: 'adf' },
    factoryName: 'adf',
    subscriptionId: 's',
    resourceGroupName: 'rg',
    deploymentName: 'd',
    templateFile: '/t.json',
    readLinkedTemplates: true,
    strict: true,
  });
}

/** The live side as the service returns it (triggers carry runtimeState). */
function liveOf(spec: FactorySpec, states: Record<string, 'Started' | 'Stopped'> = {}): LiveObject[] {
  const out: LiveObject[] = [];
  const add = (type: FactoryChildType, objs?: Record<string, Record<string, unknown>>) => {
    for (const [name, p] of Object.entries(objs ?? {})) {
      const properties = { ...p };
      if (type === 'triggers')
        properties.runtimeState = states[name] ?? (p.runtimeState as string) ?? 'Stopped';
      out.push({ type, name, properties });
    }
  };
  add('linkedservices', spec.linkedServices);
  add('datasets', spec.datasets);
  add('pipelines', spec.pipelines);
  add('triggers', spec.triggers);
  return out;
}

const base: FactorySpec = {
  linkedServices: { LS: ls() },
  datasets: { DS: dataset('LS') },
  pipelines: { Child: pipeline({ datasets: ['DS'] }), Parent: pipeline({ calls: ['Child'] }) },
  triggers: {
    T_parent: scheduleTrigger(['Parent']),
    T_child: scheduleTrigger(['Child'], 'Started', 5),
    T_off: scheduleTrigger(['Child'], 'Stopped'),
  },
};

describe('datafactory deploy: comparison, plan, ordering', () => {
  it('normalises away read-only, empty and masked values', () => {
    const live = {
      runtimeState: 'Started',
      annotations: [],
      description: null,
      typeProperties: { a: 1, b: {} },
    };
    assert.deepEqual(normalizeDefinition('triggers', live), { typeProperties: { a: 1 } });
    const secret = {
      type: 'AzureSqlDatabase',
      typeProperties: { connectionString: { type: 'SecureString', value: 'Server=x;Password=p' } },
    };
    const masked = {
      type: 'AzureSqlDatabase',
      typeProperties: { connectionString: { type: 'SecureString', value: '**********' } },
    };
    assert.deepEqual(
      normalizeDefinition('linkedservices', secret),
      normalizeDefinition('linkedservices', masked),
    );
    assert.equal(hasUncomparableValues(secret), true);
    assert.equal(hasUncomparableValues(masked), false);
  });

  it('diffs by property path and matches named array items', () => {
    const before = {
      activities: [{ name: 'A', typeProperties: { x: 1 } }, { name: 'B' }],
      description: 'old',
    };
    const after = {
      activities: [{ name: 'A', typeProperties: { x: 2 } }, { name: 'C' }],
      folder: { name: 'f' },
    };
    const d = diffDefinitions(before, after);
    assert.deepEqual(formatDiff(d), [
      '~ activities[A].typeProperties.x: 1 → 2',
      '- activities[B]: {"name":"B"}',
      '+ activities[C]: {"name":"C"}',
      '- description: "old"',
      '+ folder: {"name":"f"}',
    ]);
  });

  it('orders by dependency levels and names a cycle', () => {
    const levels = dependencyLevels([
      { key: 'p2', dependsOn: ['p1'] },
      { key: 'p1', dependsOn: ['ds'] },
      { key: 'ds', dependsOn: ['ls', 'outside'] },
      { key: 'ls', dependsOn: [] },
      { key: 'other', dependsOn: [] },
    ]);
    assert.deepEqual(
      levels.map((l) => l.map((n) => n.key)),
      [['ls', 'other'], ['ds'], ['p1'], ['p2']],
    );
    assert.throws(
      () =>
        dependencyLevels([
          { key: 'a', dependsOn: ['b'] },
          { key: 'b', dependsOn: ['a'] },
          { key: 'c', dependsOn: ['a'] },
        ]),
      (e: unknown) => e instanceof DeployInputError && /cycle \((a → b → a|b → a → b)\)/.test(e.message),
    );
  });

  it('plans a first deployment into an empty factory: everything created in reference order', () => {
    const plan = buildPlan(desiredOf(base), { objects: [] }, { stopTriggers: true, deleteRemoved: false });
    const c = planCounts(plan);
    assert.equal(c.create, 7);
    assert.deepEqual(
      plan.levels.map((l) => l.map((i) => i.name)),
      [['LS'], ['DS'], ['Child'], ['Parent', 'T_child', 'T_off'], ['T_parent']],
    );
    assert.deepEqual(plan.triggers.stop, []);
    assert.deepEqual(plan.triggers.start.sort(), ['T_child', 'T_parent']);
    assert.equal(plan.factoryExists, false);
  });

  it('stops only started triggers that change, restarts them, and leaves the rest alone', () => {
    const live = liveOf(base, { T_parent: 'Started', T_child: 'Started', T_off: 'Stopped' });
    const changed: FactorySpec = {
      ...base,
      pipelines: { ...base.pipelines, Parent: pipeline({ calls: ['Child'], description: 'v2' }) },
      triggers: { ...base.triggers, T_child: scheduleTrigger(['Child'], 'Started', 6) },
    };
    const plan = buildPlan(
      desiredOf(changed),
      { factory: { name: 'adf' }, objects: live },
      { stopTriggers: true, deleteRemoved: false },
    );
    const c = planCounts(plan);
    assert.deepEqual([c.create, c.update, c.unchanged, c.delete], [0, 2, 5, 0]);
    assert.deepEqual(plan.triggers.stop, ['T_child']);
    assert.deepEqual(plan.triggers.start, ['T_child']);
    const parent = plan.items.find((i) => i.name === 'Parent')!;
    assert.deepEqual(formatDiff(parent.diff), ['+ description: "v2"']);
    // stopTriggers false: nothing stopped, the started trigger is reported as blocked.
    const noStop = buildPlan(
      desiredOf(changed),
      { factory: { name: 'adf' }, objects: live },
      { stopTriggers: false, deleteRemoved: false },
    );
    assert.deepEqual(noStop.triggers.stop, []);
    assert.deepEqual(noStop.triggers.blocked, ['T_child']);
    // A trigger the template marks Started that is stopped live gets started, unchanged or not.
    const live2 = liveOf(base, { T_parent: 'Stopped', T_child: 'Started' });
    const plan2 = buildPlan(
      desiredOf(base),
      { factory: { name: 'adf' }, objects: live2 },
      { stopTriggers: true, deleteRemoved: false },
    );
    assert.deepEqual(plan2.triggers.start, ['T_parent']);
    assert.equal(planCounts(plan2).update, 0);
  });

  it('deletes removed objects dependents first, keeps referenced ones, and guards the count', () => {
    const live = liveOf(
      {
        ...base,
        pipelines: {
          ...base.pipelines,
          Old_child: pipeline(),
          Old_parent: pipeline({ calls: ['Old_child'] }),
          Used: pipeline(),
        },
        datasets: { ...base.datasets, DS_old: dataset('LS') },
        triggers: { ...base.triggers, T_old: scheduleTrigger(['Old_parent']) },
      },
      { T_old: 'Started', T_parent: 'Started', T_child: 'Started' },
    );
    // 'Used' is not in the template, but the new Parent calls it: it must stay.
    const desired: FactorySpec = {
      ...base,
      pipelines: { ...base.pipelines, Parent: pipeline({ calls: ['Child', 'Used'] }) },
    };
    const plan = buildPlan(
      desiredOf(desired),
      { factory: { name: 'adf' }, objects: live },
      { stopTriggers: true, deleteRemoved: true },
    );
    assert.deepEqual(
      plan.deleteLevels.map((l) => l.map((i) => `${i.type}/${i.name}`)),
      [['triggers/T_old', 'datasets/DS_old'], ['pipelines/Old_parent'], ['pipelines/Old_child']],
    );
    assert.deepEqual(plan.kept, [{ type: 'pipelines', name: 'Used', referencedBy: 'pipelines/Parent' }]);
    assert.ok(plan.triggers.stop.includes('T_old'));
    assert.ok(!plan.triggers.start.includes('T_old'));
    checkDeleteGuard(plan, 4);
    assert.throws(
      () => checkDeleteGuard(plan, 3),
      (e: unknown) =>
        e instanceof DeployInputError &&
        e.input === 'maxDeletes' &&
        /deletes 4 objects, more than maxDeletes \(3\).*Nothing was changed/.test(e.message),
    );
    const noDelete = buildPlan(
      desiredOf(desired),
      { factory: { name: 'adf' }, objects: live },
      { stopTriggers: true, deleteRemoved: false },
    );
    assert.equal(noDelete.deletes.length, 0);
  });

  it('reports references to objects neither in the template nor the factory', () => {
    const plan = buildPlan(
      desiredOf({ pipelines: { P: pipeline({ datasets: ['Nowhere'] }) } }),
      { objects: [] },
      { stopTriggers: true, deleteRemoved: false },
    );
    assert.deepEqual(plan.missingReferences, [{ from: 'pipelines/P', to: 'datasets/nowhere' }]);
  });

  it('backs up live definitions as a redeployable template', () => {
    const live = liveOf(base, { T_parent: 'Started' });
    const plan = buildPlan(
      desiredOf({
        ...base,
        datasets: { DS: dataset('LS', 'changed') },
        pipelines: { Child: pipeline({ datasets: ['DS'], wait: 3 }) },
        triggers: { T_child: base.triggers!.T_child, T_off: base.triggers!.T_off },
      }),
      { factory: { name: 'adf' }, objects: live },
      { stopTriggers: true, deleteRemoved: true },
    );
    const items = [...plan.items.filter((i) => i.action === 'update'), ...plan.deletes];
    const backup = buildBackup(items, {
      factoryName: 'adf',
      deploymentName: 'd1',
      createdAt: '2024-01-01T00:00:00Z',
    })!;
    assert.equal(backup.count, 4);
    const template = JSON.parse(backup.text);
    const restored = extractDesiredState({
      template,
      parameters: { factoryName: 'adf' },
      factoryName: 'adf',
      subscriptionId: 's',
      resourceGroupName: 'rg',
      deploymentName: 'd',
      templateFile: '/b.json',
      readLinkedTemplates: true,
      strict: true,
    });
    const ds = restored.objects.find((o) => o.name === 'DS')!;
    assert.deepEqual(ds.properties, base.datasets!.DS);
    const tp = restored.objects.find((o) => o.name === 'T_parent')!;
    assert.equal(tp.runtimeState, 'Started');
    const parent = template.resources.find((r: { name: string }) => r.name.includes('/Parent'));
    assert.ok(parent, 'a deleted pipeline is in the backup');
  });
});
