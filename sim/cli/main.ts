import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InfersimError } from '../errors.js';
import { calibrateCommand, calibrateCommandBuilder, type CalibrateArgs } from './calibrate.js';
import { predictCommand, predictCommandBuilder, type PredictArgs } from './predict.js';
import { profileCommandBuilder } from './profile.js';
import { runCommand, runCommandBuilder, type RunArgs } from './run.js';
import { sweepCommandBuilder } from './sweep.js';
import { validateProbeCommand, validateProbeCommandBuilder, type ValidateProbeArgs } from './validateProbe.js';

/** Input errors print one line; anything else is a bug and keeps its stack trace. */
function guarded<A>(command: (args: A) => void): (args: A) => void {
  return (args) => {
    try {
      command(args);
    } catch (err) {
      if (err instanceof InfersimError) {
        console.error(`infersim: error: ${err.message}`);
        process.exit(1);
      }
      throw err;
    }
  };
}

export async function main(argv: string[]): Promise<void> {
  // `infersim predict … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  await yargs(hideBin(argv))
    .scriptName('infersim')
    .command<RunArgs>('run <scenario>', 'simulate a scenario and write Arrow results', runCommandBuilder, guarded(runCommand))
    .command('sweep', 'run a scenario over a grid of settings in parallel (resumable, shardable); sweep merge combines shards', sweepCommandBuilder)
    .command<PredictArgs>('predict', 'time one engine iteration of a batch, operator by operator', predictCommandBuilder, guarded(predictCommand))
    .command('profile', 'latency profiles: import another tool\'s measurements, validate a profile, fit one', profileCommandBuilder)
    .command<CalibrateArgs>('calibrate', 'measure this machine\'s GPU into a latency profile (native CUDA probe)', calibrateCommandBuilder, guarded(calibrateCommand))
    .command<ValidateProbeArgs>('validate', 'compare infersim-probe iteration timings with the prediction', validateProbeCommandBuilder, guarded(validateProbeCommand))
    .demandCommand(1, 'give a command, e.g. infersim run scenarios/quickstart.yaml')
    .strict()
    .help()
    .fail((message, err) => {
      if (err) throw err;
      console.error(`infersim: error: ${message} (see infersim --help)`);
      process.exit(1);
    })
    .parseAsync();
}
