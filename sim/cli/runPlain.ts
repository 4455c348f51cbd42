/**
 * `infersim run` without yargs, for a command line plain enough that yargs could only read it one
 * way: `run <scenario>` then its own flags, each once (`--set` repeatable), values that do not look
 * like flags, and nothing else: no positional after them (yargs would read one after a `--set`
 * value as another value: it reads `--set` greedily), no negation, no flag of another. Anything
 * else, `--help` included, goes through main.ts as before. Loading yargs and its dependencies is
 * ~0.1 s of the CLI thread's start, and the run thread often waits for it (docs/performance.md);
 * test/cli/runPlain.test.ts checks that yargs gives the same arguments for every line read here.
 */
import { guarded } from './guarded.js';
import { runCommand, type RunArgs } from './run.js';

const VALUED = new Set(['--out', '--seed', '--set']);
const SWITCHES = new Set(['--quiet', '--tokens', '--report']);

/** The arguments yargs would give `infersim run` for `argv` (the command line after the program), or undefined where the line is not plain. */
export function plainRunArgs(argv: readonly string[]): RunArgs | undefined {
  if (argv.length < 2 || argv[0] !== 'run' || argv[1].startsWith('-')) return undefined;
  const args: RunArgs = { scenario: argv[1] };
  const set: string[] = [];
  const seen = new Set<string>();
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (SWITCHES.has(name) && eq < 0 && !seen.has(name)) {
      seen.add(name);
      args[name.slice(2) as 'quiet' | 'tokens' | 'report'] = true;
      continue;
    }
    if (!VALUED.has(name) || (name !== '--set' && seen.has(name))) return undefined;
    seen.add(name);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('-'))) return undefined;
    if (name === '--set') set.push(value);
    else if (name === '--out') args.out = value;
    else args.seed = value;
  }
  if (set.length > 0) args.set = set;
  return args;
}

/**
 * Runs `infersim run` if `argv` is plain (see the file's comment), as main.ts would have: true once
 * it has run, false (nothing done) otherwise.
 */
export async function runPlain(argv: readonly string[]): Promise<boolean> {
  const args = plainRunArgs(argv);
  if (args === undefined) return false;
  // As main.ts: a reader that closes the pipe early is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  await guarded(runCommand)(args);
  return true;
}
