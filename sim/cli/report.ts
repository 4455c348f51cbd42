import type { Argv } from 'yargs';

export interface ReportArgs {
  dir: string;
  out?: string;
}

export const reportCommandBuilder = (y: Argv): Argv =>
  y
    .positional('dir', { type: 'string', demandOption: true, describe: "a run's output folder (summary.json, requests.arrow, iterations.arrow) or a sweep's (sweep.json, points/)" })
    .option('out', { type: 'string', describe: 'the HTML file to write (default: DIR/report.html)' });

/** `infersim report DIR [--out FILE]`: one self-contained HTML page (charts inlined, no network). */
export async function reportCommand(args: ReportArgs): Promise<void> {
  const { writeReport } = await import('../report/index.js');
  const r = writeReport(args.dir, { out: args.out });
  console.log(`wrote ${r.file} (${sizeText(r.bytes)}, ${r.kind} report)`);
}

export function sizeText(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
