import * as assert from 'node:assert/strict';
import {
  formatDuration,
  heartbeatDue,
  pollDelayMs,
  pollDelayUntil,
} from '../../../../src/databricks/run/poll-schedule';

describe('poll schedule', () => {
  it('starts at 1 s, grows with 5% of the elapsed time and caps at 30 s', () => {
    assert.equal(pollDelayMs(0), 1000);
    assert.equal(pollDelayMs(10_000), 1000);
    assert.equal(pollDelayMs(40_000), 2000);
    assert.equal(pollDelayMs(200_000), 10_000);
    assert.equal(pollDelayMs(600_000), 30_000);
    assert.equal(pollDelayMs(4 * 3600_000), 30_000);
  });

  it('is never longer than the remaining time before a deadline', () => {
    assert.equal(pollDelayUntil(600_000, 4000), 4000);
    assert.equal(pollDelayUntil(600_000, -5), 0);
  });

  it('keeps the overhead after the run ends under 2 s + 5% of its duration, for any duration', () => {
    const latencyMs = 300; // one runs/get round trip
    let worst = 0;
    for (let duration = 100; duration <= 3 * 3600_000; duration = Math.ceil(duration * 1.07) + 137) {
      // Simulate polling from submission until the first poll that sees the end.
      let t = 0;
      while (t < duration) t += latencyMs + pollDelayMs(t + latencyMs);
      const overhead = t - duration;
      const budget = 2000 + 0.05 * duration;
      assert.ok(overhead <= budget, `duration ${duration} ms: overhead ${overhead} ms > budget ${budget} ms`);
      worst = Math.max(worst, overhead / budget);
    }
    assert.ok(worst > 0.3, 'the simulation exercised the bound');
  });

  it('polls a 10-minute run about 90 times and a 2-hour run about 310 times', () => {
    const count = (duration: number) => {
      let t = 0;
      let n = 0;
      while (t < duration) {
        t += pollDelayMs(t);
        n++;
      }
      return n;
    };
    const ten = count(600_000);
    const two = count(7200_000);
    assert.ok(ten >= 80 && ten <= 100, `10 min: ${ten}`);
    assert.ok(two >= 290 && two <= 330, `2 h: ${two}`);
  });

  it('beats every minute for ten minutes, then every five', () => {
    assert.equal(heartbeatDue(59_000, 0), false);
    assert.equal(heartbeatDue(60_000, 0), true);
    assert.equal(heartbeatDue(11 * 60_000, 10 * 60_000), false);
    assert.equal(heartbeatDue(15 * 60_000, 10 * 60_000), true);
  });

  it('formats durations', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(61_400), '1m 1s');
    assert.equal(formatDuration(3_723_000), '1h 2m 3s');
  });
});
