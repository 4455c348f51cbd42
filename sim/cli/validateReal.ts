import type { Argv } from 'yargs';
import { existsSync, statSync } from 'node:fs';
import { fieldError } from '../errors.js';
import { compareApexRun, readApexRuns, type ApexComparison } from '../fidelity/apex.js';
import { errorFigures } from '../fidelity/figures.js';
import { compareStartupRow, readStartupRows, type StartupComparison } from '../fidelity/startup.js';

export interface ValidateRealArgs {
  path: string;
  json?: boolean;
}

export function validateRealCommandBuilder(y: Argv): Argv<ValidateRealArgs> {
  return y
    .positional('path', { type: 'string', demandOption: true, describe: 'a folder of real runs in the apex layout (results/*.txt, traces/*.jsonl), or a CSV of vLLM start-up KV capacities' })
    .option('json', { type: 'boolean', describe: 'print { runs, ttft, tpot } for a folder, { rows, kv_capacity } for a CSV (each figure: median_abs_error, max_abs_error)' }) as unknown as Argv<ValidateRealArgs>;
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

/** Each start-up row: what vLLM printed, infersim's figure and the error, or why it was skipped. */
function startupReport(rows: readonly StartupComparison[], json: boolean): string {
  const done = rows.filter((r) => r.skipped === undefined);
  const figures = done.length === 0 ? null : errorFigures(done.map((r) => r.error as number));
  if (json) return JSON.stringify({ rows, kv_capacity: figures }, null, 1);
  const width = Math.max(...rows.map((r) => r.label.length)) + 2;
  const fmt = (r: StartupComparison): string =>
    r.skipped !== undefined
      ? `${r.label.padEnd(width)}skipped: ${r.skipped}`
      : `${r.label.padEnd(width)}${String(r.printed).padStart(10)} ${(r.unit as string).padEnd(7)}${(r.unit === 'KV GiB' ? (r.infersim as number).toFixed(2) : String(r.infersim)).padStart(10)}${pct(r.error as number).padStart(10)}`;
  const tail = figures === null ? 'no row reproduced' : `KV capacity |error| median ${pct(figures.median_abs_error).slice(1)}, max ${pct(figures.max_abs_error).slice(1)} (${done.length} rows reproduced, ${rows.length - done.length} skipped)`;
  return [`${'start-up'.padEnd(width)}${'printed'.padStart(10)} ${'unit'.padEnd(7)}${'infersim'.padStart(10)}${'error'.padStart(10)}`, ...rows.map(fmt), tail].join('\n');
}

/** Replays every run of a folder of real measurements (or every start-up of a capacity table) and prints the error table (times in ms). */
export function validateRealCommand(args: ValidateRealArgs): void {
  if (existsSync(args.path) && statSync(args.path).isFile()) {
    console.log(startupReport(readStartupRows(args.path).map(compareStartupRow), args.json === true));
    return;
  }
  if (!existsSync(args.path) || !statSync(args.path).isDirectory()) {
    throw fieldError('path', 'must be a folder of real runs in the apex layout (results/*.txt and traces/*.jsonl) or a CSV of vLLM start-up capacities', args.path);
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
