/**
 * Nelder–Mead simplex minimisation: derivative-free, which suits losses built from max() and
 * medians. (No maintained npm package offers a small, dependency-free bound-free minimiser; this
 * is the textbook method with the standard coefficients: reflect 1, expand 2, contract ½, shrink ½.)
 */
export function nelderMead(f: (x: number[]) => number, start: readonly number[], opts: { step?: number; iterations?: number; tolerance?: number } = {}): { x: number[]; value: number } {
  const n = start.length;
  const step = opts.step ?? 0.1;
  const iterations = opts.iterations ?? 2000;
  const tolerance = opts.tolerance ?? 1e-10;
  let simplex = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i] !== 0 ? p[i] * (1 + step) : step;
    simplex.push(p);
  }
  let values = simplex.map(f);
  for (let it = 0; it < iterations; it++) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    simplex = order.map(([, i]) => simplex[i]);
    values = order.map(([v]) => v);
    if (Math.abs(values[n] - values[0]) <= tolerance * (Math.abs(values[0]) + tolerance)) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += simplex[i][j] / n;
    const toward = (t: number): number[] => centroid.map((c, j) => c + t * (simplex[n][j] - c));
    const reflected = toward(-1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = toward(-2);
      const fe = f(expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = fr < values[n] ? toward(-0.5) : toward(0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, values[n])) {
        [simplex[n], values[n]] = [contracted, fc];
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i].map((v, j) => simplex[0][j] + 0.5 * (v - simplex[0][j]));
          values[i] = f(simplex[i]);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= n; i++) if (values[i] < values[best]) best = i;
  return { x: simplex[best], value: values[best] };
}
