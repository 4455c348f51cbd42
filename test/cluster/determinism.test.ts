import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import { scenario } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-det-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function outputs(seed: number, name: string): Buffer[] {
  const out = join(dir, name);
  simulate(scenario({ seed, cluster: { replicas: 2, router: 'random' }, engine: { num_gpu_blocks_override: 600, max_model_len: 4096 } }), {
    outDir: out,
    writeTokens: true,
  });
  return ['requests.arrow', 'iterations.arrow', 'tokens.arrow'].map((f) => readFileSync(join(out, f)));
}

describe('determinism', () => {
  it('same scenario and seed give byte-identical Arrow files', () => {
    const a = outputs(5, 'a');
    const b = outputs(5, 'b');
    for (let i = 0; i < a.length; i++) expect(a[i].equals(b[i])).toBe(true);
  });

  it('a different seed gives different results (the seed is used)', () => {
    const a = outputs(5, 'c');
    const b = outputs(6, 'd');
    expect(a[0].equals(b[0])).toBe(false);
  });
});
