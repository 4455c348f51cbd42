import { describe, expect, it } from 'vitest';
import { clearKeepingStorage } from '../../sim/engine/arrays.js';
import { Sequence } from '../../sim/scheduler/sequence.js';

describe('clearKeepingStorage', () => {
  it('empties the list in place and drops its references', () => {
    const held = [{ a: 1 }, { a: 2 }, { a: 3 }];
    const list = [...held];
    const same = list;
    clearKeepingStorage(list);
    expect(list).toBe(same);
    expect(list.length).toBe(0);
    expect(list[0]).toBeUndefined();
    list.push(held[2]);
    expect(list).toEqual([{ a: 3 }]);
  });
});

describe('Sequence token times', () => {
  it('holds no buffer while queued and one slot per output token from the first token on', () => {
    const seq = new Sequence({ id: 7, arrival_s: 0, input_tokens: 10, output_tokens: 3 }, 0);
    expect(seq.tokens.times_s.length).toBe(0);
    seq.stampToken(0.5);
    expect(seq.tokens.times_s.length).toBe(3);
    seq.stampToken(0.75);
    seq.stampToken(1.25);
    expect(Array.from(seq.tokens.times_s)).toEqual([0.5, 0.75, 1.25]);
    expect(seq.generated_tokens).toBe(3);
  });
});
