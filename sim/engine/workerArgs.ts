/**
 * The Node options a worker thread of the library starts with: the process's own, less code to
 * evaluate and how to read it. A worker inherits `process.execArgv`: given `-e`/`-p` it runs that
 * code instead of its file (a library called from `node -e` would start the caller's script again
 * in each worker: a sink thread that never reads its ring), and given `--input-type` it refuses to
 * start at all.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    if (/^(-e|--eval|-p|--print|-pe|-ep|--input-type)$/.test(a)) i++;
    else if (!/^--(eval|print|input-type)=/.test(a)) kept.push(a);
  }
  return kept;
}
