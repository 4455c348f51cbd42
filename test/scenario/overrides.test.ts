import { describe, expect, it } from 'vitest';
import { applyOverrides, parseSet } from '../../sim/scenario/overrides.js';

describe('parseSet', () => {
  it.each<[string, unknown]>([
    ['a.b=8', 8],
    ['a.b=0.9', 0.9],
    ['a.b=true', true],
    ['a.b=abc', 'abc'],
    ["a.b='8'", '8'],
    ['a.b=[1,2]', [1, 2]],
    ['a.b={process: burst, x: 1}', { process: 'burst', x: 1 }],
    ['a.b=x=y', 'x=y'],
    ['a.b=', null],
  ])('parses the value of %j as YAML', (raw, value) => {
    expect(parseSet(raw)).toEqual({ key: ['a', 'b'], value });
  });

  it('trims spaces around the key', () => {
    expect(parseSet(' engine.block_size = 32').key).toEqual(['engine', 'block_size']);
  });
});

describe('applyOverrides', () => {
  it('replaces a scalar parent with a mapping and keeps key order', () => {
    const doc: Record<string, unknown> = { a: 1, hardware: 'h100', z: 2 };
    applyOverrides(doc, [{ key: ['hardware', 'gpu'], value: 'a100' }, { key: ['a'], value: 5 }]);
    expect(doc).toEqual({ a: 5, hardware: { gpu: 'a100' }, z: 2 });
    expect(Object.keys(doc)).toEqual(['a', 'hardware', 'z']);
  });

  it('reaches into a list by position or by an entry\'s name, and says which exist when neither matches', () => {
    const doc: Record<string, unknown> = { pools: [{ name: 'h100', replicas: 2 }, { name: 'a100', replicas: 2, hardware: { gpu: 'a100-sxm-80gb' } }], steps: [5, 25] };
    applyOverrides(doc, [
      { key: ['pools', 'a100', 'replicas'], value: 4 },
      { key: ['pools', '0', 'engine', 'max_num_seqs'], value: 64 },
      { key: ['steps', '1'], value: 50 },
    ]);
    expect(doc).toEqual({
      pools: [{ name: 'h100', replicas: 2, engine: { max_num_seqs: 64 } }, { name: 'a100', replicas: 4, hardware: { gpu: 'a100-sxm-80gb' } }],
      steps: [5, 50],
    });
    expect(() => applyOverrides(doc, [{ key: ['pools', 'l4', 'replicas'], value: 1 }])).toThrow(
      '--set pools.l4.replicas: pools has no entry l4: give a position 0..1 or a name (h100, a100)',
    );
    expect(() => applyOverrides(doc, [{ key: ['steps', '2'], value: 1 }])).toThrow('--set steps.2: steps has no entry 2: give a position 0..1');
  });

  it('adds __proto__ as an own key instead of changing the prototype', () => {
    const doc: Record<string, unknown> = {};
    applyOverrides(doc, [{ key: ['__proto__', 'polluted'], value: true }]);
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
  });
});
