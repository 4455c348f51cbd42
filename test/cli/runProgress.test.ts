import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';
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

describe('run progress across the latency band re-runs', () => {
  it('names the pass and spreads the share and ETA over all three passes', () => {
    // Pass 1 of 3 (the first re-run) half done after 3 s: (1 + 0.5) / 3 = 50 % of the command, 3 s to go.
    expect(progressLine(5, 500, 3, { total_requests: 1000 }, 1, 3)).toBe(
      'latency band re-run 1 of 2: simulated 5.0 s  500 / 1,000 requests  50 %  500 req/s  ETA 0:03',
    );
  });
});

describe('infersim run shows progress on a terminal only', () => {
  const hasScript = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status === 0;
  if (!hasScript) console.warn('test/cli/runProgress.test.ts: terminal case skipped: no `script` (util-linux) to give the run a terminal');
  const dir = mkdtempSync(join(tmpdir(), 'infersim-progress-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['run', join(ROOT, 'scenarios', 'quickstart.yaml'), '--set', 'workload.num_requests=20000', '--set', 'metrics.uncertainty=false'];
  const env = { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE, INFERSIM_TEST_PROGRESS_NOW: '1' };

  it.skipIf(!hasScript)('draws a redrawn line with the request count on a terminal, and clears it before the summary', () => {
    const command = [process.execPath, join(ROOT, 'bin', 'infersim.js'), ...args, '--out', join(dir, 'tty')].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\rsimulated \d+\.\d s  [\d,]+ \/ 20,000 requests  \d+ %  [\d,]+ req\/s  ETA \d+:\d\d\x1b\[K/);
    // Cleared before the summary table, so no progress text runs into it.
    expect(r.stdout).toMatch(/\r\x1b\[K[\s\S]*requests\s+20000 \(finished 20000/);
  });

  it('prints no progress when stderr is a pipe', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'infersim.js'), ...args, '--out', join(dir, 'pipe')], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/Unknown (user|env|project) config/.test(l))).toEqual([]);
    expect(r.stdout).not.toMatch(/ETA/);
  });
});
