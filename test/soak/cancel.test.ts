/**
 * Cancellation at random points: each long-running task in SCENARIOS (those with
 * arrangeCancellation) gets SIGTERM at seeded moments after it starts, as the agent sends
 * it when a pipeline is cancelled. Afterwards the journal and the emulated services must
 * show the cancellation handled: Databricks runs cancelled, triggers restarted, nothing
 * deleted by a half-done deploy, no secret leaked; and a rerun converges.
 *
 * Every other kill point makes the request that starts the work slow (runs/submit, createRun,
 * a trigger stop) and lands while it is in flight: the service acts, the task never hears back.
 *
 * Knobs (environment): CANCEL_POINTS (kill points per task, default 6), SOAK_LANES, SOAK_TASKS,
 * CANCEL_GAPS=1 (also run the in-flight kills of tasks with a known gap).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seededRandom } from '../emulator/core';
import { buildOnce, TASKS_ROOT } from '../harness/build-once';
import { runTask } from '../harness/run-task';
import { Lane, onLanes, seedOf } from './lane';
import { scanRun } from './scan';
import { SCENARIOS, type LaneScenario } from './scenarios';

const POINTS = Number(process.env.CANCEL_POINTS ?? 6);
const LANES = Number(process.env.SOAK_LANES ?? 6);
const ONLY = process.env.SOAK_TASKS?.split(',').map((s) => s.trim());

const PRESENT = SCENARIOS.filter(
  (s) =>
    s.long && (!ONLY || ONLY.includes(s.name)) && fs.existsSync(path.join(TASKS_ROOT, s.task, 'index.ts')),
);

interface CancelResult {
  scenario: string;
  index: number;
  killAfterMs: number;
  inFlight: boolean;
  outcome: string;
  problems: string[];
}

describe('cancellation: SIGTERM at random points of each long task', function () {
  this.timeout(10 * 60_000);
  const results: CancelResult[] = [];
  const gapsSeen = new Set<string>();

  before(async () => {
    const build = await buildOnce(TASKS_ROOT);
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, i) => Lane.start(100 + i)));
    try {
      const prepared = new Map<Lane, Map<string, LaneScenario>>();
      for (const lane of lanes) {
        const m = new Map<string, LaneScenario>();
        for (const s of PRESENT) m.set(s.name, await s.onLane(lane, build.out));
        prepared.set(lane, m);
      }
      const items = PRESENT.flatMap((s) => Array.from({ length: POINTS }, (_, index) => ({ s, index })));
      const out = await onLanes(lanes, items, async ({ s, index }, lane) => {
        const seed = seedOf('cancel', s.name, index);
        lane.reset(seed);
        const arrange = prepared.get(lane)?.get(s.name)?.arrangeCancellation;
        if (!arrange) throw new Error(`${s.name} is marked long but has no arrangeCancellation`);
        const inFlight = index % 2 === 0 && (!s.cancelInFlightGap || Boolean(process.env.CANCEL_GAPS));
        const c = await arrange({
          inFlight,
          seed,
          random: seededRandom(seed),
          distDir: build.out,
          buildId: String(200_000 + (seed % 700_000)),
        });
        const problems: string[] = [];
        const opts = await c.options();
        // The clock starts at the task's first line, so kill points land in its work, not in Node's start-up.
        let armed = false;
        const run = await runTask({
          ...opts,
          onStdoutLine: (_line, control) => {
            if (armed) return;
            armed = true;
            setTimeout(() => control.kill('SIGTERM'), c.killAfterMs);
          },
          allowSecretLeaks: true,
          keepWorkFolder: true,
        });
        await lane.settle();
        const requests = lane.emu.journal.length;
        // SIGTERM before the task installed its handlers (still loading) ends the process by the
        // signal, before any request: the agent records Cancelled and there is nothing to undo.
        const killedLoading = run.outcome === 'Failed' && run.signal === 'SIGTERM' && requests === 0;
        const gap = s.cancelOutcomeGap;
        const knownGap =
          !process.env.CANCEL_GAPS &&
          run.outcome === 'Failed' &&
          gap?.message.test(run.result?.message ?? '');
        if (knownGap) gapsSeen.add(`${s.name}: ${gap?.note}`);
        if (run.outcome !== 'Cancelled' && run.outcome !== 'Succeeded' && !killedLoading && !knownGap)
          problems.push(
            `outcome ${run.outcome} (exit ${run.exitCode}, signal ${run.signal}, ${requests} requests): ${run.result?.message ?? run.stderr.slice(0, 300)}`,
          );
        for (const leak of scanRun(run, [...c.secrets, ...lane.mintedTokens]))
          problems.push(`secret leak: ${leak}`);
        problems.push(...c.verify(run));
        const again = await runTask({ ...(await c.rerun()), allowSecretLeaks: true, keepWorkFolder: true });
        for (const leak of scanRun(again, [...c.secrets, ...lane.mintedTokens]))
          problems.push(`rerun: secret leak: ${leak}`);
        problems.push(...c.verifyRerun(again).map((p) => `rerun: ${p}`));
        const outcome = killedLoading ? 'killed while loading' : run.outcome;
        const r = { scenario: s.name, index, killAfterMs: c.killAfterMs, inFlight, outcome, problems };
        if (process.env.SOAK_VERBOSE)
          console.log(`      ${s.name} kill at ${c.killAfterMs} ms: ${outcome} ${problems.join('; ')}`);
        return r;
      });
      results.push(...out);
    } finally {
      for (const lane of lanes) await lane.stop();
    }
    const lines = PRESENT.map(({ name }) => {
      const mine = results.filter((r) => r.scenario === name);
      const outcomes = mine
        .map((r) => `${r.killAfterMs} ms${r.inFlight ? ' (in flight)' : ''} → ${r.outcome}`)
        .join(', ');
      return `      ${name}: ${outcomes}`;
    });
    console.log(lines.join('\n'));
    for (const g of gapsSeen)
      console.log(`      known gap seen (tolerated; CANCEL_GAPS=1 fails on it): ${g}`);
    for (const s of PRESENT.filter((x) => x.cancelInFlightGap && !process.env.CANCEL_GAPS))
      console.log(
        `      ${s.name}: in-flight kills left out until fixed (CANCEL_GAPS=1 runs them): ${s.cancelInFlightGap}`,
      );
  });

  it('covers every long task that is written', () => {
    assert.ok(PRESENT.length > 0, 'no long task is written yet');
  });

  for (const s of PRESENT) {
    it(`${s.name}: cancelled cleanly at every kill point and a rerun converges`, () => {
      const mine = results.filter((r) => r.scenario === s.name);
      assert.equal(mine.length, POINTS);
      assert.ok(
        mine.some((r) => r.outcome === 'Cancelled'),
        'no kill point landed while the task was working',
      );
      const bad = mine.filter((r) => r.problems.length);
      assert.deepEqual(
        bad.map((r) => `kill at ${r.killAfterMs} ms: ${r.problems.join('; ')}`),
        [],
      );
    });
  }
});
