import { describe, expect, it } from 'vitest';
import { createRunProgress, progressLine } from '../../sim/cli/runProgress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => (writes.push(s), true) } };
}

describe('run progress', () => {
  it('prints nothing when stderr is not a terminal', () => {
    const { writes, stream } = fakeStream(false);
    let t = 0;
    const p = createRunProgress({ total_requests: 100, stream, now_s: () => t });
    for (t = 0; t < 10; t += 0.5) p.tick(t, 10 * t);
    p.end();
    expect(writes).toEqual([]);
  });

  it('stays silent for runs shorter than the delay, then redraws one line at most every interval', () => {
    const { writes, stream } = fakeStream(true);
    let t = 100;
    const p = createRunProgress({ total_requests: 1000, stream, now_s: () => t, delay_s: 1.5, every_s: 0.25 });
    t = 101;
    p.tick(5, 100);
    expect(writes).toHaveLength(0);
    t = 102;
    p.tick(10, 500);
    t = 102.1; // within 0.25 s of the last draw
    p.tick(11, 510);
    t = 102.5;
    p.tick(12, 600);
    expect(writes).toHaveLength(2);
    for (const w of writes) expect(w).toMatch(/^\r[^\n]*\x1b\[K$/);
    p.end();
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('states simulated time, requests, rate and an ETA from the nearer bound', () => {
    // 500 of 1000 requests after 2 s of wall time: 250 req/s, 2 s to go.
    expect(progressLine(10, 500, 2, { total_requests: 1000 })).toBe('simulated 10.0 s  500 / 1,000 requests  50 %  250 req/s  ETA 0:02');
    // Time-bounded: 90 of 100 simulated seconds after 9 s of wall time: 1 s to go.
    expect(progressLine(90, 4000, 9, { duration_s: 100 })).toBe('simulated 90.0 s  4,000 requests  90 %  444 req/s  ETA 0:01');
    // Both bounds: the one nearer to being reached wins (75 % by time, 10 % by count).
    expect(progressLine(75, 100, 60, { total_requests: 1000, duration_s: 100 })).toMatch(/100 \/ 1,000 requests  75 % .*ETA 0:20$/);
  });
});
