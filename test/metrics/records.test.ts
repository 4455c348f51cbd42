import { describe, expect, it } from 'vitest';
import { GapPool } from '../../sim/metrics/gapPool.js';
import { StepStamps } from '../../sim/metrics/stepStamps.js';
import { ITERATION_COLUMNS, REQUEST_COLUMNS } from '../../sim/metrics/columns.js';
import { requestRow } from '../../sim/metrics/records.js';
import { outcome } from './helpers.js';

describe('requestRow', () => {
  it('computes the hand-checked latencies of a 3-token request', () => {
    const row = requestRow(outcome());
    expect(row.first_token_s).toBe(1.5);
    expect(row.first_scheduled_s).toBe(1.2);
    expect(row.ttft_s).toBeCloseTo(0.5, 12);
    expect(row.e2e_s).toBeCloseTo(0.8, 12);
    expect(row.tpot_s).toBeCloseTo(0.15, 12);
    // Gaps 0.1 and 0.2: type-7 p50 = 0.15, p99 = 0.1 + 0.99 × 0.1.
    expect(row.itl_mean_s).toBeCloseTo(0.15, 12);
    expect(row.itl_p50_s).toBeCloseTo(0.15, 12);
    expect(row.itl_p99_s).toBeCloseTo(0.199, 12);
    expect(row.itl_max_s).toBeCloseTo(0.2, 12);
    expect(row.status).toBe('finished');
  });

  it('carries priority and samples, and keeps TPOT per sample stream with several samples', () => {
    const row = requestRow(outcome({ priority: 3, samples: 4, sequences: 6 }));
    expect(row.priority).toBe(3);
    expect(row.samples).toBe(4);
    // output_tokens is one sample's length (3): (1.8 − 1.5) ÷ 2, as for a single sample.
    expect(row.tpot_s).toBeCloseTo(0.15, 12);
    expect(row.itl_p50_s).toBeCloseTo(0.15, 12);
  });

  it('accepts token times as a Float64Array with the same result', () => {
    expect(requestRow(outcome({ token_times_s: Float64Array.of(1.5, 1.6, 1.8) }))).toEqual(requestRow(outcome()));
  });

  it('gives a 1-token request a TTFT but null TPOT and ITL', () => {
    const row = requestRow(outcome({ token_times_s: [1.25], output_tokens: 1, finish_s: 1.25 }));
    expect(row.ttft_s).toBeCloseTo(0.25, 12);
    expect(row.e2e_s).toBeCloseTo(0.25, 12);
    expect(row.tpot_s).toBeNull();
    expect([row.itl_mean_s, row.itl_p50_s, row.itl_p99_s, row.itl_max_s]).toEqual([null, null, null, null]);
  });

  it('leaves a rejected request with nulls wherever a latency is undefined', () => {
    const row = requestRow(outcome({ status: 'rejected', replica: -1, token_times_s: [], output_tokens: 0, first_scheduled_s: NaN, finish_s: 1.0 }));
    expect(row).toMatchObject({
      replica: -1,
      first_scheduled_s: null,
      first_token_s: null,
      finish_s: 1.0,
      ttft_s: null,
      e2e_s: null,
      tpot_s: null,
      itl_mean_s: null,
      itl_max_s: null,
      status: 'rejected',
    });
  });

  it('keeps the measured TTFT and ITL of a timed-out request but no E2E or TPOT', () => {
    const row = requestRow(outcome({ status: 'timed_out', finish_s: 5 }));
    expect(row.ttft_s).toBeCloseTo(0.5, 12);
    expect(row.itl_max_s).toBeCloseTo(0.2, 12);
    expect(row.e2e_s).toBeNull();
    expect(row.tpot_s).toBeNull();
  });

  it('uses exact ranks for the per-request p50 when the gap count is odd', () => {
    // Gaps 0.3, 0.1, 0.2 (unsorted) → p50 = 0.2; p99: h = 1.98 → 0.2 + 0.98 × 0.1.
    const row = requestRow(outcome({ token_times_s: [1, 1.3, 1.4, 1.6] }));
    expect(row.itl_p50_s).toBeCloseTo(0.2, 12);
    expect(row.itl_p99_s).toBeCloseTo(0.298, 12);
    expect(row.itl_max_s).toBeCloseTo(0.3, 12);
  });

  it('pools the gaps: as values without token steps, as per-step counts between consecutive steps', () => {
    const stamps = new StepStamps();
    [1, 1.3, 1.4, 1.6, 2.0].forEach((t, s) => stamps.push(s, t));
    const pool = new GapPool(stamps);
    requestRow(outcome({ token_times_s: [1, 1.3, 1.4, 1.6] }), pool);
    // Steps 1 → 2 are consecutive: a count at step 2; 2 → 4 skip a step: a value.
    requestRow(outcome({ token_times_s: [1.3, 1.4, 2.0], token_steps: [1, 2, 4] }), pool);
    requestRow(outcome({ token_times_s: [1.3, 1.4], token_steps: [1, 2] }), pool);
    expect(pool.length).toBe(6);
    const [perStep, ...values] = pool.samples();
    expect(perStep).toEqual({ values: Float64Array.of(1.4 - 1.3), weights: Int32Array.of(2) });
    expect(values.flatMap((c) => Array.from(c as Float64Array))).toEqual([1.3 - 1, 1.4 - 1.3, 1.6 - 1.4, 2.0 - 1.4]);
  });

  it('without per-request ITL leaves the row\'s ITL figures null and pools the same gaps', () => {
    const stamps = new StepStamps();
    [1, 1.3, 1.4, 1.6, 2.0].forEach((t, s) => stamps.push(s, t));
    const [full, lean] = [new GapPool(stamps), new GapPool(stamps)];
    const o = outcome({ token_times_s: [1.3, 1.4, 1.6, 2.0], token_steps: [1, 2, 3, 4] });
    const a = { ...requestRow(o, full) };
    const b = { ...requestRow(o, lean, undefined, false) };
    expect(b).toEqual({ ...a, itl_mean_s: null, itl_p50_s: null, itl_p99_s: null, itl_max_s: null });
    expect(a.itl_max_s).toBeCloseTo(0.4, 12);
    expect(lean.samples()).toEqual(full.samples());
    expect(lean.length).toBe(3);
  });

  it('reads a stretch of consecutive steps from the replica\'s stamps: the same row and pooled gaps as from its own times', () => {
    const stamps = new StepStamps();
    const times = [1, 1.3, 1.4, 1.6, 2.0, 2.05];
    times.forEach((t, s) => stamps.push(s, t));
    // Tokens at steps 1..4, given with their steps (checked, pooled per step) and as a stretch.
    const own = [1.3, 1.4, 1.6, 2.0];
    const [general, stretched] = [new GapPool(stamps), new GapPool(stamps)];
    const a = { ...requestRow(outcome({ token_times_s: own, token_steps: [1, 2, 3, 4] }), general) };
    const b = { ...requestRow(outcome({ token_times_s: own, token_stretch_step: 1 }), stretched, undefined, true, stamps) };
    expect(b).toEqual(a);
    // Gaps 0.1, 0.2, 0.4 (in that order): p50 0.2, max 0.4, each counted once at steps 2, 3, 4.
    expect(b.itl_p50_s).toBeCloseTo(0.2, 12);
    expect(b.itl_max_s).toBeCloseTo(0.4, 12);
    expect(stretched.samples()).toEqual(general.samples());
    expect(stretched.samples()[0]).toMatchObject({ weights: Int32Array.of(1, 1, 1) });
    expect(stretched.length).toBe(3);
  });

  it('takes a request\'s own times where the stretch\'s stamps are gone, and refuses a stretch whose stamps are not its times', () => {
    const stamps = new StepStamps();
    [1, 1.3, 1.4, 1.6].forEach((t, s) => stamps.push(s, t));
    // Steps 2..4: step 4 is not stamped yet, so the row comes from its own times.
    const beyond = requestRow(outcome({ token_times_s: [1.4, 1.6, 1.9], token_stretch_step: 2 }), undefined, undefined, true, stamps);
    expect(beyond.itl_max_s).toBeCloseTo(0.3, 12);
    expect(beyond.first_token_s).toBe(1.4);
    expect(() => requestRow(outcome({ token_times_s: [1.3, 1.45], token_stretch_step: 1 }), undefined, undefined, true, stamps)).toThrow(
      /not the stamps of steps 1 \.\. 2/,
    );
  });

  it('refuses token steps whose stamps are not the token times', () => {
    const stamps = new StepStamps();
    [1, 1.3].forEach((t, s) => stamps.push(s, t));
    const pool = new GapPool(stamps);
    expect(() => requestRow(outcome({ token_times_s: [1, 1.31], token_steps: [0, 1] }), pool)).toThrow(/not the stamps of steps 0, 1/);
    expect(() => stamps.push(3, 2)).toThrow(/out of order/);
  });
});

describe('column lists', () => {
  it('follow DESIGN.md order', () => {
    expect(REQUEST_COLUMNS.map((c) => c.name).join(',')).toBe(
      'request_id,replica,arrival_s,input_tokens,output_tokens,cached_tokens,first_scheduled_s,first_token_s,finish_s,' +
        'ttft_s,e2e_s,tpot_s,itl_mean_s,itl_p50_s,itl_p99_s,itl_max_s,preemptions,status,priority,samples,sequences,' +
        'pool,model,shadow,reject_reason,retries,prefill_replica,decode_replica,kv_transfer_tokens,kv_wait_s,kv_transfer_s',
    );
    expect(ITERATION_COLUMNS.map((c) => c.name).join(',')).toBe(
      'replica,start_s,end_s,prefill_seqs,decode_seqs,prefill_tokens,decode_tokens,kv_blocks_used,kv_blocks_total,waiting,running,swapped,preempted,' +
        'kv_blocks_cached,kv_blocks_swapped,kv_slots_unused,swap_in_blocks,swap_out_blocks,kv_blocks_evicted',
    );
    expect(REQUEST_COLUMNS.slice(19, 21).map((c) => c.kind)).toEqual(['i32', 'i32']);
    expect(ITERATION_COLUMNS.slice(13).every((c) => c.kind === 'i32')).toBe(true);
  });
});
