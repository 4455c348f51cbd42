import { describe, expect, it } from 'vitest';
import type { SpillFile } from '../../sim/metrics/spill.js';
import { StepStamps } from '../../sim/metrics/stepStamps.js';

/** Stamps that slide once they hold `window` steps, as with a spill file (no pool subscribes, so none is written). */
const sliding = (window: number) => new StepStamps({} as SpillFile, window);
/** Step s's stamp in these tests. */
const stampOf = (s: number) => 1 + s / 64;

function pushTo(stamps: StepStamps, end: number): void {
  for (let s = stamps.length; s < end; s++) stamps.push(s, stampOf(s));
}

describe('step stamps that slide, and the pins that hold them', () => {
  it('slide by half the buffer once it is full: steps below the base are gone', () => {
    const stamps = sliding(8);
    // The buffer starts at 1,024 steps; full at step 1,024, it drops 512.
    pushTo(stamps, 1025);
    expect(stamps.base).toBe(512);
    expect(stamps.at(600)).toBe(stampOf(600));
    expect(() => stamps.at(100)).toThrow(/step 100 has no stamp \(steps 512\.\.1024 held\)/);
  });

  it('keep a pinned step and every later one: the buffer grows instead, and slides again once unpinned', () => {
    const stamps = sliding(8);
    pushTo(stamps, 5001);
    // Slides of 512 every 512 steps: base 4,096 since step 4,608. Step 5,000 is on the pin page 4,096..8,191.
    expect(stamps.pin(5000, stampOf(5000))).toBe(true);
    expect(stamps.pinned).toBe(1);
    const base = stamps.base;
    pushTo(stamps, 20_000);
    // The pin's page starts at the base: nothing more could go, so the buffer doubled at each fill (1,024 → 16,384).
    expect(stamps.base).toBe(base);
    expect(stamps.kept().length).toBe(16_384);
    expect(Array.from(stamps.view(5000, 3))).toEqual([stampOf(5000), stampOf(5001), stampOf(5002)]);
    stamps.unpin(5000);
    expect(stamps.pinned).toBe(0);
    pushTo(stamps, base + 16_385);
    // Full again with no pin: half of it goes.
    expect(stamps.base).toBe(base + 8192);
    expect(() => stamps.view(5000, 1)).toThrow(/steps 5000\.\.5000 have no stamps/);
  });

  it('slide up to a pin\'s page when it holds less than half of what would go', () => {
    const stamps = sliding(8);
    pushTo(stamps, 1025);
    // Base 512; a pin at step 1,024 is on page 0 (steps 0..4,095): it holds everything from 0.
    expect(stamps.pin(1024, stampOf(1024))).toBe(true);
    pushTo(stamps, 4200);
    expect(stamps.base).toBe(512);
    stamps.unpin(1024);
    // Step 4,100 is on page 4,096..8,191; the buffer (4,096 after two doublings) is full at 512 + 4,096 = 4,608.
    expect(stamps.pin(4100, stampOf(4100))).toBe(true);
    pushTo(stamps, 4609);
    // Half would be 2,048 steps, to 2,560; the pin allows 4,096 − 512 = 3,584 of them: 2,048 go.
    expect(stamps.base).toBe(2560);
    stamps.unpin(4100);
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
