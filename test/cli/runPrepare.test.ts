import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRun, rawRunArgs } from '../../sim/cli/runPrepare.js';

describe('rawRunArgs: the scenario and overrides of `infersim run`, read before yargs parses them', () => {
  it('reads the positional scenario, repeated --set (both spellings) and --seed', () => {
    expect(rawRunArgs(['run', 's.yaml', '--set', 'engine.max_num_seqs=64', '--set=seed=3', '--seed', '7', '--out', 'o', '--quiet'])).toEqual({
      scenario: 's.yaml',
      set: ['engine.max_num_seqs=64', 'seed=3'],
      seed: '7',
    });
    expect(rawRunArgs(['--quiet', 'run', '--tokens', 's.yaml', '--report'])).toEqual({ scenario: 's.yaml', set: [] });
  });

  it('declines what yargs might read otherwise: unknown flags, help, greedy --set values, a flag for a value, other commands', () => {
    expect(rawRunArgs(['run', 's.yaml', '--help'])).toBeUndefined();
    expect(rawRunArgs(['run', 's.yaml', '-h'])).toBeUndefined();
    expect(rawRunArgs(['run', 's.yaml', '--bogus'])).toBeUndefined();
    // yargs reads an array option greedily: b=2 is a second --set value there, a second positional here.
    expect(rawRunArgs(['run', 's.yaml', '--set', 'a=1', 'b=2'])).toBeUndefined();
    expect(rawRunArgs(['run', 's.yaml', '--set', '--quiet'])).toBeUndefined();
    expect(rawRunArgs(['run', 's.yaml', '--seed'])).toBeUndefined();
    expect(rawRunArgs(['run', 's.yaml', '--quiet=false'])).toBeUndefined();
    expect(rawRunArgs(['sweep', 's.yaml'])).toBeUndefined();
    expect(rawRunArgs(['run'])).toBeUndefined();
  });
});

describe('prepareRun', () => {
  it('never throws: a missing file, a bad override and a bad seed are the run\'s to report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-prepare-'));
    try {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'model: [not, a, model]\n');
      expect(() => prepareRun(['run', join(dir, 'absent.yaml')])).not.toThrow();
      expect(() => prepareRun(['run', bad])).not.toThrow();
      expect(() => prepareRun(['run', 'scenarios/quickstart.yaml', '--set', 'engine.max_num_seqs=-1'])).not.toThrow();
      expect(() => prepareRun(['run', 'scenarios/quickstart.yaml', '--seed', 'x'])).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
