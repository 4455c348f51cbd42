import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { newIterationRecord, type IterationRecord, type RequestOutcome } from '../../sim/metrics/records.js';

/** A finished single-replica request; override what the test is about. */
export function outcome(over: Partial<RequestOutcome> = {}): RequestOutcome {
  const token_times_s = over.token_times_s ?? [1.5, 1.6, 1.8];
  return {
    request_id: 0,
    replica: 0,
    arrival_s: 1.0,
    input_tokens: 100,
    output_tokens: token_times_s.length,
    cached_tokens: 0,
    first_scheduled_s: 1.2,
    preemptions: 0,
    status: 'finished',
    finish_s: token_times_s.length > 0 ? token_times_s[token_times_s.length - 1] : 2.0,
    priority: 0,
    samples: 1,
    sequences: 1,
    ...over,
    token_times_s,
  };
}

/** An engine step: every field 0 but those given. */
export function iteration(over: Partial<IterationRecord>): IterationRecord {
  return Object.assign(newIterationRecord(), over);
}

/** A finished request with the given TTFT and (for two tokens) TPOT. */
export function timed(request_id: number, arrival_s: number, ttft_s: number, tpot_s: number, replica = 0): RequestOutcome {
  const times = [arrival_s + ttft_s, arrival_s + ttft_s + tpot_s];
  return outcome({ request_id, replica, arrival_s, first_scheduled_s: arrival_s, token_times_s: times, finish_s: times[1] });
}

/** A fresh temporary folder per test, removed afterwards. */
export function tempDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'infersim-metrics-'));
    made.push(d);
    return d;
  };
}
