import assert from 'node:assert/strict';
import { failures, runPool } from '../../src/common/pool';
import { sleep } from '../../src/common/sleep';

describe('runPool', () => {
  it('runs every item with at most `concurrency` in flight, results in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    const results = await runPool(items, 4, async (n, index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep((n * 7) % 5);
      inFlight--;
      return n * 10 + index;
    });
    assert.equal(peak, 4);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.value : null)),
      items.map((n) => n * 11),
    );
    assert.ok(results.every((r, i) => r.item === i && r.index === i));
  });

  it('one failure does not stop the others by default', async () => {
    const results = await runPool(['a', 'b', 'c', 'd'], 2, async (s) => {
      if (s === 'b') throw new Error('b failed');
      return s.toUpperCase();
    });
    assert.deepEqual(
      results.map((r) => (r.ok ? r.value : (r.error as Error).message)),
      ['A', 'b failed', 'C', 'D'],
    );
    assert.deepEqual(
      failures(results).map((f) => f.item),
      ['b'],
    );
  });

  it('stopOnError stops starting new items and marks them skipped', async () => {
    const started: number[] = [];
    const results = await runPool(
      [0, 1, 2, 3, 4, 5],
      2,
      async (n) => {
        started.push(n);
        await sleep(n === 0 ? 1 : 20);
        if (n === 0) throw new Error('first fails');
        return n;
      },
      { stopOnError: true },
    );
    assert.deepEqual(started, [0, 1]);
    assert.equal(results[0].ok, false);
    assert.equal(results[1].ok, true, 'the item already running finishes');
    for (const r of results.slice(2)) {
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.skipped);
    }
  });

  it('abort stops starting new items; skipped ones carry an AbortError', async () => {
    const ac = new AbortController();
    const results = await runPool(
      [1, 2, 3, 4],
      1,
      async (n) => {
        if (n === 2) ac.abort();
        return n;
      },
      { signal: ac.signal },
    );
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, false, false],
    );
    const last = results[3];
    assert.ok(!last.ok && last.skipped && (last.error as Error).name === 'AbortError');
  });

  it('handles empty input, synchronous throws and odd concurrency values', async () => {
    assert.deepEqual(await runPool([], 3, async () => 1), []);
    const r = await runPool([1, 2], 0, (() => {
      throw new Error('sync');
    }) as unknown as (n: number) => Promise<number>);
    assert.deepEqual(
      r.map((x) => x.ok),
      [false, false],
    );
    const all = await runPool([1, 2, 3], Infinity, async (n) => n);
    assert.deepEqual(
      all.map((x) => x.ok && x.value),
      [1, 2, 3],
    );
  });
});

describe('sleep', () => {
  it('rejects with AbortError when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    await assert.rejects(sleep(1, ac.signal), { name: 'AbortError' });
  });
});
