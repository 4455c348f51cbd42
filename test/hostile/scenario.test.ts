import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectCleanFailure, scenarioText, scratch, writeScenario } from './harness.js';

const dir = scratch('scenario');

describe('hostile scenarios: one line, non-zero, nothing left', () => {
  it('a missing scenario file', () => {
    const out = join(dir, 'o-missing');
    expectCleanFailure(cli(['run', join(dir, 'nope.yaml'), '--out', out]), /file not found/, { out });
  });

  it('a scenario that is a folder', () => {
    const out = join(dir, 'o-folder');
    expectCleanFailure(cli(['run', dir, '--out', out]), /scenario/, { out });
  });

  it('an unknown top-level key', () => {
    const f = writeScenario(dir, 'k.yaml', scenarioText({ extra: 'modle: x' }));
    const out = join(dir, 'o-key');
    expectCleanFailure(cli(['run', f, '--out', out]), /modle/, { out });
  });
});

describe('run and sweep numeric flags: typed text echoed, [number] in --help', () => {
  const f = writeScenario(dir, 'flags.yaml', scenarioText());

  it('--help labels --seed, --jobs and --target as numbers', () => {
    const run = cli(['run', '--help']);
    expect(run.stdout).toMatch(/--seed\s+override the scenario seed \(integer ≥ 0\)\s+\[number\]/);
    const sweep = cli(['sweep', '--help']);
    expect(sweep.stdout).toMatch(/--seed\s+.*\[number\]/);
    expect(sweep.stdout).toMatch(/--jobs\s+[\s\S]*?\[number\]/);
    expect(sweep.stdout).toMatch(/--target\s+[\s\S]*?\[number\]/);
  });

  for (const [flag, value, pattern] of [
    ['--seed', 'abc', /--seed: must be an integer ≥ 0, got "abc"/],
    ['--seed', '-1', /--seed: must be an integer ≥ 0, got "-1"/],
    ['--seed', '1.5', /--seed: must be an integer ≥ 0, got "1\.5"/],
    ['--seed', '0x10', /--seed: must be an integer ≥ 0, got "0x10"/],
    ['--seed', '1e400', /--seed: must be an integer ≥ 0, got "1e400"/],
  ] as const) {
    it(`run ${flag} ${value}`, () => {
      const out = join(dir, `o-flag-${value}`);
      expectCleanFailure(cli(['run', f, flag, value, '--out', out]), pattern, { out });
    });
  }

  it('a numeric flag with no value (it fell back to the default without a word)', () => {
    const out = join(dir, 'o-seed-bare');
    expectCleanFailure(cli(['run', f, '--out', out, '--seed']), /Not enough arguments following: seed/, { out });
    expectCleanFailure(cli(['predict', '--model', 'llama-2-7b', '--gpu', 'h100-sxm', '--decode', '1024x1', '--tp']), /Not enough arguments following: tp/);
  });

  it('run --seed given twice', () => {
    const out = join(dir, 'o-seed-twice');
    expectCleanFailure(cli(['run', f, '--seed', '1', '--seed', '2', '--out', out]), /--seed: given 2 times; give it once/, { out });
  });

  for (const [flag, value, pattern] of [
    ['--jobs', '0', /--jobs: must be an integer ≥ 1 and ≤ 256, got "0"/],
    ['--jobs', '100000', /--jobs: must be an integer ≥ 1 and ≤ 256, got "100000"/],
    ['--target', 'most', /--target: must be a number > 0 and ≤ 1, got "most"/],
  ] as const) {
    it(`sweep ${flag} ${value}`, () => {
      const out = join(dir, `o-sweep-${value}`);
      const extra = flag === '--target' ? ['--find-max-rate'] : [];
      expectCleanFailure(cli(['sweep', f, '--grid', 'engine.max_num_seqs=8,16', flag, value, ...extra, '--out', out]), pattern, { out });
    });
  }
});

describe('profiles and length files named by a scenario', () => {
  const withProfile = (name: string, profile: string) =>
    writeScenario(dir, name, scenarioText().replace('hardware: { gpu: h100-sxm }', `hardware: { gpu: h100-sxm, profile: ${JSON.stringify(profile)} }`));

  it('a FIFO as hardware.profile is refused, not read (it hung)', () => {
    const fifo = join(dir, 'profile.fifo.json');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'o-prof-fifo');
    expectCleanFailure(cli(['run', withProfile('pf.yaml', fifo), '--out', out]), /hardware\.profile: must name a regular file, not a FIFO/, { out });
  });

  it('a profile with a duplicate key names the key and where', () => {
    const file = join(dir, 'dup-profile.json');
    writeFileSync(file, '{\n  "format": "infersim-profile/1",\n  "format": "x"\n}\n');
    const out = join(dir, 'o-prof-dup');
    expectCleanFailure(cli(['run', withProfile('pd.yaml', file), '--out', out]), /hardware\.profile: .*dup-profile\.json:3:\d+: invalid JSON: duplicate key "format"/, { out });
  });

  it('a JSONL length file whose column is named constructor but missing from the rows', () => {
    const file = join(dir, 'lengths.jsonl');
    writeFileSync(file, '{"n": 10}\n{"n": 20}\n');
    const f = writeScenario(dir, 'ctor.yaml', scenarioText({
      workload: `  arrival: { process: poisson, rate_per_s: 5 }
  input_tokens: { dist: empirical, path: ${JSON.stringify(file)}, column: constructor }
  output_tokens: { dist: fixed, value: 10 }
  num_requests: 5`,
    }));
    const out = join(dir, 'o-ctor');
    const r = cli(['run', f, '--out', out]);
    expectCleanFailure(r, /workload\.input_tokens\.column: .*"constructor"/, { out });
    expect(r.stderr).not.toMatch(/function Object/);
  });

  it('a trace token count past int32 states the range', () => {
    const file = join(dir, 'big.csv');
    writeFileSync(file, 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,1000000000000,5\n');
    const f = writeScenario(dir, 'big.yaml', scenarioText({ workload: `  trace: { path: ${JSON.stringify(file)}, format: vidur }` }));
    const out = join(dir, 'o-big');
    expectCleanFailure(cli(['run', f, '--out', out]), /num_prefill_tokens must be an integer from 1 to 2147483647 \(token counts are stored as int32\), got "1000000000000"/, { out });
  });
});

describe('a run too big for its memory', () => {
  it('says it ran out of memory and how to give it more, and leaves nothing (a worker crash printed a stack and left the temporary)', () => {
    // 300,000 requests arriving far faster than one replica serves them: the queue outgrows a 48 MiB heap.
    const f = writeScenario(dir, 'oom.yaml', scenarioText({
      workload: `  arrival: { process: poisson, rate_per_s: 400 }
  input_tokens: { dist: fixed, value: 50 }
  output_tokens: { dist: fixed, value: 100 }
  num_requests: 300000`,
    }));
    const out = join(dir, 'o-oom');
    const r = cli(['run', f, '--out', out], { env: { NODE_OPTIONS: '--max-old-space-size=48' } });
    expectCleanFailure(r, /the run ran out of memory \(a JavaScript heap of \d+ MiB\): give it more with NODE_OPTIONS=--max-old-space-size=<MiB>.*; removed the unfinished output/, { out });
  });
});

describe('advice that can be followed', () => {
  it('a model too big for a whole node is not told to raise tensor_parallel past the node', () => {
    const f = writeScenario(dir, '405b.yaml', scenarioText().replace('model: llama-3.1-8b', 'model: llama-3.1-405b').replace('hardware: { gpu: h100-sxm }', 'hardware: { gpu: h100-sxm, tensor_parallel: 8 }'));
    const out = join(dir, 'o-405b');
    const r = cli(['run', f, '--out', out]);
    expectCleanFailure(r, /model does not fit: llama-3\.1-405b .*tensor_parallel is already a whole 8-GPU node: use smaller precision\.weights, or pick a larger GPU/, { out });
    expect(r.stderr).not.toMatch(/raise hardware\.tensor_parallel/);
  });
});

describe('YAML 1.1 tags that would make values no key takes', () => {
  const f = writeScenario(dir, 'tags.yaml', scenarioText());
  for (const [set, pattern] of [
    ['seed=!!timestamp 2001-12-14', /seed: must be an integer ≥ 0, got "2001-12-14"$/],
    ['engine.max_num_seqs=!!binary aGVsbG8=', /engine\.max_num_seqs: must be an integer .*, got "aGVsbG8="$/],
  ] as const) {
    it(`--set ${set} shows the value as typed (it showed {} or a byte map)`, () => {
      const out = join(dir, `o-tag-${set.length}`);
      expectCleanFailure(cli(['run', f, '--set', set, '--out', out]), pattern, { out });
    });
  }

  it('a !!timestamp in a scenario file', () => {
    const g = writeScenario(dir, 'tag-file.yaml', scenarioText().replace('seed: 1', 'seed: !!timestamp 2001-12-14'));
    const out = join(dir, 'o-tag-file');
    expectCleanFailure(cli(['run', g, '--out', out]), /seed: must be an integer ≥ 0, got "2001-12-14"$/, { out });
  });
});
