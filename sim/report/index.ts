import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InfersimError } from '../errors.js';
import { writeFileAtomic } from '../fsErrors.js';
import { DEFAULT_MAX_POINTS } from './decimate.js';
import { reportHtml } from './html.js';
import { withoutEmptyCharts, type ReportData } from './model.js';
import { RUN_FILES, runReportData } from './runReport.js';
import { sweepReportData } from './sweepReport.js';

export type { ReportData } from './model.js';

export interface ReportOptions {
  /** The HTML file (default DIR/report.html). */
  out?: string;
  /** Points per decimated series (default 2,000). */
  maxPoints?: number;
}

/** What a run's or a sweep's output folder shows; a sweep is recognised by its sweep.json. */
export function reportData(dir: string, maxPoints = DEFAULT_MAX_POINTS): ReportData {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new InfersimError(`report: ${abs} does not exist`);
  if (!statSync(abs).isDirectory()) throw new InfersimError(`report: ${abs} is not a folder (give a run's or a sweep's output folder)`);
  if (existsSync(join(abs, 'sweep.json'))) return withoutEmptyCharts(sweepReportData(abs));
  if (!existsSync(join(abs, 'summary.json'))) {
    throw new InfersimError(`report: ${join(abs, 'summary.json')} does not exist: ${abs} is neither a run's output folder (${RUN_FILES.join(', ')}) nor a sweep's (sweep.json, points/)`);
  }
  return withoutEmptyCharts(runReportData(abs, maxPoints));
}

/** Writes the report (through a temporary file and a rename); returns its path and size. */
export function writeReport(dir: string, options: ReportOptions = {}): { file: string; bytes: number; kind: ReportData['kind'] } {
  const data = reportData(dir, options.maxPoints);
  const file = resolve(options.out ?? join(dir, 'report.html'));
  const html = reportHtml(data);
  writeFileAtomic('--out', file, html);
  return { file, bytes: Buffer.byteLength(html), kind: data.kind };
}
