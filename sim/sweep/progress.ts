import { describePoint } from './grid.js';

/** A finished point as progress shows it (a record, or a crashed outcome that is not recorded). */
export interface ProgressPoint {
  index: number;
  values: readonly unknown[];
  status: 'ok' | 'failed' | 'crashed';
  error: string | null;
  wall_s: number;
}

export interface Progress {
  done(point: ProgressPoint): void;
  end(): void;
}

/**
 * On a terminal: one line redrawn in place, `[#####-----] 7/18 points  2 failed  ETA 0:12`, the
 * ETA being the mean time between finished points (this run's) × points left. Otherwise (a
 * pipe, a log file, CI): one plain line per finished point. Both go to stderr, so stdout keeps
 * only the report.
 */
export function createProgress(total: number, skipped: number, keys: readonly string[], stream: NodeJS.WriteStream = process.stderr): Progress {
  const start = performance.now();
  let finished = skipped;
  let ranHere = 0;
  let failed = 0;
  let crashed = 0;
  const tty = stream.isTTY === true;
  const draw = () => {
    const width = 24;
    const filled = total === 0 ? width : Math.round((finished / total) * width);
    const elapsed = (performance.now() - start) / 1000;
    const eta = ranHere === 0 ? '?' : clock((elapsed / ranHere) * (total - finished));
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${finished}/${total} points` + (failed ? `  ${failed} failed` : '') + (crashed ? `  ${crashed} crashed` : '') + `  ETA ${eta}`;
    stream.write(`\r${bar}\x1b[K`);
  };
  if (tty) draw();
  return {
    done(r) {
      finished++;
      ranHere++;
      if (r.status === 'failed') failed++;
      if (r.status === 'crashed') crashed++;
      if (tty) return draw();
      const what =
        r.status === 'ok' ? `ok in ${r.wall_s.toFixed(2)} s` : r.status === 'failed' ? `failed: ${r.error}` : `crashed (not recorded; a rerun retries it): ${r.error}`;
      stream.write(`[${finished}/${total}] point ${r.index} (${describePoint(keys, r.values)}): ${what}\n`);
    },
    end() {
      if (tty) stream.write('\n');
    },
  };
}

/** `m:ss`, or `h:mm:ss` past an hour: an ETA as a person reads it. */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
