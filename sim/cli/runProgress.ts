import { clock } from '../sweep/progress.js';

/**
 * Progress of one `infersim run` on a terminal: after the first `delay_s` of wall time, one line
 * on stderr redrawn in place — simulated time, requests done, rate and ETA. Nothing otherwise:
 * a pipe, a log file or CI gets no progress lines, so stderr stays for errors and a script that
 * reads the output sees exactly what it saw before. Runs shorter than the delay print nothing.
 */
export interface RunProgress {
  /**
   * Called by the simulation loop every few thousand events; cheap when it draws nothing. `pass`
   * of `passes`: the main run is pass 0, the latency band's re-runs follow it.
   */
  tick(sim_s: number, requests_done: number, pass?: number, passes?: number): void;
  /** Clears the line (if one was drawn), so the summary starts on a clean line. */
  end(): void;
  /** False where nothing is ever drawn (not a terminal): the run then need not tick it. */
  readonly shown: boolean;
}

export interface RunProgressOptions {
  /** Requests the workload yields at most (undefined when only time bounds it). */
  total_requests?: number;
  /** Simulated seconds the workload lasts at most (workload.duration_s). */
  duration_s?: number;
  stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  /** Wall seconds before the first draw. */
  delay_s?: number;
  /** Wall seconds between draws. */
  every_s?: number;
  /** Wall clock in seconds (injectable for tests). */
  now_s?: () => number;
}

const NONE: RunProgress = { tick() {}, end() {}, shown: false };

export function createRunProgress(opts: RunProgressOptions = {}): RunProgress {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY !== true) return NONE;
  const now_s = opts.now_s ?? (() => performance.now() / 1000);
  const start_s = now_s();
  const delay_s = opts.delay_s ?? 1.5;
  const every_s = opts.every_s ?? 0.25;
  let next_s = start_s + delay_s;
  let drawn = false;
  return {
    tick(sim_s, done, pass = 0, passes = 1) {
      const t = now_s();
      if (t < next_s) return;
      next_s = t + every_s;
      drawn = true;
      stream.write(`\r${progressLine(sim_s, done, t - start_s, opts, pass, passes)}\x1b[K`);
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
    },
    shown: true,
  };
}

/**
 * `simulated 12.5 s  4,512 / 19,366 requests  23 %  9,024 req/s  ETA 0:02`; during the band's
 * re-runs it names the pass, and the share and ETA cover all passes. Exported for tests.
 */
export function progressLine(
  sim_s: number,
  done: number,
  wall_s: number,
  opts: Pick<RunProgressOptions, 'total_requests' | 'duration_s'>,
  pass = 0,
  passes = 1,
): string {
  const total = opts.total_requests !== undefined && Number.isFinite(opts.total_requests) ? opts.total_requests : undefined;
  const duration = opts.duration_s !== undefined && Number.isFinite(opts.duration_s) ? opts.duration_s : undefined;
  // Whichever bound is nearer to being reached decides how far along this pass is.
  const fractions = [total !== undefined && total > 0 ? done / total : 0, duration !== undefined && duration > 0 ? sim_s / duration : 0];
  const known = fractions.some((f) => f > 0);
  const fraction = (pass + Math.min(1, Math.max(...fractions))) / passes;
  const label = pass > 0 ? `latency band re-run ${pass} of ${passes - 1}: ` : '';
  const count = `${done.toLocaleString('en-US')}${total !== undefined ? ` / ${total.toLocaleString('en-US')}` : ''} requests`;
  const share = known ? `  ${Math.floor(fraction * 100)} %` : '';
  // Requests simulated by the whole command so far, so the rate stays comparable across passes.
  const processed = total !== undefined ? pass * total + done : pass === 0 ? done : undefined;
  const rate = wall_s > 0 && processed !== undefined ? `  ${Math.round(processed / wall_s).toLocaleString('en-US')} req/s` : '';
  const eta = known && fraction > 0 ? `  ETA ${clock((wall_s / fraction) * (1 - fraction))}` : '';
  return `${label}simulated ${sim_s.toFixed(1)} s  ${count}${share}${rate}${eta}`;
}
