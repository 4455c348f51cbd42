import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { infersim, ROOT } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenarioFile(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const base = (extra = '', workload = '') => `
seed: 1
model: llama-3.1-8b
hardware: { gpu: h100-sxm }
${extra}
workload:
${workload || `  arrival: { process: poisson, rate_per_s: 5 }
  input_tokens: { dist: fixed, value: 100 }
  output_tokens: { dist: fixed, value: 10 }
  num_requests: 5`}
`;

/** Bad input: exit 1, one clear line on stderr, no stack trace, no output folder. */
function expectCleanFailure(file: string, pattern: RegExp, extraArgs: string[] = []) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = infersim(['run', file, '--out', out, ...extraArgs]);
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('Unknown user config'));
  expect(lines.length).toBe(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(out)).toBe(false);
  // The CLI names its temporary folder after its own pid: look for any.
  const leftovers = existsSync(dirname(out)) ? readdirSync(dirname(out)).filter((f) => f.startsWith(`${basename(out)}.tmp-`)) : [];
  expect(leftovers).toEqual([]);
}

describe('infersim run: bad input', () => {
  it('unknown model lists the catalog', () => {
    const f = scenarioFile('m.yaml', base().replace('llama-3.1-8b', 'llama-9'));
    expectCleanFailure(f, /model: unknown value "llama-9".*known: .*llama-3\.1-8b/);
  });

  it('unknown GPU lists the catalog and suggests a name', () => {
    const f = scenarioFile('g.yaml', base().replace('h100-sxm', 'h100'));
    expectCleanFailure(f, /hardware\.gpu: unknown value "h100".*h100-sxm.*known: .*a100-sxm-80gb/);
  });

  it('zero or negative rates name the field and the value', () => {
    const f = scenarioFile('r.yaml', base().replace('rate_per_s: 5', 'rate_per_s: -3'));
    expectCleanFailure(f, /workload\.arrival\.rate_per_s: must be > 0, got -3/);
    const z = scenarioFile('z.yaml', base().replace('rate_per_s: 5', 'rate_per_s: 0'));
    expectCleanFailure(z, /workload\.arrival\.rate_per_s: must be > 0, got 0/);
  });

  it('missing trace file', () => {
    const f = scenarioFile('t.yaml', base('', '  trace: { path: nowhere.csv, format: azure-2023 }'));
    expectCleanFailure(f, /workload\.trace\.path: file not found: .*nowhere\.csv/);
  });

  it('malformed trace row gives the line number', () => {
    writeFileSync(join(dir, 'bad.csv'), 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,100,10\n2023-11-16 18:15:47.0000000,abc,10\n');
    const f = scenarioFile('b.yaml', base('', '  trace: { path: bad.csv, format: azure-2023 }'));
    expectCleanFailure(f, /bad\.csv line 3: ContextTokens/);
  });

  it('a model that does not fit says how much memory it needs', () => {
    const f = scenarioFile('fit.yaml', base().replace('llama-3.1-8b', 'llama-3.1-70b'));
    expectCleanFailure(f, /model does not fit: llama-3\.1-70b .*tensor_parallel 1.* needs \d+\.\d GiB per GPU/);
  });

  it('unknown keys get a did-you-mean', () => {
    const f = scenarioFile('k.yaml', base('engine: { max_num_seq: 64 }'));
    expectCleanFailure(f, /engine\.max_num_seq: unknown key \(did you mean "max_num_seqs"\?\)/);
  });

  it('--set overrides are validated like the file', () => {
    const f = scenarioFile('ok.yaml', base());
    expectCleanFailure(f, /engine\.block_size: must be a multiple of 16/, ['--set', 'engine.block_size=24']);
  });

  it('a seed that is not a non-negative integer', () => {
    const f = scenarioFile('seed.yaml', base());
    expectCleanFailure(f, /--seed: must be an integer ≥ 0, got "abc"/, ['--seed', 'abc']);
  });

  it('an output folder that cannot be created', () => {
    writeFileSync(join(dir, 'a-file'), '');
    const f = scenarioFile('od.yaml', base());
    const r = infersim(['run', f, '--out', join(dir, 'a-file', 'sub')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/output\.dir: cannot create .*a-file\/sub: .*a-file is a file, not a folder \(ENOTDIR\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('a run that fails midway removes the parent folders it created', () => {
    // Prompt lengths from a file, which the up-front max_model_len check cannot see: the run
    // starts, writes, and only then finds that no request can ever be served.
    const lengths = join(dir, 'np-lengths.csv');
    writeFileSync(lengths, 'n\n2000\n');
    const f = scenarioFile(
      'np.yaml',
      base(
        'engine: { max_model_len: 1024, frontend_input_ms: 0, frontend_output_ms: 0 }',
        `  concurrency: 2
  input_tokens: { dist: empirical, path: ${lengths}, column: n }
  output_tokens: { dist: fixed, value: 10 }
  duration_s: 10`,
      ),
    );
    const parent = join(dir, 'new-parent');
    const r = infersim(['run', f, '--out', join(parent, 'run1')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no progress/);
    expect(existsSync(parent)).toBe(false);
  });

  // Issue 15's bad cluster input: each one clear line, no output.
  it.each([
    ['overlapping pool names', 'pools: [{ name: a, replicas: 1 }, { name: a, replicas: 1 }]', /^infersim: error: pools\[1\]\.name: repeats pools\[0\]\.name/],
    ['a split weight of 0', 'pools: [{ name: a, replicas: 1 }, { name: b, replicas: 1 }]\ntraffic: { split: [{ pool: a, weight: 1 }, { pool: b, weight: 0 }] }', /traffic\.split\[1\]\.weight: must be > 0, got 0/],
    ['a canary naming a missing pool', 'pools: [{ name: a, replicas: 1 }]\ntraffic: { canary: { baseline: a, canary: x, steps: [10, 100], interval_s: 10, metric: ttft_p99, max_regression: 0.2 } }', /traffic\.canary\.canary: names no pool \(pools are a\), got "x"/],
    ['a router setting on the wrong router', 'cluster: { replicas: 2, router: least-queue, ewma_alpha: 0.5 }', /cluster\.ewma_alpha: is used by the latency-aware routers only \(cluster\.router is least-queue\), got 0\.5/],
  ])('%s', (name, extra, pattern) => {
    expectCleanFailure(scenarioFile(`bad-cluster-${name.replace(/\W+/g, '-')}.yaml`, base(extra)), pattern);
  });

  // Issue 16's bad dynamics input: each one clear line, no output.
  it.each([
    ['autoscale min above max', 'autoscale: { min_replicas: 4, max_replicas: 2, metric: queue, target: 2 }', /^infersim: error: autoscale\.min_replicas: must be ≤ max_replicas \(2\), got 4$/],
    ['an autoscale target of 0', 'autoscale: { max_replicas: 2, metric: queue, target: 0 }', /^infersim: error: autoscale\.target: must be > 0/],
    ['an autoscale interval of 0', 'autoscale: { max_replicas: 2, metric: queue, target: 2, interval_s: 0 }', /^infersim: error: autoscale\.interval_s: must be > 0/],
    ['a fault on a missing replica', 'cluster: { replicas: 2 }\nfaults: [{ at_s: 1, replica: 2 }]', /^infersim: error: faults\[0\]\.replica: names a missing replica: pool default has at most 2 \(replicas are numbered from 0, so 0 to 1\), got 2$/],
  ])('%s', (name, extra, pattern) => {
    expectCleanFailure(scenarioFile(`bad-dynamics-${name.replace(/\W+/g, '-')}.yaml`, base(extra)), pattern);
  });

  it('a rate schedule with a decreasing until_s', () => {
    const file = scenarioFile('bad-schedule.yaml', base('', `  arrival: { process: poisson, rate_per_s: [{ until_s: 60, rate_per_s: 2 }, { until_s: 30, rate_per_s: 4 }] }
  input_tokens: { dist: fixed, value: 100 }
  output_tokens: { dist: fixed, value: 10 }
  num_requests: 5`));
    expectCleanFailure(file, /^infersim: error: workload\.arrival\.rate_per_s\[1\]\.until_s: /);
  });

  it('a generated model no pool serves', () => {
    const file = scenarioFile('bad-model.yaml', base('pools: [{ name: a, replicas: 1 }]', `  arrival: { process: poisson, rate_per_s: 5 }
  input_tokens: { dist: fixed, value: 100 }
  output_tokens: { dist: fixed, value: 10 }
  num_requests: 5
  models: [{ name: qwen2.5-7b, weight: 1 }]`));
    expectCleanFailure(file, /workload\.models\[0\]\.name: no pool serves this model \(pools serve llama-3\.1-8b\), got "qwen2\.5-7b"/);
  });

  it('a missing scenario file', () => {
    expectCleanFailure(join(dir, 'nope.yaml'), /scenario: file not found/);
  });

  it('a good scenario exits 0 and writes the three files', () => {
    const f = scenarioFile('good.yaml', base());
    const out = join(dir, 'good-out');
    const r = infersim(['run', f, '--out', out], ROOT);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/TTFT/);
    for (const name of ['requests.arrow', 'iterations.arrow', 'summary.json']) expect(existsSync(join(out, name))).toBe(true);
  });
});

describe('infersim run: the worker thread started before the command line is parsed', () => {
  // bin/infersim.js starts run's thread ahead (from the build): a command line that never hands it
  // the arguments must end as before, with nothing from the thread. A thread holding the process
  // open would show as a kill (status null).
  const HANG_MS = 60_000;

  it('`run --help` prints the usage and exits 0', () => {
    const r = infersim(['run', '--help'], ROOT, {}, HANG_MS);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/infersim run <scenario>/);
  });

  it('a flag yargs refuses exits 1 with one line', () => {
    const r = infersim(['run', 'scenario.yaml', '--no-such-flag'], ROOT, {}, HANG_MS);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^infersim: error: Unknown argument/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
