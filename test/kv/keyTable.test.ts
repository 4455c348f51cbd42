import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../sim/kv/keyTable.js';

/** Runs `ops` random operations on a KeyTable and a Map side by side; every answer must agree. */
function churn(seed: string, ops: number, keySpace: number, live: number): void {
  const rng = seedrandom(seed);
  const table = new KeyTable();
  const map = new Map<number, number>();
  const held: number[] = [];
  for (let i = 0; i < ops; i++) {
    const r = rng();
    if (r < 0.45 || held.length === 0) {
      const key = Math.floor(rng() * keySpace);
      const value = Math.floor(rng() * 1000);
      const added = table.addIfAbsent(key, value);
      expect(added).toBe(!map.has(key));
      if (added) {
        map.set(key, value);
        held.push(key);
      }
    } else if (r < 0.9 || held.length > live) {
      // Delete a held key (by its value, or try a wrong value first), or an absent one.
      const at = Math.floor(rng() * held.length);
      const key = held[at];
      const value = map.get(key) as number;
      expect(table.deleteIfValue(key, value + 1)).toBe(false);
      expect(table.deleteIfValue(key, value)).toBe(true);
      map.delete(key);
      held[at] = held[held.length - 1];
      held.pop();
    } else {
      const key = Math.floor(rng() * keySpace);
      expect(table.get(key)).toBe(map.get(key) ?? -1);
    }
    expect(table.size).toBe(map.size);
  }
  // Every key still held is found with its value; every other one is absent.
  for (const [key, value] of map) expect(table.get(key)).toBe(value);
  for (let k = 0; k < Math.min(keySpace, 5000); k++) if (!map.has(k)) expect(table.get(k)).toBe(-1);
}

describe('KeyTable (the prefix-cache index)', () => {
  it('answers as a Map does under insert and delete churn around a steady size', () => {
    // Small key spaces collide often, so deletions move entries back across long probe runs.
    churn('dense', 20000, 3000, 600);
    churn('sparse', 20000, 2 ** 30, 1500);
  });

  it('grows past its first size and keeps every entry', () => {
    const table = new KeyTable();
    for (let k = 0; k < 5000; k++) expect(table.addIfAbsent(k * 7919, k)).toBe(true);
    expect(table.size).toBe(5000);
    for (let k = 0; k < 5000; k++) expect(table.get(k * 7919)).toBe(k);
    expect(table.addIfAbsent(7919, 99)).toBe(false);
    expect(table.get(7919)).toBe(1);
  });

  it('keeps keys sharing a home slot reachable after any one of them goes', () => {
    // 512 keys fill the first 1,024 slots to their load limit, so probe runs are long; deleting
    // any one must move the later entries of its run back where their probes will find them.
    const keys = Array.from({ length: 512 }, (_, i) => i * 2 ** 21);
    for (let gone = 0; gone < keys.length; gone += 37) {
      const table = new KeyTable();
      keys.forEach((k, i) => table.addIfAbsent(k, i));
      expect(table.deleteIfValue(keys[gone], gone)).toBe(true);
      keys.forEach((k, i) => expect(table.get(k)).toBe(i === gone ? -1 : i));
    }
  });

  it('refuses a key or value that is not a non-negative int32 (−1 means absent)', () => {
    const table = new KeyTable();
    for (const bad of [-1, 2 ** 31, 1.5, Number.NaN]) {
      expect(() => table.addIfAbsent(bad, 0)).toThrow(/not a non-negative int32/);
      expect(() => table.addIfAbsent(0, bad)).toThrow(/not a non-negative int32/);
    }
    expect(table.size).toBe(0);
  });
});
