import type { Argv } from 'yargs';
import { InfersimError } from '../errors.js';

/** Placeholder until the command lands: registered so that `infersim --help` lists it. */
export const reportCommandBuilder = (y: Argv): Argv => y;

export function reportCommand(): void {
  throw new InfersimError('report: not built yet');
}
