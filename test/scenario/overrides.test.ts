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

  it('adds __proto__ as an own key instead of changing the prototype', () => {
    const doc: Record<string, unknown> = {};
    applyOverrides(doc, [{ key: ['__proto__', 'polluted'], value: true }]);
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
  });
});
