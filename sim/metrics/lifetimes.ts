/**
 * When each replica served. Replicas present when the sink is made serve from the run's start;
 * replicas added later (autoscaling, a replacement after a failure) from when they were added;
 * a retired replica until it was retired. GPU-hours integrate these lifetimes.
 */
export class ReplicaLifetimes {
  /** Per replica: when it was added (NaN: present from the run's start). */
  private readonly added_s: number[];
  /** Per replica: when it was retired (NaN: served to the run's end). */
  private readonly retired_s: number[];
  /** Per replica added during the run: its GPUs (NaN for the initial ones, which share `FinishContext.gpus`). */
  private readonly gpus: number[];
  private partial = 0;

  /** `initialGpus`: each initial replica's GPUs, when they differ (pools); absent, they share `gpuHours`' total equally. */
  constructor(readonly initial: number, initialGpus?: readonly number[]) {
    this.added_s = new Array<number>(initial).fill(NaN);
    this.retired_s = new Array<number>(initial).fill(NaN);
    this.gpus = initialGpus === undefined ? new Array<number>(initial).fill(NaN) : [...initialGpus];
  }

  get count(): number {
    return this.added_s.length;
  }

  /** Whether any replica served only part of the run: only then do the figures differ from "every replica × makespan". */
  get anyPartial(): boolean {
    return this.partial > 0;
  }

  add(start_s: number, gpus: number): number {
    if (!Number.isFinite(start_s)) throw new Error(`replica added at ${start_s} s: need a finite time`);
    if (!(Number.isInteger(gpus) && gpus > 0)) throw new Error(`replica added with ${gpus} GPUs: need a positive integer`);
    this.added_s.push(start_s);
    this.retired_s.push(NaN);
    this.gpus.push(gpus);
    this.partial++;
    return this.added_s.length - 1;
  }

  retire(index: number, end_s: number): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) throw new Error(`replica ${index} retired: no such replica (0..${this.count - 1})`);
    if (!Number.isNaN(this.retired_s[index])) throw new Error(`replica ${index} retired twice (at ${this.retired_s[index]} s and ${end_s} s)`);
    if (!Number.isFinite(end_s)) throw new Error(`replica ${index} retired at ${end_s} s: need a finite time`);
    // NaN (present from the start) compares false: any finite time will do.
    if (end_s < this.added_s[index]) throw new Error(`replica ${index} retired at ${end_s} s, before it was added (${this.added_s[index]} s)`);
    if (Number.isNaN(this.added_s[index])) this.partial++;
    this.retired_s[index] = end_s;
  }

  /** When replica `index` was added and retired, null for "from the run's start" and "to its end". */
  span(index: number): { start_s: number | null; end_s: number | null } {
    const start = this.added_s[index];
    const end = this.retired_s[index];
    return { start_s: Number.isNaN(start) ? null : start, end_s: Number.isNaN(end) ? null : end };
  }

  /**
   * GPU-hours of every replica over the run [runStart_s, runEnd_s], and each replica's share.
   * `initialGpus`: the GPUs of the replicas present from the start, all alike.
   * Whole-run replicas are counted as (their GPUs × the run's length) ÷ 3600 in one product, the
   * operations summary.json has always used, so a run whose replicas all serve throughout gives
   * the same bits as before replicas could come and go.
   */
  gpuHours(initialGpus: number, makespan_s: number, runStart_s: number): { total: number; perReplica: number[]; gpus: number } {
    const runEnd_s = runStart_s + makespan_s;
    const each = initialGpus / this.initial;
    let wholeGpus = initialGpus;
    let partialGpuSeconds = 0;
    let everyGpu = initialGpus;
    const perReplica = this.added_s.map((added, r) => {
      const gpus = r < this.initial && Number.isNaN(this.gpus[r]) ? each : this.gpus[r];
      const retired = this.retired_s[r];
      if (Number.isNaN(added) && Number.isNaN(retired)) return (gpus * makespan_s) / 3600;
      if (r < this.initial) wholeGpus -= gpus;
      else everyGpu += gpus;
      const from = Number.isNaN(added) ? runStart_s : Math.max(added, runStart_s);
      const to = Number.isNaN(retired) ? runEnd_s : Math.min(retired, runEnd_s);
      const seconds = Math.max(0, to - from) * gpus;
      partialGpuSeconds += seconds;
      return seconds / 3600;
    });
    const whole = (wholeGpus * makespan_s) / 3600;
    return { total: this.partial === 0 ? whole : whole + partialGpuSeconds / 3600, perReplica, gpus: everyGpu };
  }
}
