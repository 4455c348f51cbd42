import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { BlockKeys, CacheKeys, type TokenIdentity } from '../../sim/kv/blockKeys.js';

/*
 * The content keys, recomputed here from their definition, one mixing round per call and one token
 * at a time: each token resolves to (tag, source, offset) by the first rule that applies (a
 * sample's own output, the system prompt, the Mooncake id covering it, the session, the request);
 * a block mixes each run of consecutive tokens with one source and consecutive offsets as
 * (tag, source low and high words, first offset, length) into three lanes, chained from the
 * previous block's key (lane 1's low 30 bits) and check lanes. The simulator's
 * keying is written for speed; these tests pin it to this plain statement.
 */
const B = 16;
const MOONCAKE = 512;

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return h ^ (h >>> 13);
}

function tokenSource(id: TokenIdentity, p: number): [number, number, number] {
  if (id.sample > 0 && p >= id.prompt_tokens) return [5, id.id * 65536 + id.sample, p];
  const base = id.prefix_group !== undefined ? (id.prefix_tokens ?? 0) : 0;
  if (id.prefix_group !== undefined && p < base) return [2, id.prefix_group, p];
  const hashEnd = Math.min(id.prompt_tokens, base + (id.hash_ids?.length ?? 0) * MOONCAKE);
  if (id.hash_ids !== undefined && p >= base && p < hashEnd) {
    const k = Math.floor((p - base) / MOONCAKE);
    return [1, id.hash_ids[k], p - base - k * MOONCAKE];
  }
  if (id.session !== undefined) return [3, id.session, p];
  return [4, id.id, p];
}

/** Keys (30 bits of lane 1) and check lanes of blocks 0..count − 1, as reference. */
function referenceKeys(id: TokenIdentity, count: number): { keys: number[]; checks: number[] } {
  let [l1, l2, l3] = [0x243f6a88, 0x85a308d3, 0x13198a2e];
  const keys: number[] = [];
  const checks: number[] = [];
  for (let j = 0; j < count; j++) {
    let p = j * B;
    while (p < (j + 1) * B) {
      const [tag, source, offset] = tokenSource(id, p);
      let length = 1;
      while (p + length < (j + 1) * B) {
        const [t, s, o] = tokenSource(id, p + length);
        if (t !== tag || s !== source || o !== offset + length) break;
        length++;
      }
      const lo = source | 0;
      const hi = Math.floor(source / 2 ** 32) | 0;
      l1 = [tag, lo, hi, offset, length].reduce(mix, l1);
      l2 = [length, offset, hi, lo, tag].reduce(mix, l2 ^ 0x5bd1e995);
      l3 = [offset ^ 0x1b873593, tag * 0x3c6ef372, lo ^ 0xcc9e2d51, hi, length ^ 0x7f4a7c15].reduce(mix, l3 + 0x68e31da4);
      p += length;
    }
    // The next block chains from this block's key: lane 1's low 30 bits.
    l1 &= 0x3fffffff;
    keys.push(l1);
    checks.push(l2, l3);
  }
  return { keys, checks };
}

/** The simulator's keys of the holder's shared blocks (all of them within a session). */
function simulatorKeys(id: TokenIdentity, count: number): { keys: number[]; checks: number[] } {
  const holder = new CacheKeys(id);
  // A lookup of the last block keys every shared block up to it.
  new BlockKeys(8, B).lookup(holder, count - 1);
  return { keys: [...holder.block_keys], checks: [...holder.block_checks] };
}

describe('prefix-cache content keys', () => {
  it('match their definition for Mooncake ids, system prompts, sessions and samples', () => {
    const rng = seedrandom('block-keys');
    const int = (n: number): number => Math.floor(rng() * n);
    for (let trial = 0; trial < 200; trial++) {
      const prompt = 1 + int(3000);
      const id: TokenIdentity = { id: int(2 ** 40), sample: 0, prompt_tokens: prompt };
      const kind = trial % 4;
      if (kind === 0 || kind === 3) id.hash_ids = Array.from({ length: Math.ceil(prompt / MOONCAKE) + int(2) }, () => int(2 ** 33));
      if (kind === 1 || kind === 3) {
        id.prefix_group = int(50);
        id.prefix_tokens = int(prompt);
      }
      if (kind === 2) id.session = int(2 ** 35);
      const blocks = Math.ceil((prompt + 200) / B);
      const got = simulatorKeys(id, blocks);
      const want = referenceKeys(id, got.keys.length);
      expect(got.keys.length).toBeGreaterThan(0);
      expect(got).toEqual(want);
    }
  });

  it('keys a multi-sample request up to its prompt: its samples share every block the prompt fills', () => {
    const id: TokenIdentity = { id: 77, sample: 0, prompt_tokens: 600, shared_request: true, hash_ids: [5, 6] };
    const parent = simulatorKeys(id, 60);
    const child = simulatorKeys({ ...id, sample: 2 }, 60);
    // 37 blocks of prompt, then one holding its last 8 tokens and 8 of each sample's own output.
    expect(parent.keys).toHaveLength(38);
    expect(child.keys.slice(0, 37)).toEqual(parent.keys.slice(0, 37));
    expect(child.keys[37]).not.toBe(parent.keys[37]);
    expect(parent).toEqual(referenceKeys(id, 38));
    expect(child).toEqual(referenceKeys({ ...id, sample: 2 }, 38));
  });
});
