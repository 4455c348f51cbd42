import type { Argv } from 'yargs';
import { InfersimError } from '../errors.js';

/** Placeholder until the command lands: registered so that `infersim --help` lists it. */
export const compareCommandBuilder = (y: Argv): Argv => y;

export function compareCommand(): void {
  throw new InfersimError('compare: not built yet');
}
