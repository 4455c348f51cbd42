import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../fsErrors.js';
import { dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { compareReal, formatCompare } from '../compare/compare.js';
import { FORMATS } from '../compare/read.js';
import type { ArrivalMode } from '../compare/simulate.js';
import type { RealFormat } from '../compare/types.js';
import { eachOnce, integerFlag, numericOption } from './flags.js';

export interface CompareArgs {
  real: string;
  scenario: string;
  format?: RealFormat;
  arrivals?: ArrivalMode;
  benchmark?: string | number;
  set?: string[];
  seed?: string | number;
  out?: string;
  dir?: string;
  json?: boolean;
}

export function compareCommandBuilder(y: Argv): Argv<CompareArgs> {
  const c = y
    .positional('real', { type: 'string', demandOption: true, describe: 'a real benchmark\'s JSON: vllm bench serve --save-result --save-detailed, GuideLLM benchmarks.json, genai-perf profile_export.json' })
    .option('scenario', { type: 'string', demandOption: true, describe: 'scenario file giving model, hardware, parallelism and engine (its workload is replaced by the real requests)' })
    .option('format', { type: 'string', choices: FORMATS as string[], describe: 'the file\'s format (default: detected from its keys)' })
    .option('arrivals', {
      type: 'string',
      choices: ['auto', 'recorded', 'configured'],
      default: 'auto',
      describe: 'recorded: the real send times (open loop); configured: the tool\'s rate or concurrency; auto: configured when it capped requests in flight, else recorded',
    })
    .option('set', { type: 'string', array: true, describe: 'override a scenario key: --set engine.max_num_seqs=64 (repeatable)' })
    .option('out', { type: 'string', describe: 'write compare.json here (the table and per-request samples for CDF overlays)' })
    .option('dir', { type: 'string', describe: 'write the simulation\'s outputs (Arrow files, summary.json) and compare.json into this folder' })
    .option('json', { type: 'boolean', describe: 'print compare.json instead of the table' });
  const n = numericOption(c, 'benchmark', { describe: 'which GuideLLM benchmark or genai-perf experiment of the file (from 0)', default: 0 });
  return numericOption(n, 'seed', { describe: 'override the scenario seed (arrival draws when replaying a rate)' }) as unknown as Argv<CompareArgs>;
}

export function compareCommand(args: CompareArgs): void {
  eachOnce(args as unknown as Record<string, unknown>, ['scenario', 'format', 'arrivals', 'out', 'dir', 'benchmark', 'seed']);
  const result = compareReal({
    real: args.real,
    scenario: args.scenario,
    format: args.format,
    arrivals: args.arrivals,
    index: integerFlag('--benchmark', args.benchmark, { min: 0 }),
    set: args.set,
    seed: integerFlag('--seed', args.seed, { min: 0 }),
    outDir: args.dir,
  });
  const json = JSON.stringify(result, null, 1);
  const written: string[] = [];
  for (const file of [args.out, args.dir === undefined ? undefined : join(args.dir, 'compare.json')]) {
    if (file === undefined) continue;
    mkdirSync(dirname(resolve(file)), { recursive: true });
    // Whole or not at all: a reader (infersim report) never sees half a file.
    writeFileAtomic(file === args.out ? '--out' : '--dir', file, json + '\n');
    written.push(file);
  }
  console.log(args.json === true ? json : formatCompare(result));
  if (args.json !== true && written.length > 0) console.log(`wrote ${written.join(', ')}`);
}
