import { describe, expect, it } from 'vitest';
import { CLUSTER_COLUMNS } from '../../sim/metrics/columns.js';
import type { ClusterRow, RequestOutcome } from '../../sim/metrics/records.js';
import { CLUSTER_CODEC, ITERATION_CODEC, LongValues, readOutcome, writeOutcome } from '../../sim/metrics/sinkCodec.js';
import { newRingBuffer, RingReader, RingWriter, TAG } from '../../sim/metrics/sinkRing.js';
import { StepStamps } from '../../sim/metrics/stepStamps.js';
import { newRow } from '../../sim/metrics/columns.js';
import { iteration, outcome } from './helpers.js';

/*
 * The ring that carries a run's records to its sink thread (sim/metrics/sinkRing.ts), and the
 * codec of those records, exercised with both ends in this thread: every record written is read
 * back in order, whole, across many wraps of a small ring.
 */
const neverFails = (): never => {
  throw new Error('the reader is in this thread: it cannot have failed');
};

function pair(words: number): { w: RingWriter; r: RingReader } {
  const buffer = newRingBuffer(words);
  return { w: new RingWriter(buffer, neverFails), r: new RingReader(buffer) };
}

/** A record of `n` words: ITERATION tag, its serial number, then serial + k; where it starts. */
function put(w: RingWriter, serial: number, n: number): number {
  const at = w.reserve(n);
  w.data[at] = TAG.ITERATION;
  w.data[at + 1] = serial;
  for (let k = 2; k < n; k++) w.data[at + k] = serial + k;
  w.commit(at + n);
  return at;
}

describe('the sink ring', () => {
  it('gives back every record in order, whole, across wraps, strings between them', () => {
    const { w, r } = pair(64);
    // Sizes from 2 to 20 words in a fixed pseudo-random order: two of them and a string record
    // fit in the ring, so this thread, which reads only after writing, never waits for itself.
    let seed = 7;
    const size = () => 2 + ((seed = (seed * 1103515245 + 12345) % 2147483648) % 19);
    const sent: { serial: number; n: number; name?: string }[] = [];
    let serial = 0;
    let wraps = 0;
    for (let round = 0; round < 400; round++) {
      // Two records, the first sometimes with a new string (sent before it, its number in its last word); then all are read.
      for (let k = 0; k < 2; k++) {
        const name = round % 7 === 0 && k === 0 ? `p${round}` : undefined;
        // A named record keeps its serial number in word 1 and the name's number in its last word.
        const n = Math.max(size(), name === undefined ? 2 : 3);
        const id = name === undefined ? -1 : w.string(name);
        const at = put(w, serial, n);
        if (id >= 0) w.data[at + n - 1] = id;
        if (at === 0) wraps++;
        sent.push({ serial: serial++, n, name });
      }
      w.publish();
      for (const s of sent.splice(0)) {
        const at = r.next();
        expect(r.data[at]).toBe(TAG.ITERATION);
        expect(r.data[at + 1]).toBe(s.serial);
        for (let k = 2; k < s.n - (s.name === undefined ? 0 : 1); k++) expect(r.data[at + k]).toBe(s.serial + k);
        if (s.name !== undefined) expect(r.string(r.data[at + s.n - 1])).toBe(s.name);
        r.done(at + s.n);
      }
      r.release();
    }
    expect(wraps).toBeGreaterThan(100);
  });

  it('refuses a record longer than half the ring, saying so', () => {
    const { w } = pair(64);
    expect(() => w.reserve(33)).toThrow('sink thread: a record of 33 words exceeds the ring\'s limit of 32');
    expect(() => newRingBuffer(8)).toThrow('ring of 8 words: need an integer ≥ 16');
  });

  it('sends a string once, then its number', () => {
    const { w, r } = pair(256);
    expect([w.string('a'), w.string('βγ'), w.string('a'), w.string('')]).toEqual([0, 1, 0, 2]);
    put(w, 1, 3);
    w.publish();
    const at = r.next();
    expect(r.data[at + 1]).toBe(1);
    expect([r.string(0), r.string(1), r.string(2)]).toEqual(['a', 'βγ', '']);
    expect(() => r.string(3)).toThrow('sink thread: string 3 was never sent');
  });
});

describe('records through the ring', () => {
  const roundTrip = (o: RequestOutcome, stamps?: StepStamps): RequestOutcome => {
    const { w, r } = pair(1024);
    writeOutcome(w, o);
    w.publish();
    const at = r.next();
    expect(r.data[at]).toBe(TAG.REQUEST);
    return readOutcome(r, at, () => stamps ?? new StepStamps()).o;
  };

  it('a request with every optional field comes back the same, NaN and token steps included', () => {
    const o = outcome({
      request_id: 41,
      replica: 2,
      first_scheduled_s: NaN,
      token_times_s: [2.5, 2.75, 3.125, 4],
      token_steps: [3, 4, -1, 9],
      token_stretch_step: -1,
      prompt_lookups: 1,
      model: 'llama-3.1-8b',
      pool: 'canary',
      shadow: true,
      reject_reason: 'none',
      retries: 2,
      samples: 2,
      sequences: 3,
      handoff: { prefill_replica: 1, kv_transfer_tokens: 512, kv_wait_s: 0.25, kv_transfer_s: 0.0625 },
    });
    const back = roundTrip(o);
    expect({ ...back, token_times_s: [...back.token_times_s], token_steps: [...back.token_steps!] }).toEqual(o);
    expect(back.first_scheduled_s).toBeNaN();
  });

  it('a request without optional fields has none of them set', () => {
    const o = outcome({ status: 'rejected', token_times_s: [] });
    const back = roundTrip(o);
    for (const k of ['prompt_lookups', 'model', 'pool', 'shadow', 'reject_reason', 'retries', 'handoff', 'token_steps'] as const) expect(back[k], k).toBeUndefined();
    expect(back.status).toBe('rejected');
    expect(back.token_times_s.length).toBe(0);
  });

  it('times too long for one record go ahead of it in pieces, and come back whole', () => {
    // A ring of 2,048 words takes records of up to 1,024: 1,500 times go in two pieces; 300 times
    // and 300 steps (600 words with the head) in one piece each, in a ring of 1,024.
    for (const [words, n, withSteps] of [[2048, 1500, false], [1024, 300, true]] as const) {
      const { w, r } = pair(words);
      const times = Array.from({ length: n }, (_, i) => 1 + i / 16);
      const o = outcome({ token_times_s: times, ...(withSteps && { token_steps: times.map((_, i) => 2 * i) }) });
      writeOutcome(w, o);
      w.publish();
      const long = new LongValues();
      let pieces = 0;
      let at = r.next();
      for (; r.data[at] === TAG.LONG; at = r.next(), pieces++) r.done(long.read(r.data, at));
      expect(pieces).toBe(2);
      const back = readOutcome(r, at, () => new StepStamps(), long).o;
      expect([...back.token_times_s]).toEqual(times);
      if (withSteps) expect([...back.token_steps!]).toEqual(o.token_steps);
      expect(() => readOutcome(r, at, () => new StepStamps())).toThrow('sink thread: a long request without its LongValues');
    }
  });

  it('a stretch of steps sends no times: they are read from the stamps on the other side', () => {
    const stamps = new StepStamps();
    for (let s = 0; s < 10; s++) stamps.push(s, 1 + s / 8);
    const times = stamps.view(3, 5).slice();
    const back = roundTrip(outcome({ token_times_s: times, token_stretch_step: 3 }), stamps);
    expect(back.token_stretch_step).toBe(3);
    expect([...back.token_times_s]).toEqual([...times]);
  });

  it('rows of a column table: dictionary, null and NaN fields come back as they were', () => {
    const { w, r } = pair(256);
    const row = Object.assign(newRow(CLUSTER_COLUMNS) as ClusterRow, { time_s: 60, pool: 'blue', ready: 3, kv_used_fraction: null, gpu_busy_fraction: 0.5, usd_per_hour: NaN });
    const ids = [w.string(row.pool)];
    const at = w.reserve(1 + CLUSTER_CODEC.words);
    CLUSTER_CODEC.encode(row, w.data, at + 1, ids);
    w.commit(at + 1 + CLUSTER_CODEC.words);
    w.publish();
    const back = newRow(CLUSTER_COLUMNS) as ClusterRow;
    CLUSTER_CODEC.decode(r.data, r.next() + 1, back, (id) => r.string(id));
    expect(back).toEqual(row);
    // Two nullable columns of CLUSTER_COLUMNS take a flag word each.
    expect(CLUSTER_CODEC.words).toBe(CLUSTER_COLUMNS.length + 2);
    expect(ITERATION_CODEC.words).toBe(Object.keys(iteration({})).length);
  });
});

describe('the Node options a worker starts with', () => {
  it('are the process\'s, less code to evaluate and its type (a worker given -e runs that code, not its file; given --input-type it does not start)', async () => {
    const { workerExecArgv } = await import('../../sim/engine/workerArgs.js');
    expect(workerExecArgv(['--enable-source-maps', '-e', 'run()', '--input-type=module'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(['--input-type', 'module', '--conditions=x'])).toEqual(['--conditions=x']);
    expect(workerExecArgv(['--eval=run()', '-p', '1', '--print', '2', '-pe', '3', '--max-old-space-size=900'])).toEqual(['--max-old-space-size=900']);
    expect(workerExecArgv([])).toEqual([]);
  });
});
