/**
 * Benchmark for DataFactoryDeploy: a factory of 400 objects with 40 started
 * triggers, redeployed with 10 objects changed (2 of them started triggers),
 * against the emulator with 100 ms latency on every request and trigger
 * start/stop taking 2 s each.
 *
 *   (a) the sequential pre/post-script style: list triggers, stop every started
 *       one, one at a time; deploy the whole template through ARM; start every
 *       trigger the template marks Started, one at a time;
 *   (b) this task's core with deploymentMethod 'arm';
 *   (c) this task's core with deploymentMethod 'direct'.
 *
 * Prints wall time, request counts, ratios and how long triggers were stopped.
 *
 *   npx tsx bench/adf-deploy.ts [--objects 400] [--triggers 40] [--changed 10] [--latency 100]
 *                               [--trigger-ms 2000] [--step 100] [--skip-baseline]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/common/logger';
import { childTypeOfArmType } from '../src/datafactory/factory-client';
import {
  dataset,
  exportTemplate,
  largeFactory,
  pipeline,
  scheduleTrigger,
  writeFiles,
  type FactorySpec,
} from '../test/unit/datafactory/deploy/helpers';
import { createWorld, FACTORY, RG, SUB, type World } from '../test/unit/datafactory/deploy/world';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const OBJECTS = arg('objects', 400);
const TRIGGERS = arg('triggers', 40);
const CHANGED = arg('changed', 10);
const LATENCY_MS = arg('latency', 100);
const TRIGGER_MS = arg('trigger-ms', 2000);
const STEP_MS = arg('step', 100);
const SKIP_BASELINE = process.argv.includes('--skip-baseline');

/** 10 linked services, then datasets and pipelines in pairs, then triggers: OBJECTS in total. */
function specs(): { v1: FactorySpec; v2: FactorySpec; changed: string[] } {
  const lsCount = 10;
  const pairs = Math.floor((OBJECTS - lsCount - TRIGGERS) / 2);
  const v1 = largeFactory({ pipelines: pairs, triggers: TRIGGERS, linkedServices: lsCount });
  const v2: FactorySpec = JSON.parse(JSON.stringify(v1)) as FactorySpec;
  const changed: string[] = [];
  // Two started triggers, three datasets, the rest pipelines.
  const changedTriggers = Math.min(2, CHANGED);
  const changedDatasets = Math.min(3, CHANGED - changedTriggers);
  for (let i = 0; i < changedTriggers; i++) {
    const name = `TR_${i * 7}`;
    v2.triggers![name] = scheduleTrigger([`PL_${(i * 7) % pairs}`], 'Started', (i * 7 + 12) % 24);
    changed.push(name);
  }
  for (let i = 0; i < changedDatasets; i++) {
    const name = `DS_${50 + i}`;
    v2.datasets![name] = dataset(`LS_${(50 + i) % lsCount}`, `changed${i}`);
    changed.push(name);
  }
  for (let i = 0; changed.length < CHANGED; i++) {
    const name = `PL_${100 + i}`;
    v2.pipelines![name] = pipeline({ datasets: [`DS_${100 + i}`], description: 'changed' });
    changed.push(name);
  }
  return { v1, v2, changed };
}

/** Seeds the factory with v1 directly (no latency), every trigger Started. */
function seed(w: World, v1: FactorySpec): void {
  w.reset();
  const f = w.arm.factory(SUB, RG, FACTORY)!;
  const add = (
    kind: Parameters<typeof f.addObject>[0],
    objs: Record<string, Record<string, unknown>> | undefined,
  ) => {
    for (const [name, props] of Object.entries(objs ?? {}))
      f.addObject(kind, name, props, { runtimeState: 'Started' });
  };
  add('linkedServices', v1.linkedServices);
  add('datasets', v1.datasets);
  add('pipelines', v1.pipelines);
  add('triggers', v1.triggers);
  w.emu.setLatency(LATENCY_MS);
  w.arm.setOptions({
    triggerOperationMs: TRIGGER_MS,
    deploymentStepMs: STEP_MS,
    deploymentStartMs: STEP_MS,
    asyncRetryAfterSeconds: 1,
  });
  w.emu.clearJournal();
}

interface Result {
  label: string;
  wallMs: number;
  requests: number;
  writes: number;
  triggerPhaseMs: number;
  stopped: { trigger: string; ms: number }[];
  correct: boolean;
}

function stoppedIntervals(w: World): { trigger: string; ms: number }[] {
  return w.arm.triggerStoppedIntervals(FACTORY).map((i) => ({ trigger: i.trigger, ms: i.durationMs }));
}

function checkState(w: World, v2: FactorySpec): boolean {
  const f = w.arm.factory(SUB, RG, FACTORY)!;
  const snap = f.snapshot();
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const [kind, key] of [
    ['pipelines', 'pipelines'],
    ['datasets', 'datasets'],
    ['linkedServices', 'linkedServices'],
  ] as const) {
    for (const [name, props] of Object.entries(v2[key] ?? {}))
      if (!same(snap[kind]?.[name], props)) return false;
  }
  for (const [name, props] of Object.entries(v2.triggers ?? {})) {
    const { runtimeState, ...rest } = props;
    if (!same(snap.triggers?.[name], rest) || f.triggerRuntimeState(name) !== runtimeState) return false;
  }
  return true;
}

/** (a) What the pre/post-deployment scripts do, one call at a time. */
async function sequentialScript(w: World, templateFile: string, v2: FactorySpec): Promise<Result> {
  const start = performance.now();
  const before = w.http.stats.requests;
  let triggerMs = 0;
  const t0 = performance.now();
  const triggers = await w.factory.list('triggers');
  for (const t of triggers) {
    if (t.properties.runtimeState === 'Started') await w.factory.stopTrigger(t.name);
  }
  triggerMs += performance.now() - t0;
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as Record<string, unknown>;
  const name = `script-${Date.now()}`;
  const first = await w.armClient.createDeployment(name, {
    mode: 'Incremental',
    template,
    parameters: { factoryName: { value: FACTORY } },
  });
  const d = await w.armClient.waitForDeployment(name, first);
  if (d.properties?.provisioningState !== 'Succeeded')
    throw new Error(`baseline deployment ${d.properties?.provisioningState}`);
  const t1 = performance.now();
  for (const r of (template.resources as Record<string, unknown>[]) ?? []) {
    const type = childTypeOfArmType(String(r.type));
    const props = r.properties as Record<string, unknown>;
    if (type === 'triggers' && props.runtimeState === 'Started') {
      const triggerName = String(r.name).replace(
        /^\[concat\(parameters\('factoryName'\), '\/(.*)'\)\]$/,
        '$1',
      );
      await w.factory.startTrigger(triggerName);
    }
  }
  triggerMs += performance.now() - t1;
  return {
    label: 'sequential script + ARM',
    wallMs: performance.now() - start,
    requests: w.http.stats.requests - before,
    writes: w.emu.writes().length,
    triggerPhaseMs: triggerMs,
    stopped: stoppedIntervals(w),
    correct: checkState(w, v2),
  };
}

async function task(
  w: World,
  templateFile: string,
  v2: FactorySpec,
  method: 'arm' | 'direct',
): Promise<Result> {
  const start = performance.now();
  const before = w.http.stats.requests;
  const res = await w.deploy(JSON.parse(fs.readFileSync(templateFile, 'utf8')), {
    method,
    concurrency: 8,
    logger: silentLogger,
    triggerRetry: { baseDelayMs: 1000, maxDelayMs: 10_000, maxTotalMs: 120_000 },
  });
  void res;
  const stopped = stoppedIntervals(w);
  return {
    label: `DataFactoryDeploy ${method}`,
    wallMs: performance.now() - start,
    requests: w.http.stats.requests - before,
    writes: w.emu.writes().length,
    // Trigger handling: the longest stop-to-started window (operations run in parallel).
    triggerPhaseMs: stopped.length ? Math.max(...stopped.map((s) => s.ms)) : 0,
    stopped,
    correct: checkState(w, v2),
  };
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

async function main(): Promise<void> {
  const { v1, v2, changed } = specs();
  const objectCount = Object.values(v1).reduce((n, o) => n + Object.keys(o ?? {}).length, 0);
  const dir = writeFiles({ 'ARMTemplateForFactory.json': exportTemplate(v2) }, 'bench-adf-');
  const templateFile = path.join(dir, 'ARMTemplateForFactory.json');
  console.log(
    `Factory: ${objectCount} objects (${TRIGGERS} started triggers), ${changed.length} changed (${changed.join(', ')}); ` +
      `latency ${LATENCY_MS} ms per request, trigger start/stop ${TRIGGER_MS} ms, ARM ${STEP_MS} ms per resource.`,
  );
  const w = await createWorld({}, { latencyMs: 0 });
  const results: Result[] = [];
  try {
    if (!SKIP_BASELINE) {
      seed(w, v1);
      results.push(await sequentialScript(w, templateFile, v2));
    }
    seed(w, v1);
    results.push(await task(w, templateFile, v2, 'arm'));
    seed(w, v1);
    results.push(await task(w, templateFile, v2, 'direct'));
  } finally {
    await w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = results.find((r) => r.label.startsWith('sequential'));
  console.log('');
  console.log(
    '| run | wall time | requests | writes | trigger handling | triggers stopped | longest stop | state correct |' +
      (base ? ' speed-up |' : ''),
  );
  console.log('|---|---|---|---|---|---|---|---|' + (base ? '---|' : ''));
  for (const r of results) {
    const longest = r.stopped.length ? Math.max(...r.stopped.map((s) => s.ms)) : 0;
    console.log(
      `| ${r.label} | ${fmt(r.wallMs)} | ${r.requests} | ${r.writes} | ${fmt(r.triggerPhaseMs)} | ${r.stopped.length} | ${fmt(longest)} | ${r.correct ? 'yes' : 'NO'} |` +
        (base ? ` ${(base.wallMs / r.wallMs).toFixed(1)}x |` : ''),
    );
  }
  console.log('');
  for (const r of results) {
    const byName = r.stopped.map((s) => `${s.trigger} ${fmt(s.ms)}`);
    const shown = byName.length > 6 ? [...byName.slice(0, 6), `… ${byName.length - 6} more`] : byName;
    console.log(
      `${r.label}: stopped ${r.stopped.length} trigger(s)${shown.length ? `: ${shown.join(', ')}` : ''}`,
    );
  }
  const direct = results.find((r) => r.label.endsWith('direct'));
  if (base && direct) {
    const untouched = direct.stopped.filter((s) => !changed.includes(s.trigger));
    console.log('');
    console.log(`direct vs sequential: ${(base.wallMs / direct.wallMs).toFixed(1)}x faster (target ≥ 5x)`);
    console.log(
      `direct: longest trigger stop ${fmt(Math.max(0, ...direct.stopped.map((s) => s.ms)))} (target ≤ 5 s); untouched triggers stopped: ${untouched.length} (target 0)`,
    );
  }
  if (results.some((r) => !r.correct)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
