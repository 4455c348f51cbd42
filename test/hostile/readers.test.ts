import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectCleanFailure, scenarioText, scratch, writeScenario } from './harness.js';

/**
 * Hostile files, file contents and flags for the readers and parsers: each ends with one line that
 * names the field or flag, the value and what is allowed; nothing hangs, nothing is left behind.
 */
const dir = scratch('readers');
let count = 0;

/** `run` on a scenario: its own output folder, which must not be left behind. */
function runScenario(body: string, pattern: RegExp, opts: { name?: string; maxLineChars?: number } = {}): string {
  const n = count++;
  const file = writeScenario(dir, opts.name ?? `s${n}.yaml`, body);
  const out = join(dir, `out-${n}`);
  // A hang (a FIFO read) is killed by the harness's time-out and fails expectCleanFailure.
  const r = cli(['run', file, '--out', out]);
  expectCleanFailure(r, pattern, { out, maxLineChars: opts.maxLineChars });
  return r.stderr;
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

const trace = (path: string, format = 'vidur', extra = ''): string =>
  scenarioText({ workload: `  trace: { path: ${JSON.stringify(path)}, format: ${format}${extra} }` });
const withModel = (model: string): string => scenarioText().replace('model: llama-3.1-8b', `model: ${JSON.stringify(model)}`);

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const VIDUR_HEADER = 'arrived_at,num_prefill_tokens,num_decode_tokens';
const LLAMA = {
  architectures: ['LlamaForCausalLM'], hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072,
};

describe.skipIf(process.platform === 'win32')('hostile files: only regular files are read', () => {
  it('a trace that is a FIFO', () => {
    runScenario(trace(fifo('trace.fifo')), /workload\.trace\.path: must name a regular file, not a FIFO.*trace\.fifo/);
  });

  it('a trace that is /dev/zero', () => {
    runScenario(trace('/dev/zero'), /workload\.trace\.path: must name a regular file, not a device, got "\/dev\/zero"/);
  });

  it('a trace that is a folder', () => {
    mkdirSync(join(dir, 'folder.csv'));
    runScenario(trace(join(dir, 'folder.csv')), /workload\.trace\.path: .*directory/);
  });

  it('a model config.json that is a FIFO', () => {
    runScenario(withModel(fifo('config-fifo.json')), /^infersim: error: model \(a Hugging Face config\.json\): must name a regular file, not a FIFO/);
  });

  it('a model config.json that links to /dev/zero', () => {
    const link = join(dir, 'zero.json');
    symlinkSync('/dev/zero', link);
    runScenario(withModel(link), /model \(a Hugging Face config\.json\): must name a regular file, not a device/);
  });

  it('an empirical length file that is a FIFO', () => {
    const lengths = fifo('lengths.csv');
    const workload = `  arrival: { process: poisson, rate_per_s: 5 }
  input_tokens: { dist: empirical, path: ${JSON.stringify(lengths)}, column: n }
  output_tokens: { dist: fixed, value: 10 }
  num_requests: 5`;
    runScenario(scenarioText({ workload }), /workload\.input_tokens\.path: must name a regular file, not a FIFO/);
  });

  it('a scenario that is a FIFO', () => {
    const out = join(dir, 'out-fifo');
    const r = cli(['run', fifo('scenario-fifo.yaml'), '--out', out]);
    expectCleanFailure(r, /scenario: must name a regular file, not a FIFO/, { out });
  });

  it('a validate --probe file that is a FIFO', () => {
    expectCleanFailure(cli(['validate', '--probe', fifo('probe.json')]), /--probe: must name a regular file, not a FIFO/);
  });

  it('a Vidur profiling CSV that is a FIFO', () => {
    const model = join(dir, 'vidur', 'compute', 'h100', 'org', 'model');
    mkdirSync(model, { recursive: true });
    execFileSync('mkfifo', [join(model, 'mlp.csv')]);
    const out = join(dir, 'vidur-profile.json');
    const r = cli(['profile', 'import', 'vidur', join(dir, 'vidur'), '--gpu', 'h100-sxm', '--out', out]);
    expectCleanFailure(r, /Vidur profiling CSV: must name a regular file, not a FIFO.*mlp\.csv/, { out });
  });

  it('a scenario larger than the 16 MiB bound is refused before it is read', () => {
    const big = scenarioText() + `# ${'x'.repeat(17 * 1024 * 1024)}\n`;
    runScenario(big, /scenario: file is 17\.0 MiB, larger than the 16\.0 MiB that can be read/);
  });
});

describe('hostile scenario text', () => {
  it('a UTF-16 scenario', () => {
    const text = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(scenarioText(), 'utf16le')]);
    const out = join(dir, 'out-utf16');
    expectCleanFailure(cli(['run', file('utf16.yaml', text), '--out', out]), /scenario: file is UTF-16: save it as UTF-8/, { out });
  });

  it('a binary file as the scenario', () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const out = join(dir, 'out-binary');
    expectCleanFailure(cli(['run', file('binary.yaml', bytes), '--out', out]), /scenario: not a text file: a NUL byte at byte 0, got ".*binary\.yaml"/, { out });
  });

  it('a scenario that is a YAML list', () => {
    runScenario('- seed: 1\n- model: x\n', /scenario: must be a mapping, got \[/);
  });

  it('a scenario that is a scalar', () => {
    runScenario('just some words\n', /scenario: must be a mapping, got "just some words"/);
  });

  it('an alias bomb (billion laughs) in YAML', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    runScenario(`${levels.join('\n')}\n`, /scenario: .*invalid YAML: .*alias/i);
  });

  it('YAML nested 5,000 deep states the limit', () => {
    runScenario(scenarioText({ extra: `x: ${'['.repeat(5000)}${']'.repeat(5000)}` }), /invalid YAML: nested deeper than 100 levels/);
  });

  it('YAML nested 150 deep (under the parser\'s own limit) states the limit with the place', () => {
    runScenario(scenarioText({ extra: `x: ${'['.repeat(150)}${']'.repeat(150)}` }), /s\d+\.yaml:5:\d+: invalid YAML: nested deeper than 100 levels/);
  });

  it('JSON nested 100,000 deep states the limit instead of a stack trace', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const body = `{"seed": 1, "model": "llama-3.1-8b", "hardware": {"gpu": "h100-sxm"}, "engine": {"max_num_seqs": ${deep}}}`;
    runScenario(body, /deep\.json:1:\d+: invalid JSON: nested deeper than 100 levels/, { name: 'deep.json' });
  });

  it('a JSON scenario with a duplicate key names the key and where', () => {
    const body = '{\n  "seed": 1,\n  "model": "llama-3.1-8b",\n  "seed": 2\n}\n';
    runScenario(body, /dup\.json:4:3: invalid JSON: duplicate key "seed"/, { name: 'dup.json' });
  });

  it('a YAML duplicate key names the key', () => {
    runScenario(`${scenarioText()}seed: 2\n`, /s\d+\.yaml:\d+:1: invalid YAML: duplicate key "seed"/);
  });

  it('20,000 unknown engine keys: the first named, the rest counted', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  unknown_key_${i}: 1`).join('\n');
    runScenario(scenarioText({ extra: `engine:\n${keys}` }), /engine\.unknown_key_0: unknown key; allowed: .*\(and 19999 more problems\)/);
  });

  it('a 10 MB model name is echoed cut, with its length', () => {
    const stderr = runScenario(withModel('a'.repeat(10 * 1024 * 1024)), /model: unknown value "a+…" \(10,485,760 characters\); known: llama/, {
      maxLineChars: 1000,
    });
    expect(stderr.length).toBeLessThan(1000);
  });

  it('a model path that climbs out of the folder is read as the file it names, without echoing it', () => {
    const stderr = runScenario(withModel('../../../../../../../../etc/passwd'), /model \(a Hugging Face config\.json\): \/etc\/passwd:1:\d+: invalid JSON/);
    expect(stderr).not.toMatch(/root:/);
  });
});

describe('hostile config.json', () => {
  const config = (name: string, value: unknown): string => file(name, typeof value === 'string' ? value : JSON.stringify(value));

  it('a config.json missing num_attention_heads', () => {
    const { num_attention_heads: _, ...rest } = LLAMA;
    runScenario(withModel(config('no-heads.json', rest)), /num_attention_heads: must be a positive integer ≤ 2147483647$/);
  });

  it.each([
    ['0', 0, /hidden_size: must be a positive integer ≤ 2147483647, got 0/],
    ['1e300', 1e300, /hidden_size: must be a positive integer ≤ 2147483647, got 1e\+300/],
  ])('a config.json with hidden_size %s', (name, hidden, pattern) => {
    runScenario(withModel(config(`hidden-${name}.json`, { ...LLAMA, hidden_size: hidden })), pattern);
  });

  it('a config.json that is a JSON list', () => {
    runScenario(withModel(config('list.json', '[1, 2]')), /model \(a Hugging Face config\.json\): .*list\.json must hold a JSON object, got \[1,2\]/);
  });

  it('a config.json with a duplicate key', () => {
    runScenario(withModel(config('dup-config.json', '{"hidden_size": 4096, "hidden_size": 8}')), /dup-config\.json:1:23: invalid JSON: duplicate key "hidden_size"/);
  });

  it('a config.json with a byte order mark is read like any other', () => {
    const path = config('bom.json', `\uFEFF${JSON.stringify(LLAMA)}`);
    const r = cli(['predict', '--model', path, '--gpu', 'h100-sxm', '--decode', '1024x8']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('hostile trace contents', () => {
  const vidur = (name: string, text: string): string => trace(file(name, text));

  it('an empty trace', () => {
    runScenario(vidur('empty.csv', ''), /empty\.csv line 1: empty file: expected a header line/);
  });

  it('a trace with only a header', () => {
    runScenario(vidur('header.csv', `${VIDUR_HEADER}\n`), /workload\.trace\.path: header\.csv has no data rows/);
  });

  it('a CSV row with too few fields', () => {
    runScenario(vidur('ragged.csv', `${VIDUR_HEADER}\n0,10,5\n1,10\n`), /ragged\.csv line 3: row has 2 fields/);
  });

  it('a UTF-16 trace', () => {
    const text = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${VIDUR_HEADER}\n0,10,5\n`, 'utf16le')]);
    runScenario(trace(file('utf16.csv', text)), /workload\.trace\.path: file is UTF-16: save it as UTF-8/);
  });

  it.each([['0x64'], ['1e2'], ['1.5'], ['+7'], ['-5']])('a Vidur token count %s is refused, not read as a number', (count) => {
    runScenario(vidur(`count-${count}.csv`, `${VIDUR_HEADER}\n0,${count},5\n`), new RegExp(`line 2: num_prefill_tokens must be an integer from 1 to 2147483647 \\(token counts are stored as int32\\), got "${escaped(count)}"`));
  });

  it('a negative timestamp', () => {
    runScenario(vidur('negative.csv', `${VIDUR_HEADER}\n-1.5,10,5\n`), /negative\.csv line 2: arrived_at must be a non-negative number of seconds, got "-1\.5"/);
  });

  it.each([['2023-02-30'], ['2023-04-31'], ['2023-02-29'], ['2024-02-30']])('an Azure timestamp on %s, a day the month does not have', (day) => {
    const text = `TIMESTAMP,ContextTokens,GeneratedTokens\n2023-01-01 00:00:00.0000000,10,5\n${day} 10:00:00.0000000,10,5\n`;
    runScenario(trace(file(`azure-${day}.csv`, text), 'azure-2023'), new RegExp(`line 3: TIMESTAMP must be a date-time like .*, got "${escaped(day)} 10:00:00\\.0000000"`));
  });

  it('a JSONL line that is a list', () => {
    const text = '{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": []}\n[1, 2, 3]\n';
    runScenario(trace(file('list.jsonl', text), 'mooncake'), /list\.jsonl line 2: expected a JSON object, got "\[1, 2, 3\]"/);
  });

  it.each([['constructor'], ['__proto__'], ['toString']])('a JSONL column named %s that the rows lack', (name) => {
    const columns = `, columns: { input_tokens: ${name}, output_tokens: out }`;
    const path = file(`proto-${name}.jsonl`, '{"in": 5, "out": 1}\n');
    const stderr = runScenario(trace(path, 'jsonl', columns), new RegExp(`column "${name}" not found in proto-${name}\\.jsonl; columns present: "in", "out"`));
    expect(stderr).not.toMatch(/function/);
  });

  it('a JSONL row whose __proto__ key holds the count is read as that count, not the prototype', () => {
    const columns = ', columns: { input_tokens: __proto__, output_tokens: out }';
    const path = file('proto-value.jsonl', '{"__proto__": 5, "out": 1}\n{"__proto__": "x", "out": 1}\n');
    runScenario(trace(path, 'jsonl', columns), /proto-value\.jsonl line 2: __proto__ must be an integer from 1 to 2147483647 \(token counts are stored as int32\), got "x"/);
  });
});

describe('hostile --set values', () => {
  const runWith = (set: string, pattern: RegExp): void => {
    const f = writeScenario(dir, `set-${count}.yaml`, scenarioText());
    const out = join(dir, `out-set-${count++}`);
    expectCleanFailure(cli(['run', f, '--out', out, '--set', set]), pattern, { out });
  };

  it('--set with no "="', () => runWith('engine.max_num_seqs', /--set: expected key\.path=value, got "engine\.max_num_seqs"/));
  it('--set a..b=1', () => runWith('a..b=1', /--set: expected key\.path=value \(the key path has an empty part\), got "a\.\.b=1"/));
  it('--set engine.__proto__.x=1 is an unknown key, not a prototype change', () => runWith('engine.__proto__.x=1', /^infersim: error: engine\.__proto__: unknown key; allowed: scheduler/));
  it('--set with a value nested 60,000 deep', () =>
    runWith(`engine.max_num_seqs=${'['.repeat(60_000)}${']'.repeat(60_000)}`, /--set engine\.max_num_seqs: value is not valid YAML \(nested deeper than 100 levels\), got "\[+…" \(120,000 characters\)/));
  it('--set with a value nested 150 deep', () =>
    runWith(`engine.max_num_seqs=${'['.repeat(150)}${']'.repeat(150)}`, /--set engine\.max_num_seqs: value is nested deeper than 100 levels/));

  it('a YAML alias inside its own anchor', () => {
    runScenario(scenarioText({ extra: 'engine: &a { b: *a }' }), /invalid YAML: nested deeper than 100 levels once aliases are expanded/);
  });
});

describe('hostile numeric flags echo what was typed', () => {
  const predict = (...args: string[]) => cli(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', ...args]);

  it('predict --decode 1x10000000000 is refused before it allocates', () => {
    expectCleanFailure(predict('--decode', '1x10000000000'), /--decode: describes 10,000,000,000 sequences; at most 100,000 fit a batch, got "1x10000000000"/);
  });

  it.each([['abc'], ['1.5'], ['0'], ['1e3'], ['0x2']])('predict --tp %s', (tp) => {
    expectCleanFailure(predict('--decode', '100', '--tp', tp), new RegExp(`--tp: must be an integer ≥ 1 and ≤ 4096, got "${escaped(tp)}"`));
  });

  it.each([['-5'], ['1.5'], ['abc'], ['0x10'], ['1e3']])('predict --prefill %s', (prefill) => {
    expectCleanFailure(predict('--prefill', prefill), new RegExp(`--prefill: must be prompt lengths as positive integers .*, got "${escaped(prefill)}"`));
  });

  it('predict --prefill with a prompt past int32', () => {
    expectCleanFailure(predict('--prefill', '99999999999'), /--prefill: a sequence of 99999999999 tokens is more than 2147483647/);
  });

  it('predict --block-size and --max-num-seqs', () => {
    expectCleanFailure(predict('--decode', '100', '--block-size', 'big'), /--block-size: must be an integer ≥ 1 and ≤ 65536, got "big"/);
    expectCleanFailure(predict('--decode', '100', '--max-num-seqs', '-1'), /--max-num-seqs: must be an integer ≥ 1 and ≤ 2147483647, got "-1"/);
  });

  it('predict with a flag given twice', () => {
    expectCleanFailure(predict('--decode', '100', '--decode', '200'), /--decode: given 2 times; give it once, got "100 200"/);
    expectCleanFailure(predict('--decode', '100', '--tp', '2', '--tp', '4'), /--tp: given 2 times; give it once .*, got "2 4"/);
  });

  it('profile fit --cpu-step-s abc', () => {
    const r = cli(['profile', 'fit', 'vidur', dir, '--gpu', 'h100-sxm', '--train', 'x', '--cpu-step-s', 'abc']);
    expectCleanFailure(r, /--cpu-step-s: must be a number of seconds ≥ 0 and ≤ 1, got "abc"/);
  });

  it('calibrate --gpu abc', () => {
    expectCleanFailure(cli(['calibrate', '--gpu', 'abc']), /--gpu: must be an integer ≥ 0, got "abc"/);
  });

  it('numeric flags show as [number] in --help', () => {
    const help = cli(['predict', '--help']).stdout.replace(/\s+/g, ' ');
    for (const flag of ['tp', 'pp', 'block-size', 'max-num-seqs']) expect(help).toMatch(new RegExp(`--${flag} [^[]*\\[number\\]`));
    expect(cli(['profile', 'fit', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/--cpu-step-s [^[]*\[number\]/);
    expect(cli(['calibrate', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/--gpu [^[]*\[number\]/);
  });
});

describe('hostile names stay on one bounded line', () => {
  it('a trace path with a newline in it', () => {
    runScenario(trace(join(dir, 'no\nsuch.csv')), /workload\.trace\.path: file not found: .*no\\nsuch\.csv$/);
  });

  it('an unknown key 100,000 characters long', () => {
    const body = JSON.stringify({ seed: 1, model: 'llama-3.1-8b', hardware: { gpu: 'h100-sxm' }, ['k'.repeat(100_000)]: 1 });
    runScenario(body, /^infersim: error: k+… \(100,000 characters\): unknown key; allowed: seed, /, { name: 'long-key.json', maxLineChars: 400 });
  });
});
