import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { runCommandBuilder, type RunArgs } from '../../sim/cli/run.js';
import { plainRunArgs } from '../../sim/cli/runPlain.js';
import { expectSameRunFolders, infersim, ROOT } from './cli.js';

const DIST = process.env.INFERSIM_TEST_DIST === '1';

const FIELDS = ['scenario', 'set', 'out', 'seed', 'quiet', 'tokens', 'report'] as const;

/** What yargs gives `infersim run`'s handler for `argv`, configured as main.ts configures it (its fields only), or its failure. */
function yargsRunArgs(argv: string[]): Partial<RunArgs> | { failed: string } {
  let got: Record<string, unknown> | undefined;
  let failed: string | undefined;
  yargs(argv)
    .scriptName('infersim')
    .command('run <scenario>', 'simulate', runCommandBuilder, (a) => {
      got = a as Record<string, unknown>;
    })
    .demandCommand(1)
    .strict()
    .help()
    .fail((message, err) => {
      failed = message ?? err?.message ?? 'failed';
    })
    .exitProcess(false)
    .parse();
  if (failed !== undefined || got === undefined) return { failed: failed ?? 'no handler ran' };
  return Object.fromEntries(FIELDS.filter((f) => (got as Record<string, unknown>)[f] !== undefined).map((f) => [f, (got as Record<string, unknown>)[f]]));
}

describe('plainRunArgs: `infersim run` lines read without yargs', () => {
  it('reads the scenario, repeated --set in both spellings, --out, --seed and the switches as yargs does', () => {
    const line = ['run', 's.yaml', '--quiet', '--set', 'a=1', '--set=b=2', '--out', 'o', '--seed', '7', '--tokens', '--report'];
    const args = { scenario: 's.yaml', set: ['a=1', 'b=2'], out: 'o', seed: '7', quiet: true, tokens: true, report: true };
    expect(plainRunArgs(line)).toEqual(args);
    expect(yargsRunArgs(line)).toEqual(args);
    expect(plainRunArgs(['run', 's.yaml'])).toEqual({ scenario: 's.yaml' });
    expect(plainRunArgs(['run', 's.yaml', '--out=dir/x', '--seed=3'])).toEqual({ scenario: 's.yaml', out: 'dir/x', seed: '3' });
  });

  it('declines every line yargs might read otherwise, which then goes through yargs', () => {
    for (const line of [
      ['run', 's.yaml', '--help'],
      ['run', 's.yaml', '-h'],
      ['--quiet', 'run', 's.yaml'],
      ['run', '--quiet', 's.yaml'],
      ['run'],
      ['sweep', 's.yaml'],
      ['run', 's.yaml', 'extra'],
      ['run', 's.yaml', '--bogus'],
      ['run', 's.yaml', '--no-quiet'],
      ['run', 's.yaml', '--quiet=false'],
      ['run', 's.yaml', '--quiet', '--quiet'],
      // yargs reads --set greedily: b=2 is a second value there.
      ['run', 's.yaml', '--set', 'a=1', 'b=2'],
      ['run', 's.yaml', '--set', '--quiet'],
      ['run', 's.yaml', '--seed'],
      ['run', 's.yaml', '--seed', '-1'],
      ['run', 's.yaml', '--out', 'a', '--out', 'b'],
      ['run', 's.yaml', '--out='],
      ['run', 's.yaml', '--', 'x'],
    ]) {
      expect(plainRunArgs(line), line.join(' ')).toBeUndefined();
    }
  });

  it('random command lines: whatever it reads, yargs reads the same (1,500 lines)', () => {
    const rng = seedrandom('plain-run');
    // Flags and values in a random order: most lines are not plain, many are, some repeat a flag.
    const tokens = ['o', '7', 'a=1', '--set', '--set', '--set=b=2', '--out', '--out=x', '--seed', '--seed=5', '--quiet', '--tokens', '--report', '--quiet=true', '-q', '--help', '--set=', '-1', 'b.yaml', 'run'];
    let read = 0;
    for (let i = 0; i < 1500; i++) {
      const line = ['run', 's.yaml', ...Array.from({ length: Math.floor(rng() * 7) }, () => tokens[Math.floor(rng() * tokens.length)])];
      if (rng() < 0.1) line.splice(1, 1);
      const plain = plainRunArgs(line);
      if (plain === undefined) continue;
      read++;
      expect(yargsRunArgs(line), line.join(' ')).toEqual(plain);
    }
    // Not a vacuous pass: a good share of the lines are plain.
    expect(read).toBeGreaterThan(150);
  });
});

describe('infersim run from a plain line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infersim-plain-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!DIST)('prints and writes what the same line through yargs does (needs the build: run through npm test; the sources always use yargs)', () => {
    const line = (out: string) => ['run', 'scenarios/quickstart.yaml', '--set', 'workload.num_requests=120', '--seed', '3', '--out', join(dir, out)];
    expect(plainRunArgs(line('plain'))).toBeDefined();
    const plain = infersim(line('plain'));
    const viaYargs = infersim(line('yargs'), ROOT, { INFERSIM_PLAIN_RUN: '0' });
    expect(plain.status, plain.stderr).toBe(0);
    expect(viaYargs.status, viaYargs.stderr).toBe(0);
    // Wall times and the folder's name aside, the same lines.
    const lines = (stdout: string, out: string) => stdout.split(join(dir, out)).join('DIR').replace(/[\d.]+ s/g, 'T s');
    expect(lines(plain.stdout, 'plain')).toBe(lines(viaYargs.stdout, 'yargs'));
    expectSameRunFolders(join(dir, 'plain'), join(dir, 'yargs'));
    // A bad value is the run's error either way: one line, exit 1.
    const bad = ['run', 'scenarios/quickstart.yaml', '--seed', 'x', '--out', join(dir, 'bad')];
    const [a, b] = [infersim(bad), infersim(bad, ROOT, { INFERSIM_PLAIN_RUN: '0' })];
    expect([a.status, a.stderr]).toEqual([1, 'infersim: error: --seed: must be an integer ≥ 0, got "x"\n']);
    expect([b.status, b.stderr]).toEqual([a.status, a.stderr]);
  });
});
