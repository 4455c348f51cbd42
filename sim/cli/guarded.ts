import { InfersimError } from '../errors.js';

function report(err: unknown): never {
  if (err instanceof InfersimError) {
    console.error(`infersim: error: ${err.message}`);
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
