import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`), or INFERSIM_CHROMIUM; undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return [process.env.INFERSIM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface ChartCheck {
  id: string;
  title: string;
  /** Non-null values per series, as uPlot holds them (cells for a heat map). */
  points: number[];
  /** Pixels of the plot box drawn in a colour (not white, grey or black): grid and axes do not count. */
  colored: number;
}

export interface PageCheck {
  /** Console errors, uncaught exceptions and requests for anything outside the file. */
  errors: string[];
  charts: ChartCheck[];
  /** Charts the page's data holds: each must be drawn. */
  expected: string[];
  /** Everything wrong, one line each: empty when the page is good. */
  problems: string[];
  loadMs: number;
}

/** Least coloured pixels for a chart to count as drawn: a few markers or a short line segment. */
const MIN_COLORED = 20;

/**
 * Opens the report in `browser`, waits for its script to finish, and checks it: no console error
 * or page error, no request leaving the file, every chart in the page's data drawn with data in
 * uPlot and coloured pixels in its plot box. Writes a full-page screenshot when `screenshot` is set.
 */
export async function checkReport(browser: Browser, file: string, screenshot?: string): Promise<PageCheck> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) errors.push(`network request: ${r.url()}`);
  });
  const started = performance.now();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const ready = await page.waitForSelector('body[data-ready]', { timeout: 15_000 }).then(
    () => true,
    () => false,
  );
  const loadMs = performance.now() - started;
  const { charts, expected } = await page.evaluate(inspectCharts);
  if (screenshot !== undefined) await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  const problems = [...errors];
  if (!ready) problems.push("the page's script did not finish (body[data-ready] never set)");
  for (const id of expected) {
    const c = charts.find((x) => x.id === id);
    if (c === undefined) problems.push(`chart ${id}: not drawn`);
    else if (c.points.every((n) => n === 0)) problems.push(`chart ${id} (${c.title}): no data in any series`);
    else if (c.colored < MIN_COLORED) problems.push(`chart ${id} (${c.title}): its plot box is blank (${c.colored} coloured pixels)`);
  }
  return { errors, charts, expected, problems, loadMs };
}

/** Runs in the page: the chart ids in the embedded data, and what each drawn chart holds and shows. */
function inspectCharts(): { charts: ChartCheck[]; expected: string[] } {
  type Drawn = { id: string; title: string; points: number[]; canvas: HTMLCanvasElement; bbox: { left: number; top: number; width: number; height: number } };
  const data = JSON.parse(document.getElementById('infersim-data')?.textContent ?? '{"sections":[]}') as { sections: { charts: { id: string }[] }[] };
  const expected = data.sections.flatMap((s) => s.charts.map((c) => c.id));
  const drawn = ((window as unknown as { __infersimCharts?: Drawn[] }).__infersimCharts ?? []) as Drawn[];
  const charts = drawn.map((c) => {
    const ctx = c.canvas.getContext('2d');
    let colored = 0;
    const w = Math.floor(c.bbox.width);
    const h = Math.floor(c.bbox.height);
    if (ctx !== null && w > 0 && h > 0) {
      const px = ctx.getImageData(Math.floor(c.bbox.left), Math.floor(c.bbox.top), w, h).data;
      for (let i = 0; i < px.length; i += 4) {
        const r = px[i]!, g = px[i + 1]!, b = px[i + 2]!;
        if (px[i + 3]! > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) colored++;
      }
    }
    return { id: c.id, title: c.title, points: c.points, colored };
  });
  return { charts, expected };
}
