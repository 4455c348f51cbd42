/**
 * KV transfers in flight between replicas, and how they share the links. Each replica has one
 * link out and one in, each of `bytes_per_s` (a GPU's own NIC, one per GPU of its TP group, all
 * moving their shards at once, so a transfer's bytes are one GPU's shard). Concurrent transfers
 * share by max-min fairness (progressive filling): each gets an equal share of its tightest link,
 * and what a transfer bottlenecked elsewhere leaves is split among the others, which is what
 * TCP-like and RDMA fabrics converge to under load. A transfer first waits its fixed latency, then
 * moves its bytes; rates change only when one starts moving or ends, so between such instants
 * every transfer advances linearly and the next instant is known exactly.
 */

interface Flow<T> {
  readonly src: number;
  readonly dst: number;
  /** When its bytes start moving (start + the link's latency), s. */
  readonly ready_s: number;
  remaining: number;
  rate: number;
  readonly payload: T;
}

export class KvLinks<T> {
  private readonly flows: Flow<T>[] = [];
  /** Transfers found complete while another was being added: handed out by the next `advance`. */
  private readonly landed: T[] = [];
  private last_s = 0;

  constructor(
    private readonly bytes_per_s: number,
    private readonly latency_s: number,
  ) {
    if (!(bytes_per_s > 0 && Number.isFinite(bytes_per_s))) throw new Error(`KV link bandwidth must be a positive number of bytes/s, got ${bytes_per_s}`);
  }

  get in_flight(): number {
    return this.flows.length + this.landed.length;
  }

  /** A transfer of `bytes` (one GPU's shard) from replica `src` to `dst`, asked for at `now_s`. */
  add(now_s: number, src: number, dst: number, bytes: number, payload: T): void {
    this.landed.push(...this.advance(now_s));
    this.flows.push({ src, dst, ready_s: now_s + this.latency_s, remaining: Math.max(0, bytes), rate: 0, payload });
    this.share(now_s);
  }

  /** Moves every transfer on to `now_s`; returns the payloads of those that completed, in the order they were added. */
  advance(now_s: number): T[] {
    const dt = now_s - this.last_s;
    if (dt < 0) throw new Error(`KV links advanced backwards: ${now_s} < ${this.last_s}`);
    const done: T[] = this.landed.splice(0);
    let kept = 0;
    for (const f of this.flows) {
      // Judged in time, as next_s computes it: a byte tolerance would fail late in a long run, where an instant's ulp exceeds it.
      const end_s = f.rate > 0 ? this.last_s + f.remaining / f.rate : f.remaining <= 0 ? f.ready_s : Infinity;
      if (f.rate > 0) f.remaining = Math.max(0, f.remaining - f.rate * dt);
      if (f.ready_s <= now_s && end_s <= now_s) done.push(f.payload);
      else this.flows[kept++] = f;
    }
    this.flows.length = kept;
    this.last_s = now_s;
    if (done.length > 0 || dt > 0) this.share(now_s);
    return done;
  }

  /** When the next transfer starts moving or completes (Infinity: none in flight). */
  next_s(): number {
    if (this.landed.length > 0) return this.last_s;
    let next = Infinity;
    for (const f of this.flows) {
      const t = f.ready_s > this.last_s ? f.ready_s : f.rate > 0 ? this.last_s + f.remaining / f.rate : f.remaining <= 0 ? this.last_s : Infinity;
      if (t < next) next = t;
    }
    return next;
  }

  /**
   * Max-min fair rates of the transfers moving at `now_s`: progressive filling over the links out
   * (id 2·src) and in (id 2·dst + 1), numeric ids so that thousands of transfers stay cheap.
   */
  private share(now_s: number): void {
    for (const f of this.flows) f.rate = 0;
    const capacity = new Map<number, number>();
    let open = this.flows.filter((f) => f.ready_s <= now_s && f.remaining > 0);
    for (const f of open) {
      capacity.set(2 * f.src, this.bytes_per_s);
      capacity.set(2 * f.dst + 1, this.bytes_per_s);
    }
    const users = new Map<number, number>();
    while (open.length > 0) {
      users.clear();
      for (const f of open) {
        users.set(2 * f.src, (users.get(2 * f.src) ?? 0) + 1);
        users.set(2 * f.dst + 1, (users.get(2 * f.dst + 1) ?? 0) + 1);
      }
      let delta = Infinity;
      for (const [l, n] of users) delta = Math.min(delta, (capacity.get(l) as number) / n);
      for (const [l, n] of users) capacity.set(l, (capacity.get(l) as number) - delta * n);
      for (const f of open) f.rate += delta;
      // A link with (almost) nothing left freezes the transfers through it.
      const full = (l: number) => (capacity.get(l) as number) <= 1e-12 * this.bytes_per_s;
      open = open.filter((f) => !full(2 * f.src) && !full(2 * f.dst + 1));
    }
  }
}
