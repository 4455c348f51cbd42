import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PAGE_SCRIPT } from './client.js';
import type { ReportData } from './model.js';

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
#report { max-width: 1400px; margin: 0 auto; padding: 12px 20px 40px; }
h1 { font-size: 20px; margin: 8px 0 2px; } h2 { font-size: 17px; margin: 26px 0 6px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; margin: 10px 0 4px; }
.note { color: #666; font-size: 12px; margin: 2px 0 8px; } .error { color: #b00; }
table { border-collapse: collapse; font-size: 13px; background: #fff; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
table.keyed td { text-align: left; white-space: normal; }
tbody th { text-align: left; font-weight: 600; } thead th { background: #f0f0f0; }
.table { overflow-x: auto; margin-bottom: 10px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 14px; }
figure.chart { margin: 0; background: #fff; border: 1px solid #e4e4e4; padding: 8px; }
pre { background: #fff; border: 1px solid #e4e4e4; padding: 8px; font-size: 12px; max-height: 480px; overflow: auto; }
`;

/** Nothing may load from elsewhere: the page is one file that works offline. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

let uplot: { js: string; css: string } | undefined;

/** uPlot's browser build and stylesheet, read from its npm package once. */
function uplotAssets(): { js: string; css: string } {
  if (uplot !== undefined) return uplot;
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  if (/<\/script|<!--/i.test(js)) throw new Error('uplot/dist/uPlot.iife.min.js cannot be inlined as it is (it holds </script or <!--)');
  return (uplot = { js, css });
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** JSON safe inside a <script> element: no `<` (so no `</script>`), no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The whole page: styles, uPlot, the data and the page's script, one file. */
export function reportHtml(data: ReportData): string {
  const { js, css } = uplotAssets();
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    `<style>${css}\n${STYLE}</style>`,
    '</head><body><main id="report"></main>',
    `<script type="application/json" id="infersim-data">${scriptJson(data)}</script>`,
    `<script>${js}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
