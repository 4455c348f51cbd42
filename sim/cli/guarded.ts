import { InfersimError } from '../errors.js';
import { systemErrorLine } from '../fsErrors.js';

/**
 * The one line a command's failure prints, or undefined for a bug (which keeps its stack trace).
 * A system error from the file system that no caller named (every write path should) is still
 * the user's environment, not a bug: it prints its path and the problem in words.
 */
export function oneLine(err: unknown): string | undefined {
  return err instanceof InfersimError ? err.message : systemErrorLine(err);
}

function report(err: unknown): never {
  const line = oneLine(err);
  if (line !== undefined) {
    console.error(`infersim: error: ${line}`);
    process.exit(1);
  }
  throw err;
}

/**
 * A command handler whose input errors print one line and exit 1, as every infersim command
 * does; anything else is a bug and keeps its stack trace. Works for sync and async handlers.
 */
export function guarded<A, R extends void | Promise<void>>(command: (args: A) => R): (args: A) => R {
  return (args) => {
    try {
      const result = command(args);
      return (result instanceof Promise ? result.catch(report) : result) as R;
    } catch (err) {
      return report(err);
    }
  };
}
