import { describe, expect, it } from 'vitest';
import type { SpillFile } from '../../sim/metrics/spill.js';
import { MIN_STEP_WINDOW, RUN_STEP_WINDOW, STEP_WINDOW, StepStamps, stepWindowFor } from '../../sim/metrics/stepStamps.js';

/** Stamps that slide once they hold `window` steps, as with a spill file (no pool subscribes, so none is written). */
const sliding = (window: number) => new StepStamps({} as SpillFile, window);
/** Step s's stamp in these tests. */
const stampOf = (s: number) => 1 + s / 64;

function pushTo(stamps: StepStamps, end: number): void {
  for (let s = stamps.length; s < end; s++) stamps.push(s, stampOf(s));
}

describe('step stamps that slide, and the pins that hold them', () => {
  // A window of 1,024 steps: pins count by pages of 1,024 / 64 = 16 steps; the buffer starts at 1,024.
  it('slide by half the buffer once it is full: steps below the base are gone', () => {
    const stamps = sliding(1024);
    pushTo(stamps, 1025);
    expect(stamps.base).toBe(512);
    expect(stamps.at(600)).toBe(stampOf(600));
    expect(() => stamps.at(100)).toThrow(/step 100 has no stamp \(steps 512\.\.1024 held\)/);
  });

  it('keep a pinned step and every later one: the buffer grows instead, and slides again once unpinned', () => {
    const stamps = sliding(1024);
    pushTo(stamps, 1100);
    // Base 512. Step 1,090 is on the page 1,088..1,103.
    expect(stamps.pin(1090, stampOf(1090))).toBe(true);
    expect(stamps.pinned).toBe(1);
    // Full at 1,536: 512 may go (to 1,024, below the page). Full at 2,048: only 64 may, under a
    // quarter of the buffer, so it doubles; and again at 3,072 and 5,120.
    pushTo(stamps, 9000);
    expect(stamps.base).toBe(1024);
    expect(stamps.kept().length).toBe(8192);
    expect(Array.from(stamps.view(1090, 3))).toEqual([stampOf(1090), stampOf(1091), stampOf(1092)]);
    stamps.unpin(1090);
    expect(stamps.pinned).toBe(0);
    // Full again at 1,024 + 8,192 with no pin: half of it goes.
    pushTo(stamps, 9217);
    expect(stamps.base).toBe(5120);
    expect(() => stamps.view(1090, 1)).toThrow(/steps 1090\.\.1090 have no stamps/);
  });

  it('slide up to a pin\'s page when that is at least a quarter of the buffer', () => {
    const stamps = sliding(1024);
    pushTo(stamps, 1501);
    // Base 512; step 1,500 is on the page 1,488..1,503.
    expect(stamps.pin(1500, stampOf(1500))).toBe(true);
    pushTo(stamps, 1537);
    expect(stamps.base).toBe(1024);
    // Full at 2,048: half would be 512 steps; the pin lets 464 go (to its page), over a quarter.
    pushTo(stamps, 2049);
    expect(stamps.base).toBe(1488);
    expect(stamps.at(1488)).toBe(stampOf(1488));
    stamps.unpin(1500);
  });

  it('pin only a held step whose stamp is the token\'s time, and refuse to unpin what is not pinned', () => {
    const stamps = new StepStamps();
    pushTo(stamps, 10);
    expect(stamps.pin(3, stampOf(3) + 1e-9)).toBe(false);
    expect(stamps.pin(10, stampOf(10))).toBe(false);
    expect(stamps.pinned).toBe(0);
    expect(() => stamps.unpin(3)).toThrow(/step 3: unpinned but not pinned/);
    expect(stamps.pin(3, stampOf(3))).toBe(true);
    expect(stamps.pin(4, stampOf(4))).toBe(true);
    stamps.unpin(3);
    expect(stamps.pinned).toBe(1);
  });
});

describe('a copy of step stamps in another thread (pushAs)', () => {
  it('makes room as the original did, pins or not: the same steps held after every push', () => {
    const original = new StepStamps(undefined, 1024, true);
    // The copy has no pins of its own; without `room` it would slide where the original grew.
    const copy = sliding(1024);
    const rooms = new Set<number>();
    for (let s = 0; s < 6000; s++) {
      if (s === 1100) expect(original.pin(1090, stampOf(1090))).toBe(true);
      if (s === 4000) original.unpin(1090);
      original.push(s, stampOf(s));
      copy.pushAs(s, stampOf(s), original.room);
      rooms.add(Math.sign(original.room));
      expect([copy.base, copy.length, copy.kept().length]).toEqual([original.base, original.length, original.kept().length]);
    }
    // It grew (−1), slid (1) and, most pushes, did neither (0).
    expect([...rooms].sort()).toEqual([-1, 0, 1]);
    expect(Array.from(copy.view(5000, 2))).toEqual([stampOf(5000), stampOf(5001)]);
  });

  it('refuses room that does not fit its own state', () => {
    const copy = sliding(1024);
    expect(() => copy.pushAs(0, 1, 5)).toThrow('step 0: room 5 made in a copy of stamps that is not full');
    pushTo(copy, 1024);
    expect(() => copy.pushAs(1024, 2, 0)).toThrow('step 1024: room 0 made in a copy of stamps that is full');
    expect(() => copy.pushAs(7, 2, 0)).toThrow('step 7 stamped out of order (next expected: 1024)');
  });
});

describe('stepWindowFor', () => {
  it('gives one or two replicas the whole window and halves it until the run fits 2^19 steps', () => {
    // By hand: 2^18 · 2 = 2^19 fits; 3 · 2^18 does not, 3 · 2^17 does; 8 · 2^16 = 2^19; 32 · 2^14 = 2^19.
    expect([1, 2, 3, 4, 5, 8, 9, 16, 32].map(stepWindowFor)).toEqual([2 ** 18, 2 ** 18, 2 ** 17, 2 ** 17, 2 ** 16, 2 ** 16, 2 ** 15, 2 ** 15, 2 ** 14]);
  });

  it('never goes below its floor, and is the largest power of two that fits above it', () => {
    expect(stepWindowFor(33)).toBe(2 ** 14);
    expect(stepWindowFor(1000)).toBe(MIN_STEP_WINDOW);
    for (let replicas = 1; replicas <= 300; replicas++) {
      const w = stepWindowFor(replicas);
      expect(Number.isInteger(Math.log2(w)) && w <= STEP_WINDOW && w >= MIN_STEP_WINDOW).toBe(true);
      if (w > MIN_STEP_WINDOW) expect(w * replicas).toBeLessThanOrEqual(RUN_STEP_WINDOW);
      if (w < STEP_WINDOW) expect(2 * w * replicas).toBeGreaterThan(RUN_STEP_WINDOW);
    }
  });
});
