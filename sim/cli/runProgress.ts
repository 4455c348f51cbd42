/**
 * Progress of one `infersim run` on a terminal: after the first `delay_s` of wall time, one line
 * on stderr redrawn in place — simulated time, requests done, rate and ETA. Nothing otherwise:
 * a pipe, a log file or CI gets no progress lines, so stderr stays for errors and a script that
 * reads the output sees exactly what it saw before. Runs shorter than the delay print nothing.
 */
export interface RunProgress {
  /** Called by the simulation loop every few thousand events; cheap when it draws nothing. */
  tick(sim_s: number, requests_done: number): void;
  /** Clears the line (if one was drawn), so the summary starts on a clean line. */
  end(): void;
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

const NONE: RunProgress = { tick() {}, end() {} };

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
    tick(sim_s, done) {
      const t = now_s();
      if (t < next_s) return;
      next_s = t + every_s;
      drawn = true;
      stream.write(`\r${progressLine(sim_s, done, t - start_s, opts)}\x1b[K`);
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

/** `simulated 12.5 s  4,512 / 19,366 requests  23 %  9,024 req/s  ETA 0:02` — exported for tests. */
export function progressLine(sim_s: number, done: number, wall_s: number, opts: Pick<RunProgressOptions, 'total_requests' | 'duration_s'>): string {
  const total = opts.total_requests !== undefined && Number.isFinite(opts.total_requests) ? opts.total_requests : undefined;
  const duration = opts.duration_s !== undefined && Number.isFinite(opts.duration_s) ? opts.duration_s : undefined;
  // Whichever bound is nearer to being reached decides how far along the run is.
  const fractions = [total !== undefined && total > 0 ? done / total : 0, duration !== undefined && duration > 0 ? sim_s / duration : 0];
  const fraction = Math.min(1, Math.max(...fractions));
  const count = `${done.toLocaleString('en-US')}${total !== undefined ? ` / ${total.toLocaleString('en-US')}` : ''} requests`;
  const share = fraction > 0 ? `  ${Math.floor(fraction * 100)} %` : '';
  const rate = wall_s > 0 ? `  ${Math.round(done / wall_s).toLocaleString('en-US')} req/s` : '';
  const eta = fraction > 0 ? `  ETA ${clock((wall_s / fraction) * (1 - fraction))}` : '';
  return `simulated ${sim_s.toFixed(1)} s  ${count}${share}${rate}${eta}`;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
