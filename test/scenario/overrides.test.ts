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

  it('refuses a value nested past 200 levels before parsing it, as often as it is asked (a second overflow aborted the process)', () => {
    const deep = (levels: number) => `a.b=${'['.repeat(levels)}${']'.repeat(levels)}`;
    for (let i = 0; i < 3; i++) expect(() => parseSet(deep(5_000))).toThrow(/--set a\.b: value is not valid YAML \(nested deeper than 100 levels\)/);
    expect(() => parseSet(deep(201))).toThrow(/value is not valid YAML \(nested deeper than 100 levels\)/);
    // Up to 200 levels the parser reads it and the depth check refuses it, with its own message.
    expect(() => parseSet(deep(200))).toThrow(/--set a\.b: value is nested deeper than 100 levels/);
    expect(parseSet(deep(100)).value).toEqual(JSON.parse(`${'['.repeat(99)}[]${']'.repeat(99)}`));
  });

  it('does not count brackets inside quoted strings as nesting', () => {
    expect(parseSet(`a.b="${'['.repeat(300)}\\"{"`).value).toBe(`${'['.repeat(300)}"{`);
    expect(parseSet(`a.b='it''s ${'{'.repeat(300)}'`).value).toBe(`it's ${'{'.repeat(300)}`);
    expect(parseSet(`a.b=[${'"[",'.repeat(300)} x]`).value).toEqual([...new Array(300).fill('['), 'x']);
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
