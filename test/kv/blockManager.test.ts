import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';

describe('BlockManager', () => {
  it('holds ceil(tokens / block_size) blocks and grows only by the difference', () => {
    const kv = new BlockManager(10, 16);
    const seq = { kv_blocks: 0 };
    expect(kv.allocateSlots(seq, 17)).toBe(true);
    expect(seq.kv_blocks).toBe(2);
    expect(kv.allocateSlots(seq, 32)).toBe(true);
    expect(seq.kv_blocks).toBe(2);
    expect(kv.allocateSlots(seq, 33)).toBe(true);
    expect(seq.kv_blocks).toBe(3);
    expect(kv.free_blocks).toBe(7);
  });

  it('allocates all or nothing', () => {
    const kv = new BlockManager(4, 16);
    const a = { kv_blocks: 0 };
    const b = { kv_blocks: 0 };
    expect(kv.allocateSlots(a, 48)).toBe(true);
    expect(kv.allocateSlots(b, 33)).toBe(false);
    expect(b.kv_blocks).toBe(0);
    expect(kv.free_blocks).toBe(1);
    kv.free(a);
    expect(kv.free_blocks).toBe(4);
    expect(a.kv_blocks).toBe(0);
  });
});
