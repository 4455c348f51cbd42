/**
 * The prefix cache's index: content key → block, both non-negative int32s, in an open-addressing
 * table (linear probing, deletion by backward shift, so no tombstones pile up). A JS Map did the
 * same job, but a long run keeps entering and evicting blocks (the Mooncake scenario enters ~3.5 M
 * and evicts most of them against a ~28 k-block cache), and under that churn the Map's inserts and
 * deletes were a third of the run: ~200 ns per eviction and entry in a micro-benchmark, against
 * ~50 here. Nothing iterates the index, so order does not matter.
 */

const EMPTY = -1;
/** Grown (doubled) when more than this share of slots would be taken: probes stay short. */
const MAX_LOAD = 0.5;
const MIN_SLOTS = 1024;
const MAX_BITS = 28;

export class KeyTable {
  /** Slot i's key at 2i (EMPTY when free) and its value at 2i + 1: a probe reads one cache line. */
  private slots: Int32Array;
  /** log2 of the slots. */
  private bits: number;
  private mask: number;
  private count = 0;

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  constructor(expected_entries = 0) {
    let bits = Math.log2(MIN_SLOTS);
    while ((1 << bits) * MAX_LOAD < expected_entries && bits < MAX_BITS) bits++;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.slots = new Int32Array(2 << bits).fill(EMPTY);
  }

  /** The value under `key`, or −1. */
  get(key: number): number {
    const i = this.slotOf(key);
    return this.slots[2 * i] === EMPTY ? EMPTY : this.slots[2 * i + 1];
  }

  /** Stores `value` under `key` unless the key is present; true when it stored it. */
  addIfAbsent(key: number, value: number): boolean {
    if (!(key >= 0 && (key | 0) === key && value >= 0 && (value | 0) === value)) throw new Error(`key table: key ${key} or value ${value} is not a non-negative int32`);
    const i = this.slotOf(key);
    const slots = this.slots;
    if (slots[2 * i] === key) return false;
    if (this.count + 1 > (this.mask + 1) * MAX_LOAD) {
      this.grow();
      return this.addIfAbsent(key, value);
    }
    slots[2 * i] = key;
    slots[2 * i + 1] = value;
    this.count++;
    return true;
  }

  /** Removes `key` if it maps to `value`; true when it did. */
  deleteIfValue(key: number, value: number): boolean {
    const i = this.slotOf(key);
    if (this.slots[2 * i] !== key || this.slots[2 * i + 1] !== value) return false;
    this.removeAt(i);
    return true;
  }

  /** The slot holding `key`, else the empty slot that ends its probe run (where it would go). */
  private slotOf(key: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.home(key);
    for (let k = slots[2 * i]; k !== key && k !== EMPTY; k = slots[2 * i]) i = (i + 1) & mask;
    return i;
  }

  /**
   * Empties slot `hole` and closes the gap: each later entry of the probe run moves back into the
   * hole when the hole lies between its home slot and where it sits, so every key stays reachable
   * from its home without tombstones.
   */
  private removeAt(hole: number): void {
    const slots = this.slots;
    const mask = this.mask;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const k = slots[2 * j];
      if (k === EMPTY) break;
      // Distance from k's home to j, and from the hole to j: k may move back when the first is the larger.
      if (((j - this.home(k)) & mask) >= ((j - hole) & mask)) {
        slots[2 * hole] = k;
        slots[2 * hole + 1] = slots[2 * j + 1];
        hole = j;
      }
    }
    slots[2 * hole] = EMPTY;
    this.count--;
  }

  /** Fibonacci hashing: the product's top bits, so keys that differ only in high bits still spread. */
  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> (32 - this.bits);
  }

  private grow(): void {
    // 2^28 slots hold 2^27 entries at a load of one half: beyond any pool (at most 2^24 blocks a replica).
    if (this.bits >= MAX_BITS) throw new Error(`key table: more than ${(1 << this.bits) * MAX_LOAD} entries`);
    const old = this.slots;
    this.bits++;
    this.mask = (1 << this.bits) - 1;
    this.slots = new Int32Array(2 << this.bits).fill(EMPTY);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.addIfAbsent(old[i], old[i + 1]);
  }
}
