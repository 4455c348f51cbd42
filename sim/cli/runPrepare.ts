/**
 * What the run thread does while the main thread is still parsing the command line (yargs and the
 * CLI's ES modules, ~60–100 ms after the thread has loaded): it reads the scenario and its trace
 * as the raw arguments name them. A trace's table stays in loadTrace's one-entry cache, so the run
 * proper, given the parsed arguments, finds it read when they name the same file. Nothing here is
 * seen: it writes nothing, an error is dropped (the run raises it again from the parsed
 * arguments, or the command line's parse fails first), a streamed trace is not opened, and
 * arguments it does not understand make it do nothing.
 */
import { loadScenario } from '../setup/load.js';
import { resolveScenario } from '../setup/resolve.js';
import { isStreamedFormat } from '../workload/trace-stream.js';
import { createRequestStream } from '../workload/index.js';
import { integerFlag } from './flags.js';

/** The scenario file and its overrides from `infersim run` arguments, or undefined where any argument is not one it knows. */
export function rawRunArgs(argv: readonly string[]): { scenario: string; set: string[]; seed?: string } | undefined {
  const set: string[] = [];
  let seed: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // `--name=value` carries its value inline.
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    if (name === '--set' || name === '--seed' || name === '--out') {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('-'))) return undefined;
      if (name === '--set') set.push(value);
      else if (name === '--seed') seed = value;
    } else if (name === '--quiet' || name === '--tokens' || name === '--report') {
      if (inline !== undefined) return undefined;
    } else if (a.startsWith('-')) return undefined;
    else positional.push(a);
  }
  if (positional.length !== 2 || positional[0] !== 'run') return undefined;
  return { scenario: positional[1], set, ...(seed !== undefined && { seed }) };
}

/** Reads what `argv` (the command line after the program) names, for the run to find in the caches; never throws. */
export function prepareRun(argv: readonly string[]): void {
  try {
    const raw = rawRunArgs(argv);
    if (raw === undefined) return;
    const { input } = loadScenario(raw.scenario, { set: raw.set, seed: integerFlag('--seed', raw.seed, { min: 0 }) });
    const s = resolveScenario(input).scenario;
    if (s.workload.trace !== undefined && !isStreamedFormat(s.workload.trace.format)) createRequestStream(s.workload, s.seed);
  } catch {
    // The run proper raises it, from the parsed arguments.
  }
}
