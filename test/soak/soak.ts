/**
 * The fault-injection soak: every scenario at each fault rate, N executions with fixed
 * seeds, spread over lanes. One case:
 *   1. reset the lane, seed its fault PRNG, arrange the scenario, add the transient faults;
 *   2. run the task (attempt 1);
 *   3. remove the faults. If it succeeded, the final state must be exactly the desired one.
 *      If it failed, the message must be clear (one line, no stack, names what failed) and a
 *      rerun without faults (attempt 2) must succeed with the exact desired state;
 *   4. per execution, at most one run (Databricks run / ADF pipeline run) may be started and
 *      the journal may show at most one distinct submission;
 *   5. after every execution, failed ones included, the scenario's invariant holds (triggers
 *      that were started are started);
 *   6. nothing the task wrote may contain a secret or a token the emulator minted.
 */
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../emulator/core';
import { runTask, type TaskRun } from '../harness/run-task';
import { addTransientFaults, onLanes, seedOf, type Lane } from './lane';
import type { LaneScenario, Scenario, ScenarioCase } from './scenarios';
import { scanRun } from './scan';

export interface SoakOptions {
  scenarios: Scenario[];
  rates: number[];
  runsPerRate: number;
  /** Every n-th case (index % n === n - 1) also has an outage of the scenario's outageApi. Default 5. */
  outageEvery?: number;
  lanes: Lane[];
  distDir: string;
  /** Called after each case (progress). */
  onCase?: (r: CaseResult) => void;
}

export interface ExecutionStats {
  outcome: TaskRun['outcome'];
  message: string;
  requests: number;
  retries: number;
  faults: number;
  runsStarted?: number;
  /** Submissions that reached the service, from the journal. */
  submissions?: number;
  durationMs: number;
}

export interface CaseResult {
  scenario: string;
  rate: number;
  index: number;
  seed: number;
  /** The case had an outage of the scenario's outageApi. */
  outage: boolean;
  first: ExecutionStats;
  rerun?: ExecutionStats;
  /** Every broken guarantee; empty when the case passed. */
  problems: string[];
  passed: boolean;
}

export interface SoakRow {
  task: string;
  rate: number;
  runs: number;
  /** Cases that also had an outage. */
  outages: number;
  passed: number;
  /** Executions that succeeded without a rerun. */
  firstTry: number;
  /** Executions that failed clearly and converged on the rerun. */
  converged: number;
  requests: number;
  retries: number;
  faults: number;
  maxRunsPerExecution: number | undefined;
  seconds: number;
}

const RETRY_LINE = /^retrying [A-Z]+ /;

function statsOf(
  run: TaskRun,
  lane: Lane,
  c: ScenarioCase,
  runsBefore: number | undefined,
  durationMs: number,
): ExecutionStats {
  const journal = lane.emu.journal;
  return {
    outcome: run.outcome,
    message: run.result?.message ?? '',
    requests: journal.length,
    retries: run.stdoutLines.filter((l) => RETRY_LINE.test(l)).length,
    faults: journal.filter((e) => e.fault && e.fault !== 'rateLimit').length,
    runsStarted: c.runsStarted && runsBefore !== undefined ? c.runsStarted() - runsBefore : undefined,
    submissions: c.submissions?.(),
    durationMs,
  };
}

/** Problems with a failure message: it must be one clear line a user can act on. */
export function unclearMessage(message: string): string | undefined {
  if (!message.trim()) return 'the failure message is empty';
  if (/\n/.test(message)) return 'the failure message spans several lines';
  if (/\bat [\w.<>]+ \(|\bat (async )?\S+:\d+:\d+/.test(message))
    return 'the failure message holds a stack trace';
  if (/\[object Object\]|\bundefined\b|\bnull\b/.test(message))
    return `the failure message is garbled: ${message}`;
  if (message.length > 2000) return 'the failure message is longer than 2000 characters';
  return undefined;
}

async function execute(
  lane: Lane,
  c: ScenarioCase,
  attempt: number,
  problems: string[],
  label: string,
): Promise<{ run: TaskRun; stats: ExecutionStats }> {
  lane.emu.clearJournal();
  const runsBefore = c.runsStarted?.();
  const started = performance.now();
  const opts = await c.options(attempt);
  const run = await runTask({
    ...opts,
    secrets: [...c.secrets, ...(opts.secrets ?? [])],
    // The strict scan below reports leaks (tokens minted during the run included) as problems.
    allowSecretLeaks: true,
    keepWorkFolder: true,
  });
  await lane.settle();
  const stats = statsOf(run, lane, c, runsBefore, performance.now() - started);
  for (const leak of scanRun(run, [...c.secrets, ...lane.mintedTokens]))
    problems.push(`${label}: secret leak: ${leak}`);
  if (stats.runsStarted !== undefined && stats.runsStarted > 1)
    problems.push(`${label}: ${stats.runsStarted} runs started by one execution`);
  if (stats.submissions !== undefined && stats.submissions > 1)
    problems.push(`${label}: the journal shows ${stats.submissions} distinct run submissions`);
  for (const p of c.invariant?.() ?? []) problems.push(`${label}: ${p}`);
  return { run, stats };
}

/** Longer than the client's retries last: 7 attempts (6 retries) of a request all fail. */
const OUTAGE_REQUESTS = 30;

export async function runCase(
  scenario: LaneScenario,
  name: string,
  lane: Lane,
  rate: number,
  index: number,
  distDir: string,
  outageApi?: RegExp,
): Promise<CaseResult> {
  const seed = seedOf(name, rate, index);
  lane.reset(seed);
  const c = await scenario.arrange({
    seed,
    random: seededRandom(seed ^ 0x5bd1e995),
    distDir,
    buildId: String(100_000 + (seed % 800_000)),
  });
  const problems: string[] = [];
  // The outage rule comes first, so it wins over the random faults while it lasts.
  if (outageApi) lane.emu.addFault({ kind: '503', api: outageApi, count: OUTAGE_REQUESTS, retryAfter: 0 });
  addTransientFaults(lane, rate);
  const first = await execute(lane, c, 1, problems, 'run 1');
  lane.emu.clearFaults();
  let rerun: ExecutionStats | undefined;
  if (first.run.succeeded) {
    for (const p of c.verify(first.run)) problems.push(`succeeded but ${p}`);
  } else {
    const unclear = unclearMessage(first.stats.message);
    if (unclear) problems.push(`run 1 failed: ${unclear}`);
    const second = await execute(lane, c, 2, problems, 'rerun');
    rerun = second.stats;
    if (!second.run.succeeded) problems.push(`the rerun without faults failed too: ${second.stats.message}`);
    else for (const p of c.verify(second.run)) problems.push(`the rerun did not converge: ${p}`);
  }
  return {
    scenario: name,
    rate,
    index,
    seed,
    outage: Boolean(outageApi),
    first: first.stats,
    rerun,
    problems,
    passed: problems.length === 0,
  };
}

export async function runSoak(opts: SoakOptions): Promise<{ cases: CaseResult[]; rows: SoakRow[] }> {
  // Each lane prepares every scenario once (workspaces, factories, source folders).
  const prepared = await Promise.all(
    opts.lanes.map(async (lane) => {
      const m = new Map<string, LaneScenario>();
      for (const s of opts.scenarios) m.set(s.name, await s.onLane(lane, opts.distDir));
      return m;
    }),
  );
  const laneScenarios = new Map(opts.lanes.map((l, i) => [l, prepared[i]]));
  const items = opts.scenarios.flatMap((s) =>
    opts.rates.flatMap((rate) =>
      Array.from({ length: opts.runsPerRate }, (_, index) => ({ s, rate, index })),
    ),
  );
  const timing = new Map<string, number>();
  try {
    const cases = await onLanes(opts.lanes, items, async ({ s, rate, index }, lane) => {
      const started = performance.now();
      const every = opts.outageEvery ?? 5;
      const outage = every > 0 && index % every === every - 1 ? s.outageApi : undefined;
      const r = await runCase(
        laneScenarios.get(lane)?.get(s.name) as LaneScenario,
        s.name,
        lane,
        rate,
        index,
        opts.distDir,
        outage,
      );
      const key = `${s.name}|${rate}`;
      timing.set(key, (timing.get(key) ?? 0) + (performance.now() - started));
      opts.onCase?.(r);
      return r;
    });
    const rows: SoakRow[] = [];
    for (const s of opts.scenarios) {
      for (const rate of opts.rates) {
        const mine = cases.filter((c) => c.scenario === s.name && c.rate === rate);
        const perExecution = mine.flatMap((c) => [c.first.runsStarted, c.rerun?.runsStarted]);
        const counted = perExecution.filter((x): x is number => x !== undefined);
        rows.push({
          task: s.name,
          rate,
          runs: mine.length,
          outages: mine.filter((c) => c.outage).length,
          passed: mine.filter((c) => c.passed).length,
          firstTry: mine.filter((c) => c.first.outcome === 'Succeeded').length,
          converged: mine.filter((c) => c.first.outcome !== 'Succeeded' && c.passed).length,
          requests: sum(mine.map((c) => c.first.requests + (c.rerun?.requests ?? 0))),
          retries: sum(mine.map((c) => c.first.retries + (c.rerun?.retries ?? 0))),
          faults: sum(mine.map((c) => c.first.faults)),
          maxRunsPerExecution: counted.length ? Math.max(...counted) : undefined,
          seconds: (timing.get(`${s.name}|${rate}`) ?? 0) / 1000,
        });
      }
    }
    return { cases, rows };
  } finally {
    for (const m of prepared) for (const ls of m.values()) ls.dispose?.();
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** The README table. */
export function formatTable(rows: SoakRow[]): string {
  const header =
    '| Task | Fault rate | Runs (with an outage) | Passed | Succeeded first time | Failed clearly, rerun converged | Requests | Retries | Faults injected | Max runs started per execution | Task time (s) |';
  const sep = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map(
    (r) =>
      `| ${r.task} | ${Math.round(r.rate * 100)}% | ${r.runs} (${r.outages}) | ${r.passed} | ${r.firstTry} | ${r.converged} | ${r.requests} | ${r.retries} | ${r.faults} | ${r.maxRunsPerExecution ?? 'n/a'} | ${r.seconds.toFixed(1)} |`,
  );
  return [header, sep, ...lines].join('\n');
}
