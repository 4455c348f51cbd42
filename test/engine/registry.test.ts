import { describe, expect, it } from 'vitest';
import { Registry } from '../../sim/engine/registry.js';

describe('Registry', () => {
  const a = { name: 'a' };
  const b = { name: 'b' };

  it('lists built-ins first, then registrations in order, and removes a registration again', () => {
    const r = new Registry('widget', [b, a]);
    const remove = r.register({ name: 'c' });
    expect(r.names()).toEqual(['b', 'a', 'c']);
    remove();
    expect(r.names()).toEqual(['b', 'a']);
    expect(r.table.a).toBe(a);
  });

  it('refuses a name already taken, built in or registered, and duplicate built-ins', () => {
    const r = new Registry('widget', [a]);
    expect(() => r.register({ name: 'a' })).toThrow("a widget named 'a' is already registered");
    r.register(b);
    expect(() => r.register({ name: 'b' })).toThrow(/already registered/);
    expect(() => new Registry('widget', [a, { name: 'a' }])).toThrow('two built-in widgets share a name');
  });

  it('a stale removal does not remove a later registration of the same name', () => {
    const r = new Registry<{ name: string }>('widget', []);
    const removeFirst = r.register(a);
    removeFirst();
    const second = { name: 'a' };
    r.register(second);
    removeFirst();
    expect(r.table.a).toBe(second);
  });
});
