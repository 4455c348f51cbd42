import { describe, expect, it } from 'vitest';
import { giveBackStamps, NO_STAMPS, takeStamps, TokenTimes, type StampHolder } from '../../sim/scheduler/tokenTimes.js';

/** Room for `output_tokens` stamps held by nobody who gives it back: its slab is never reused. */
function stampsFor(output_tokens: number): Float64Array {
  const holder: StampHolder = { token_stamps: NO_STAMPS, stamps_slab: undefined };
  takeStamps(holder, output_tokens);
  return holder.token_stamps;
}

/** A new sequence's stamps (`stampsFor`), read as its times and steps. */
const forOutput = (n: number): TokenTimes => TokenTimes.of(stampsFor(n));
/** Stamps token `i`, as a sequence does, through the arrays read back. */
function stamp(t: TokenTimes, i: number, time_s: number, step: number): void {
  t.times_s[i] = time_s;
  t.steps[i] = step;
}

/** The bytes [start, end) a typed array covers in its buffer. */
const span = (a: Float64Array): [ArrayBufferLike, number, number] => [a.buffer, a.byteOffset, a.byteOffset + a.byteLength];

describe('stampsFor: views of shared slabs', () => {
  // Odd and even counts, short and long (past 512 tokens a stamp array has a buffer of its own).
  const sizes = [1, 2, 3, 7, 160, 161, 999, 1000, 1, 5000, 33, 64, 65];

  it('hands out zeroed, aligned, non-overlapping arrays of the asked length, and stamps land where asked', () => {
    const made = [...sizes, ...sizes, ...sizes].map((n) => ({ n, t: forOutput(n) }));
    const spans: [ArrayBufferLike, number, number][] = [];
    for (const { n, t } of made) {
      expect(t.times_s.length).toBe(n);
      expect(t.steps.length).toBe(n);
      expect(t.times_s.byteOffset % 8).toBe(0);
      expect([...t.times_s].every((x) => x === 0)).toBe(true);
      expect([...t.steps].every((x) => x === 0)).toBe(true);
      spans.push(span(t.times_s), span(t.steps));
    }
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const [a, b] = [spans[i], spans[j]];
        const overlap = a[0] === b[0] && a[1] < b[2] && b[1] < a[2];
        expect(overlap, `arrays ${i} and ${j} share bytes`).toBe(false);
      }
    }
    // Writing every stamp of each, in turn, disturbs no other: each reads back its own.
    made.forEach(({ n, t }, k) => {
      for (let i = 0; i < n; i++) stamp(t, i, k + i / n, k * 10_000 + i);
    });
    made.forEach(({ n, t }, k) => {
      for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 7))) {
        expect(t.times_s[i]).toBe(k + i / n);
        expect(t.steps[i]).toBe(k * 10_000 + i);
      }
    });
  });

  it('past a slab\'s end, the next one starts: stamps stay apart across the boundary', () => {
    // 200 outputs of 400 tokens (6.4 KB each, under the 8 KiB of a buffer of its own) cross a 64 KiB slab about 20 times.
    const made = Array.from({ length: 200 }, () => forOutput(400));
    expect(new Set(made.map((t) => t.times_s.buffer)).size).toBeGreaterThan(10);
    made.forEach((t, k) => {
      expect(t.times_s[399]).toBe(0);
      expect(t.steps[399]).toBe(0);
      stamp(t, 0, k, k);
      stamp(t, 399, -(k + 1), -(k + 1));
    });
    made.forEach((t, k) => {
      expect([t.times_s[0], t.steps[0], t.times_s[399], t.steps[399]]).toEqual([k, k, -(k + 1), -(k + 1)]);
    });
  });

  it('a long output gets a buffer of its own, and short ones share one', () => {
    const long = forOutput(100_000);
    // 8 bytes of time and 8 of step per token, in a buffer of its own.
    expect(long.times_s.buffer.byteLength).toBe(100_000 * 16);
    const a = forOutput(10);
    const b = forOutput(10);
    // Consecutive short ones come from one slab unless the first filled it.
    expect(a.times_s.buffer === b.times_s.buffer || b.times_s.byteOffset === 0).toBe(true);
  });
});

describe('a sequence’s stamps', () => {
  it('of many sequences stamping in turn, across slab boundaries, each read back as its own', async () => {
    const { Sequence } = await import('../../sim/scheduler/sequence.js');
    // 120 sequences of 300 tokens (4.8 KB of stamps each) fill about nine 64 KiB slabs.
    const seqs = Array.from({ length: 120 }, (_, id) => new Sequence({ id, arrival_s: 0, input_tokens: 5, output_tokens: 300 }, 0));
    for (let step = 0; step < 300; step++) seqs.forEach((seq, id) => seq.stampToken(id + step / 1000, step));
    expect(new Set(seqs.map((s) => s.token_stamps.buffer)).size).toBeGreaterThan(5);
    seqs.forEach((seq, id) => {
      const { times_s, steps } = seq.tokens;
      expect(times_s.length).toBe(300);
      for (let k = 0; k < 300; k += 37) {
        expect(times_s[k]).toBe(id + k / 1000);
        expect(steps[k]).toBe(k);
      }
      expect([times_s[299], steps[299]]).toEqual([id + 0.299, 299]);
    });
  });

  it('are one array of its own: times first, then steps; its tokens read them', async () => {
    const { Sequence } = await import('../../sim/scheduler/sequence.js');
    const seq = new Sequence({ id: 3, arrival_s: 0, input_tokens: 10, output_tokens: 4 }, 0);
    expect(seq.tokens.times_s.length).toBe(0);
    seq.stampToken(1.5, 7);
    seq.stampToken(1.75, 8);
    seq.stampToken(2, -1);
    expect([...seq.token_stamps]).toEqual([1.5, 1.75, 2, 0, 7, 8, -1, 0]);
    expect([...seq.tokens.times_s]).toEqual([1.5, 1.75, 2, 0]);
    expect([...seq.tokens.steps]).toEqual([7, 8, -1, 0]);
    // Handed to another replica, its steps become unknown; its times stay.
    seq.moveTo(1);
    expect([...seq.token_stamps]).toEqual([1.5, 1.75, 2, 0, -1, -1, -1, 0]);
  });
});

describe('a sequence’s stretch of consecutive steps', () => {
  const newSeq = async (output_tokens = 8) => {
    const { Sequence } = await import('../../sim/scheduler/sequence.js');
    return new Sequence({ id: 3, arrival_s: 0, input_tokens: 10, output_tokens }, 0);
  };

  it('names the step of its first token while each next token comes from the next step, by itself or in a run', async () => {
    const seq = await newSeq();
    expect(seq.stretch_step).toBe(-1);
    seq.stampToken(1.5, 7);
    seq.stampToken(1.75, 8);
    expect(seq.stretch_step).toBe(7);
    // A run's tokens 2..4 come from steps 9..11, their times at ring slots (step & 15).
    const ring = new Float64Array(16);
    [9, 10, 11].forEach((s) => (ring[s & 15] = s / 4));
    seq.stampRun(ring, 15, 9, 3);
    expect(seq.stretch_step).toBe(7);
    expect([...seq.tokens.steps].slice(0, 5)).toEqual([7, 8, 9, 10, 11]);
  });

  it('ends at a skipped step, a repeated step, an unknown step, a run that does not follow, or a move; and never comes back', async () => {
    const cases: [string, (seq: Awaited<ReturnType<typeof newSeq>>) => void][] = [
      ['skipped step', (q) => q.stampToken(2, 10)],
      ['two tokens of one step (accepted drafts)', (q) => q.stampToken(2, 8)],
      ['unknown step', (q) => q.stampToken(2, -1)],
      ['run from a later step', (q) => q.stampRun(new Float64Array(16), 15, 10, 2)],
      ['move to another replica', (q) => q.moveTo(1)],
    ];
    for (const [what, breakIt] of cases) {
      const seq = await newSeq();
      seq.stampToken(1.5, 7);
      seq.stampToken(1.75, 8);
      breakIt(seq);
      expect(seq.stretch_step, what).toBe(-1);
      // A later token that would have followed the stretch does not restore it.
      seq.stampToken(3, 7 + seq.generated_tokens);
      expect(seq.stretch_step, what).toBe(-1);
    }
    const unknownFirst = await newSeq();
    unknownFirst.stampToken(1, -1);
    unknownFirst.stampToken(2, 0);
    expect(unknownFirst.stretch_step).toBe(-1);
  });
});

describe('a sequence reading its stretch from its replica’s step stamps', () => {
  const stampOf = (s: number) => 2 + s / 8;
  async function setUp(steps = 20) {
    const { Sequence } = await import('../../sim/scheduler/sequence.js');
    const { StepStamps } = await import('../../sim/metrics/stepStamps.js');
    const history = new StepStamps();
    for (let s = 0; s < steps; s++) history.push(s, stampOf(s));
    const seq = new Sequence({ id: 5, arrival_s: 0, input_tokens: 10, output_tokens: 8 }, 0);
    return { seq, history };
  }

  it('writes no stamps of its own while each token comes from the next step; its times are a view of the stamps', async () => {
    const { seq, history } = await setUp();
    seq.stampToken(stampOf(4), 4, history);
    seq.stampToken(stampOf(5), 5, history);
    // A run's tokens from steps 6..8, their times in a ring of 16.
    const ring = new Float64Array(16);
    for (const s of [6, 7, 8]) ring[s & 15] = stampOf(s);
    seq.stampRun(ring, 15, 6, 3);
    expect(seq.token_stamps).toBe(NO_STAMPS);
    expect(seq.stamps_slab).toBeUndefined();
    expect(history.pinned).toBe(1);
    expect(Array.from(seq.stretchTimes() as Float64Array)).toEqual([4, 5, 6, 7, 8].map(stampOf));
    seq.dropStamps();
    expect(history.pinned).toBe(0);
    expect(seq.stretchTimes()).toBeUndefined();
  });

  it('copies the stretch into stamps of its own where it breaks, is read, or moves, and lets go of the pin', async () => {
    const cases: [string, (q: Awaited<ReturnType<typeof setUp>>['seq'], h: Awaited<ReturnType<typeof setUp>>['history']) => void, number][] = [
      ['a skipped step', (q, h) => q.stampToken(stampOf(9), 9, h), 6],
      ['its tokens read', (q) => void q.tokens, 6],
      ['a move to another replica', (q) => q.moveTo(1), -1],
    ];
    for (const [what, act, stretch] of cases) {
      const { seq, history } = await setUp();
      seq.stampToken(stampOf(6), 6, history);
      seq.stampToken(stampOf(7), 7, history);
      act(seq, history);
      expect(history.pinned, what).toBe(0);
      expect(seq.stamps_slab, what).toBeDefined();
      const { times_s, steps } = seq.tokens;
      const n = seq.generated_tokens;
      expect(Array.from(times_s).slice(0, n), what).toEqual([stampOf(6), stampOf(7), ...(n === 3 ? [stampOf(9)] : [])]);
      expect(Array.from(steps).slice(0, n), what).toEqual(stretch === -1 ? [-1, -1] : [6, 7, ...(n === 3 ? [9] : [])]);
      // Read or moved, a stretch that did not break goes on as one (a moved one's steps are unknown).
      expect(seq.stretch_step, what).toBe(n === 3 ? -1 : stretch);
    }
  });

  it('writes its own stamps from a first token that is not its step’s stamp, and refuses a later one that is not', async () => {
    const { seq, history } = await setUp();
    seq.stampToken(stampOf(3) + 1, 3, history);
    expect(history.pinned).toBe(0);
    expect(seq.tokens.times_s[0]).toBe(stampOf(3) + 1);
    const { seq: other } = await setUp();
    other.stampToken(stampOf(3), 3, history);
    expect(() => other.stampToken(stampOf(4) + 1, 4, history)).toThrow(/token time .* is not the stamp of its replica's step 4/);
    const ring = new Float64Array(16).fill(1);
    expect(() => other.stampRun(ring, 15, 5, 2)).toThrow(/is not the stamp of its replica's step 6/);
  });
});

describe('slabs given back', () => {
  const holder = (): StampHolder => ({ token_stamps: NO_STAMPS, stamps_slab: undefined });
  /** Holders of 400-token stamps (6,400 bytes: ten to a 64 KiB slab), each stamped all over. */
  function take(count: number): StampHolder[] {
    return Array.from({ length: count }, (_, k) => {
      const h = holder();
      takeStamps(h, 400);
      h.token_stamps.fill(k + 1);
      return h;
    });
  }

  it('a full slab whose views are all given back is reused, its views zeroed; one with a view still held is not', () => {
    // Start on a fresh slab: take until one begins (within a slab's ten).
    let start = take(1)[0];
    const was = start.stamps_slab;
    for (let k = 0; k < 11 && start.stamps_slab === was; k++) start = take(1)[0];
    expect(start.stamps_slab).not.toBe(was);
    const first = [start, ...take(9)];
    const a = first[0].stamps_slab;
    expect(first.every((h) => h.stamps_slab === a)).toBe(true);
    const second = take(10); // the first retires slab a; they fill slab b
    const b = second[0].stamps_slab;
    expect(b).not.toBe(a);
    for (const h of first) giveBackStamps(h);
    expect([first[0].token_stamps, first[0].stamps_slab]).toEqual([NO_STAMPS, undefined]);
    // Slab b is full: the next take retires it and reuses a, zeroed.
    const h = holder();
    takeStamps(h, 400);
    expect(h.stamps_slab).toBe(a);
    expect(h.token_stamps.buffer).toBe(a?.buffer);
    expect(h.token_stamps.every((x) => x === 0)).toBe(true);
    // Slab b still has its views held: never handed out again while they are, and they keep their stamps.
    for (const g of second.slice(1)) giveBackStamps(g);
    const more = take(40);
    expect(more.some((g) => g.stamps_slab === b)).toBe(false);
    expect(second[0].token_stamps.every((x) => x === 1)).toBe(true);
    // Its last view given back, b is reused in turn.
    giveBackStamps(second[0]);
    const later = take(30);
    expect(later.some((g) => g.stamps_slab === b)).toBe(true);
  });

  it('a long output has an array of its own, given back to nobody; a stamps array without a holder is never reused', () => {
    const long = holder();
    takeStamps(long, 10_000);
    expect([long.token_stamps.length, long.stamps_slab]).toEqual([20_000, undefined]);
    giveBackStamps(long);
    expect(long.token_stamps.length).toBe(20_000);
    const kept = stampsFor(400);
    kept.fill(9);
    for (const h of take(50)) giveBackStamps(h);
    take(50);
    expect(kept.every((x) => x === 9)).toBe(true);
  });

  it('a KV hand-off’s continuation takes over its source’s view', async () => {
    const { Sequence, continuation } = await import('../../sim/scheduler/sequence.js');
    const prev = new Sequence({ id: 1, arrival_s: 0, input_tokens: 10, output_tokens: 20 }, 0);
    prev.stampToken(1.5, 3);
    const slab = prev.stamps_slab;
    expect(slab).toBeDefined();
    const next = continuation(prev, 1);
    expect([next.stamps_slab, prev.stamps_slab]).toEqual([slab, undefined]);
    expect(next.tokens.times_s[0]).toBe(1.5);
  });
});

describe('a run’s token stamps', () => {
  it('stay as they were in the outcomes a hook keeps: a run with one reuses no slab', async () => {
    const { simulate } = await import('../../sim/index.js');
    const { scenario } = await import('../helpers.js');
    const kept: { times: Float64Array | readonly number[]; copy: number[] }[] = [];
    simulate(scenario(), {
      onRequest: (o) => kept.push({ times: o.token_times_s, copy: Array.from(o.token_times_s) }),
    });
    expect(kept.length).toBe(200);
    for (const { times, copy } of kept) expect(Array.from(times)).toEqual(copy);
  });
});
