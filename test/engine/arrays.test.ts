import { describe, expect, it } from 'vitest';
import { clearKeepingStorage, objectList } from '../../sim/engine/arrays.js';
import { Deque } from '../../sim/engine/deque.js';
import { DOUBLE_ZERO } from '../../sim/engine/doubles.js';
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

describe('objectList', () => {
  it('is a new, empty list each call, that holds what is pushed', () => {
    const a = objectList<{ n: number }>();
    const b = objectList<{ n: number }>();
    expect(a).not.toBe(b);
    expect(a).toEqual([]);
    expect(a.length).toBe(0);
    a.push({ n: 1 }, { n: 2 });
    expect(a.map((x) => x.n)).toEqual([1, 2]);
    expect(b.length).toBe(0);
  });
});

describe('DOUBLE_ZERO', () => {
  it('is +0 in every respect a value can be told apart by', () => {
    expect(Object.is(DOUBLE_ZERO, 0)).toBe(true);
    expect(1 / DOUBLE_ZERO).toBe(Infinity);
    expect(JSON.stringify({ t: DOUBLE_ZERO })).toBe('{"t":0}');
    expect(new Uint8Array(new Float64Array([DOUBLE_ZERO]).buffer)).toEqual(new Uint8Array(8));
    expect(String(DOUBLE_ZERO + 0.25)).toBe('0.25');
  });
});

describe('Deque', () => {
  it('starts empty whether it holds objects or numbers, and keeps order across a wrap', () => {
    const objects = new Deque<{ n: number }>(2);
    const numbers = new Deque<number>(2, true);
    expect([objects.size, numbers.size, objects.peekFront(), numbers.popFront()]).toEqual([0, 0, undefined, undefined]);
    for (let i = 0; i < 5; i++) {
      objects.pushBack({ n: i });
      numbers.pushBack(i + 0.5);
    }
    expect(objects.popFront()).toEqual({ n: 0 });
    objects.pushFront({ n: -1 });
    const drained: number[] = [];
    for (let o = objects.popFront(); o !== undefined; o = objects.popFront()) drained.push(o.n);
    expect(drained).toEqual([-1, 1, 2, 3, 4]);
    expect(numbers.popFront()).toBe(0.5);
    expect(numbers.size).toBe(4);
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
