// `npm run bench:plan`: three templates' deployment plans (chatbot, rag, code-completion) for
// Llama-3.1-8B at 4 req/s over L4 and H100 at TP 1, 2, 4, 8, each timed as a whole process
// (start, every simulated step of the search, the report, exit) from the compiled build, in
// turn, BENCH_REPEATS times (default 3); prints each time, each template's median and the median
// of all. The machine's load average is printed, since other work skews the figures.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const templates = ['chatbot', 'rag', 'code-completion'];
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
if (!Number.isSafeInteger(repeats) || repeats < 1) throw new Error(`BENCH_REPEATS: expected a positive integer, got ${process.env.BENCH_REPEATS}`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const times = Object.fromEntries(templates.map((t) => [t, []]));
for (let r = 0; r < repeats; r++) {
  for (const template of templates) {
    const args = ['plan', '--template', template, '--model', 'llama-3.1-8b', '--rate', '4', '--gpus', 'l4,h100-sxm', '--json'];
    const start = process.hrtime.bigint();
    const p = spawnSync(process.execPath, [join(root, 'bin/infersim.js'), ...args], { encoding: 'utf8', env: { ...process.env, INFERSIM_FROM_SOURCE: '0' } });
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    if (p.status !== 0) throw new Error(`plan --template ${template} failed: ${p.stderr}`);
    const best = JSON.parse(p.stdout).recommended;
    times[template].push(s);
    console.log(`${template}: ${s.toFixed(2)} s, ${best.replicas} × ${best.gpu} TP ${best.tensor_parallel} (load average ${loadavg()[0].toFixed(2)})`);
  }
}
console.log(`medians of ${repeats} on ${availableParallelism()} cores:`);
for (const t of templates) console.log(`  ${t}: ${median(times[t]).toFixed(2)} s`);
console.log(`  all three templates: ${median(Object.values(times).flat()).toFixed(2)} s`);
