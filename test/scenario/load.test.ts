import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../sim/setup/load.js';
import { messageOf, tempDir, writeFile } from './helpers.js';

const YAML_SCENARIO = `# a chat workload
seed: 7
model: configs/llama.json
hardware: { gpu: h100-sxm, tensor_parallel: 2 }
workload:
  trace: { path: traces/conv.csv, format: azure-2023 }
  input_tokens: { dist: empirical, path: lens.csv, column: n }
  output_tokens: { dist: fixed, value: 200 }
output: { dir: out/chat }
`;

const JSON_SCENARIO = JSON.stringify({
  seed: 7,
  model: 'configs/llama.json',
  hardware: { gpu: 'h100-sxm', tensor_parallel: 2 },
  workload: {
    trace: { path: 'traces/conv.csv', format: 'azure-2023' },
    input_tokens: { dist: 'empirical', path: 'lens.csv', column: 'n' },
    output_tokens: { dist: 'fixed', value: 200 },
  },
  output: { dir: 'out/chat' },
});

/** A scenario file in <root>/scenarios and a separate working directory <root>/work. */
function setup(text = YAML_SCENARIO, name = 'chat.yaml') {
  const root = tempDir();
  const file = writeFile(join(root, 'scenarios', name), text);
  return { root, file, cwd: join(root, 'work'), dir: join(root, 'scenarios') };
}

describe('loadScenario reads files', () => {
  it('gives the same input for YAML and JSON', () => {
    const y = setup(YAML_SCENARIO, 'chat.yaml');
    const j = setup(JSON_SCENARIO, 'chat.json');
    const fromYaml = loadScenario(y.file, { cwd: y.cwd }).input;
    const fromJson = loadScenario(j.file, { cwd: j.cwd }).input;
    // Paths differ only by the temp root; compare with it swapped out.
    expect(JSON.parse(JSON.stringify(fromJson).replaceAll(j.root, y.root))).toEqual(fromYaml);
    expect(fromYaml.hardware.tensor_parallel).toBe(2);
  });

  it('accepts .yml and a UTF-8 byte order mark', () => {
    const { file } = setup('\uFEFF' + YAML_SCENARIO, 'chat.yml');
    expect(loadScenario(file).input.seed).toBe(7);
  });

  it('returns the absolute source path, resolved against cwd', () => {
    const { root, file } = setup();
    expect(loadScenario('scenarios/chat.yaml', { cwd: root }).sourcePath).toBe(file);
  });

  it('reports a missing file', () => {
    const { root } = setup();
    expect(messageOf(() => loadScenario('nope.yaml', { cwd: root }))).toBe(`scenario: file not found: ${join(root, 'nope.yaml')}`);
  });

  it('lists the allowed extensions', () => {
    const { root } = setup();
    const file = writeFile(join(root, 'chat.toml'), 'seed = 1');
    expect(messageOf(() => loadScenario(file))).toBe(`scenario: file must end in .yaml, .yml, .json, got ${JSON.stringify(file)}`);
  });

  it('gives file, line and column for a YAML syntax error', () => {
    const { file } = setup('model: x\nhardware:\n  gpu: a\n tensor_parallel: 2\n');
    expect(messageOf(() => loadScenario(file))).toBe(
      `scenario: ${file}:4:1: invalid YAML: All mapping items must start at the same column`,
    );
  });

  it('rejects duplicate YAML keys with their line', () => {
    const { file } = setup('model: x\nmodel: y\n');
    expect(messageOf(() => loadScenario(file))).toBe(`scenario: ${file}:2:1: invalid YAML: duplicate key "model"`);
  });

  it.each([
    ['{\n  "model": "x",\n  "hardware": {"gpu": "a",}\n}\n', '3:27', 'Expected double-quoted property name'],
    ['{\n  "model": "x",\n  "hardware": {"gpu": tru}\n}\n', '3:23', "Unexpected token '}'"],
    ['{\n  "model": "x"\n', '3:1', "Expected ',' or '}' after property value"],
  ])('gives file, line and column for a JSON syntax error in %j', (text, at, reason) => {
    const { file } = setup(text, 'bad.json');
    expect(messageOf(() => loadScenario(file))).toBe(`scenario: ${file}:${at}: invalid JSON: ${reason}`);
  });

  it('rejects a top level that is not a mapping', () => {
    const { file } = setup('- a\n- b\n');
    expect(messageOf(() => loadScenario(file))).toBe('scenario: must be a mapping, got ["a","b"]');
  });

  it('validates after reading, reporting schema problems by key', () => {
    const { file } = setup(YAML_SCENARIO.replace('tensor_parallel: 2', 'tensor_paralel: 2'));
    expect(messageOf(() => loadScenario(file))).toMatch(
      /^hardware\.tensor_paralel: unknown key \(did you mean "tensor_parallel"\?\); allowed: gpu, /,
    );
  });
});

describe('loadScenario overrides', () => {
  it('creates nested keys and keeps YAML types', () => {
    const { file } = setup();
    const { input } = loadScenario(file, {
      set: [
        'engine.max_num_seqs=8',
        'engine.cuda_graphs=false',
        'hardware.gpu_memory_utilization=0.9',
        'hardware.gpu=a100-80gb',
        'workload.arrival={process: burst}',
      ],
    });
    expect(input.engine).toEqual({ max_num_seqs: 8, cuda_graphs: false });
    expect(input.hardware).toEqual({ gpu: 'a100-80gb', tensor_parallel: 2, gpu_memory_utilization: 0.9 });
    expect(input.workload.arrival).toEqual({ process: 'burst' });
  });

  it('lets a later --set win, and --seed win over --set seed', () => {
    const { file } = setup();
    const { input } = loadScenario(file, { set: ['seed=1', 'hardware.tensor_parallel=4', 'hardware.tensor_parallel=8'], seed: 3 });
    expect(input.seed).toBe(3);
    expect(input.hardware.tensor_parallel).toBe(8);
  });

  it('unsets a file key with null', () => {
    const { file } = setup();
    expect(loadScenario(file, { set: ['hardware.tensor_parallel=null'] }).input.hardware).toEqual({ gpu: 'h100-sxm' });
  });

  it('gives an unknown override key the did-you-mean error', () => {
    const { file } = setup();
    expect(messageOf(() => loadScenario(file, { set: ['engine.max_num_seq=4'] }))).toMatch(
      /^engine\.max_num_seq: unknown key \(did you mean "max_num_seqs"\?\); allowed: scheduler, /,
    );
  });

  it('validates override values like file values', () => {
    const { file } = setup();
    expect(messageOf(() => loadScenario(file, { set: ['cluster.replicas=two'] }))).toBe(
      'cluster.replicas: must be an integer ≥ 1 and ≤ 4096, got "two"',
    );
    expect(messageOf(() => loadScenario(file, { seed: 1.5 }))).toBe('seed: must be an integer ≥ 0, got 1.5');
  });

  it.each([
    ['engine.max_num_seqs', '--set: expected key.path=value, got "engine.max_num_seqs"'],
    ['=8', '--set: expected key.path=value (the key is empty), got "=8"'],
    ['engine..block_size=16', '--set: expected key.path=value (the key path has an empty part), got "engine..block_size=16"'],
    ['workload.arrival={process: burst', '--set workload.arrival: value is not valid YAML (Flow map must end with a }), got "{process: burst"'],
  ])('names the flag when --set %j is malformed', (flag, expected) => {
    const { file } = setup();
    expect(messageOf(() => loadScenario(file, { set: [flag] }))).toBe(expected);
  });

  it('builds a whole scenario from flags on an empty file', () => {
    const { file } = setup('', 'empty.yaml');
    const { input } = loadScenario(file, {
      set: ['model=llama-3.1-8b', 'hardware.gpu=h100-sxm', 'workload.concurrency=4'],
    });
    expect(input).toEqual({ model: 'llama-3.1-8b', hardware: { gpu: 'h100-sxm' }, workload: { concurrency: 4 } });
  });
});

describe('loadScenario path resolution', () => {
  it('resolves paths written in the file against the file folder', () => {
    const { file, dir, cwd } = setup();
    const { input } = loadScenario(file, { cwd });
    expect(input.model).toBe(join(dir, 'configs/llama.json'));
    expect(input.workload.trace?.path).toBe(join(dir, 'traces/conv.csv'));
    expect(input.workload.input_tokens).toEqual({ dist: 'empirical', path: join(dir, 'lens.csv'), column: 'n' });
    expect(input.output?.dir).toBe(join(dir, 'out/chat'));
  });

  it('resolves paths given by flags against cwd', () => {
    const { file, cwd } = setup();
    const { input } = loadScenario(file, {
      cwd,
      out: 'results',
      set: ['model=my/config.json', 'workload.trace.path=t.jsonl', 'workload.input_tokens={dist: empirical, path: l.csv, column: n}'],
    });
    expect(input.output?.dir).toBe(join(cwd, 'results'));
    expect(input.model).toBe(join(cwd, 'my/config.json'));
    expect(input.workload.trace?.path).toBe(join(cwd, 't.jsonl'));
    expect(input.workload.input_tokens).toEqual({ dist: 'empirical', path: join(cwd, 'l.csv'), column: 'n' });
  });

  it('keeps a file path relative to the file when a flag changes a sibling key', () => {
    const { file, dir, cwd } = setup();
    const { input } = loadScenario(file, { cwd, set: ['workload.trace.format=csv', 'output.tokens=true'] });
    expect(input.workload.trace).toEqual({ path: join(dir, 'traces/conv.csv'), format: 'csv' });
    expect(input.output).toEqual({ dir: join(dir, 'out/chat'), tokens: true });
  });

  it('leaves catalog model names and absolute paths alone', () => {
    const { file, cwd } = setup();
    const { input } = loadScenario(file, { cwd, set: ['model=llama-3.1-8b', 'workload.trace.path=/data/t.csv'] });
    expect(input.model).toBe('llama-3.1-8b');
    expect(input.workload.trace?.path).toBe('/data/t.csv');
  });
});
