import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { guarded } from './guarded.js';

/**
 * The commands. Only the one being run is imported (with its dependencies: the simulator,
 * apache-arrow, zod schemas…); the others are registered by name and description alone, which
 * is all `--help` and yargs's checks need. That saves a few hundred milliseconds at every start
 * (and lets `infersim sweep` start its workers sooner).
 */
interface CommandSpec {
  usage: string;
  describe: string;
  load: () => Promise<{ builder: (y: Argv) => Argv; handler?: (args: never) => void | Promise<void> }>;
}

const COMMANDS: Record<string, CommandSpec> = {
  run: {
    usage: 'run <scenario>',
    describe: 'simulate a scenario and write Arrow results',
    load: async () => {
      const m = await import('./run.js');
      return { builder: m.runCommandBuilder, handler: guarded(m.runCommand) };
    },
  },
  sweep: {
    usage: 'sweep',
    describe: 'run a scenario over a grid of settings in parallel (resumable, shardable); sweep merge combines shards',
    load: async () => ({ builder: (await import('./sweep.js')).sweepCommandBuilder }),
  },
  predict: {
    usage: 'predict',
    describe: 'time one engine iteration of a batch, operator by operator',
    load: async () => {
      const m = await import('./predict.js');
      return { builder: m.predictCommandBuilder, handler: guarded(m.predictCommand) };
    },
  },
  report: {
    usage: 'report <dir>',
    describe: "write one self-contained HTML report of a run's or sweep's results (charts, percentiles, scenario)",
    load: async () => {
      const m = await import('./report.js');
      return { builder: m.reportCommandBuilder, handler: guarded(m.reportCommand) };
    },
  },
  compare: {
    usage: 'compare <real>',
    describe: "simulate the workload of a real benchmark's results (vllm bench serve, GuideLLM, genai-perf) and print the errors per metric",
    load: async () => {
      const m = await import('./compare.js');
      return { builder: m.compareCommandBuilder, handler: guarded(m.compareCommand) };
    },
  },
  profile: {
    usage: 'profile',
    describe: "latency profiles: import another tool's measurements, validate a profile, fit one",
    load: async () => ({ builder: (await import('./profile.js')).profileCommandBuilder }),
  },
  calibrate: {
    usage: 'calibrate',
    describe: "measure this machine's GPU into a latency profile (native CUDA probe)",
    load: async () => {
      const m = await import('./calibrate.js');
      return { builder: m.calibrateCommandBuilder, handler: guarded(m.calibrateCommand) };
    },
  },
  plan: {
    usage: 'plan [file]',
    describe: 'plan PLAN.yaml: the cheapest deployment that meets an SLO, found by simulation; plan training FILE: time and cost of training or fine-tuning',
    load: async () => {
      const training = await import('./planTraining.js');
      const deployment = await import('./planDeployment.js');
      const builder = (y: Argv): Argv =>
        deployment
          .planDeploymentBuilder(y)
          .command('training <file>', 'estimate memory per GPU, time and cost of training or fine-tuning', training.planTrainingBuilder, guarded(training.planTrainingCommand));
      return { builder, handler: guarded(deployment.planDeploymentCommand) };
    },
  },
  validate: {
    usage: 'validate',
    describe: 'compare infersim-probe iteration timings with the prediction (--probe), or replay real runs (validate real DIR)',
    load: async () => {
      const probe = await import('./validateProbe.js');
      const real = await import('./validateReal.js');
      const builder = (y: Argv): Argv =>
        probe.validateProbeCommandBuilder(
          y.command('real <path>', 'replay a folder of real vLLM runs and print the error table', real.validateRealCommandBuilder, guarded(real.validateRealCommand)),
        ) as unknown as Argv;
      return { builder, handler: guarded(probe.validateProbeCommand) };
    },
  },
};

export async function main(argv: string[]): Promise<void> {
  // `infersim predict … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const args = hideBin(argv);
  // The command being run: the first argument that is not an option.
  const chosen = args.find((a) => !a.startsWith('-'));
  let y = yargs(args).scriptName('infersim');
  for (const [name, spec] of Object.entries(COMMANDS)) {
    if (name === chosen) {
      const { builder, handler } = await spec.load();
      y = handler ? y.command(spec.usage, spec.describe, builder, handler as (args: unknown) => void) : y.command(spec.usage, spec.describe, builder);
    } else {
      y = y.command(spec.usage, spec.describe, (c) => c, () => undefined);
    }
  }
  skipHelpCache(y);
  await y
    .demandCommand(1, 'give a command, e.g. infersim run scenarios/quickstart.yaml')
    .strict()
    .help()
    .fail((message, err) => {
      // yargs reports its own parse errors (a flag missing its value, an unknown flag) as YError:
      // those are the user's, one line; any other error reaching here is a bug and keeps its stack.
      if (err !== undefined && err !== null && err.name !== 'YError') throw err;
      console.error(`infersim: error: ${message ?? err?.message} (see infersim --help)`);
      process.exit(1);
    })
    .parseAsync();
}

/**
 * yargs renders the chosen command's whole help once its handler has started (~30 ms), to show it
 * should the handler fail. It never shows it here (`.fail` prints one line instead), and during
 * those milliseconds `infersim run`'s thread is starting its simulation on the other core. yargs
 * has no option for this: the cache is replaced through its internal methods where they exist as
 * in yargs 17–18, and left alone otherwise.
 */
function skipHelpCache(y: Argv): void {
  type Usage = { cacheHelpMessage?: () => void };
  const internal = (y as unknown as { getInternalMethods?: () => { getUsageInstance?: () => Usage | undefined } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
