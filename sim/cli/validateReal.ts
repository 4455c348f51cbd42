import type { Argv } from 'yargs';
import { existsSync, statSync } from 'node:fs';
import { fieldError } from '../errors.js';
import { compareApexRun, readApexRuns, type ApexComparison } from '../fidelity/apex.js';

export interface ValidateRealArgs {
  path: string;
  json?: boolean;
}

export function validateRealCommandBuilder(y: Argv): Argv<ValidateRealArgs> {
  return y
    .positional('path', { type: 'string', demandOption: true, describe: 'a folder of real runs in the apex layout (results/*.txt, traces/*.jsonl)' })
    .option('json', { type: 'boolean', describe: 'print { runs: [...], ttft: {median_abs_error, max_abs_error}, tpot: {...} }' }) as unknown as Argv<ValidateRealArgs>;
}

/** The median and the largest of |errors|. */
export function errorFigures(errors: readonly number[]): { median_abs_error: number; max_abs_error: number } {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const mid = abs.length >> 1;
  return { median_abs_error: abs.length % 2 === 1 ? abs[mid] : (abs[mid - 1] + abs[mid]) / 2, max_abs_error: abs[abs.length - 1] };
}

const pct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
const ms = (s: number): string => (s * 1000).toFixed(1);

function table(rows: readonly ApexComparison[]): string[] {
  const head = `${'run'.padEnd(42)}${'TP'.padStart(3)}${'req'.padStart(6)}${'TTFT real'.padStart(11)}${'sim'.padStart(8)}${'error'.padStart(9)}${'TPOT real'.padStart(11)}${'sim'.padStart(8)}${'error'.padStart(9)}`;
  return [
    head,
    ...rows.map(
      (c) =>
        `${c.run.name.padEnd(42)}${String(c.run.tensor_parallel).padStart(3)}${String(c.requests).padStart(6)}` +
        `${ms(c.run.ttft_mean_s).padStart(11)}${ms(c.ttft_sim_s).padStart(8)}${pct(c.ttft_error).padStart(9)}` +
        `${ms(c.run.tpot_s).padStart(11)}${ms(c.tpot_sim_s).padStart(8)}${pct(c.tpot_error).padStart(9)}`,
    ),
  ];
}

/** Replays every run of a folder of real measurements and prints the error table (times in ms). */
export function validateRealCommand(args: ValidateRealArgs): void {
  if (!existsSync(args.path) || !statSync(args.path).isDirectory()) {
    throw fieldError('path', 'must be a folder of real runs in the apex layout (results/*.txt and traces/*.jsonl)', args.path);
  }
  const rows = readApexRuns(args.path).map(compareApexRun);
  const ttft = errorFigures(rows.map((r) => r.ttft_error));
  const tpot = errorFigures(rows.map((r) => r.tpot_error));
  if (args.json === true) {
    console.log(JSON.stringify({ runs: rows.map((r) => ({ ...r.run, requests: r.requests, ttft_sim_s: r.ttft_sim_s, tpot_sim_s: r.tpot_sim_s, ttft_error: r.ttft_error, tpot_error: r.tpot_error })), ttft, tpot }, null, 1));
    return;
  }
  console.log(
    [
      ...table(rows),
      `TTFT |error| median ${pct(ttft.median_abs_error).slice(1)}, max ${pct(ttft.max_abs_error).slice(1)}; ` +
        `TPOT |error| median ${pct(tpot.median_abs_error).slice(1)}, max ${pct(tpot.max_abs_error).slice(1)} (${rows.length} runs; TTFT and TPOT as the server's Prometheus metrics count them)`,
    ].join('\n'),
  );
}
