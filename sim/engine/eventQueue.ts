/**
 * Binary min-heap of events in struct-of-arrays form (no object per event, no GC churn).
 *
 * Order is (time, priority, insertion sequence): two events at the same instant run in
 * priority order, and equal priorities in the order they were pushed. The sequence number
 * makes ties fully deterministic; the priority lets the engine say "finish every step and
 * take every arrival at this instant before any scheduler forms the next step".
 */
export class EventQueue {
  private times: Float64Array;
  /** priority · 2^40 + sequence, exact in a float64 for 2^40 pushes. */
  private orders: Float64Array;
  private kinds: Int32Array;
  private targets: Int32Array;
  private count = 0;
  private sequence = 0;

  constructor(initialCapacity = 1024) {
    this.times = new Float64Array(initialCapacity);
    this.orders = new Float64Array(initialCapacity);
    this.kinds = new Int32Array(initialCapacity);
    this.targets = new Int32Array(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  /** `sequence`: its place among events of the same time and priority, from `reserve`; by default after all pushed so far. */
  push(time_s: number, priority: number, kind: number, target: number, sequence = this.sequence++): void {
    if (this.count === this.times.length) this.grow();
    const order = priority * 1099511627776 + sequence;
    let i = this.count++;
    // Sift up: move parents down until the new event's slot is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(time_s, order, this.times[parent], this.orders[parent])) break;
      this.move(parent, i);
      i = parent;
    }
    this.times[i] = time_s;
    this.orders[i] = order;
    this.kinds[i] = kind;
    this.targets[i] = target;
  }

  /** The place in the push order an event pushed now would take, for one pushed later (`push`'s `sequence`) or never. */
  reserve(): number {
    return this.sequence++;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.count > 0 ? this.times[0] : Infinity;
  }

  /**
   * Removes the earliest event and returns its time; its kind and target are then
   * readable from `poppedKind` / `poppedTarget` (avoids allocating a result object).
   */
  pop(): number {
    if (this.count === 0) throw new Error('EventQueue.pop on an empty queue');
    const time_s = this.times[0];
    this.poppedKind = this.kinds[0];
    this.poppedTarget = this.targets[0];
    const last = --this.count;
    if (last > 0) {
      const t = this.times[last];
      const o = this.orders[last];
      const k = this.kinds[last];
      const g = this.targets[last];
      let i = 0;
      const half = last >> 1;
      while (i < half) {
        let child = 2 * i + 1;
        const right = child + 1;
        if (right < last && this.before(this.times[right], this.orders[right], this.times[child], this.orders[child])) {
          child = right;
        }
        if (!this.before(this.times[child], this.orders[child], t, o)) break;
        this.move(child, i);
        i = child;
      }
      this.times[i] = t;
      this.orders[i] = o;
      this.kinds[i] = k;
      this.targets[i] = g;
    }
    return time_s;
  }

  poppedKind = 0;
  poppedTarget = 0;

  private before(t1: number, o1: number, t2: number, o2: number): boolean {
    return t1 < t2 || (t1 === t2 && o1 < o2);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.orders[to] = this.orders[from];
    this.kinds[to] = this.kinds[from];
    this.targets[to] = this.targets[from];
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    times.set(this.times);
    this.times = times;
    const orders = new Float64Array(capacity);
    orders.set(this.orders);
    this.orders = orders;
    const kinds = new Int32Array(capacity);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const targets = new Int32Array(capacity);
    targets.set(this.targets);
    this.targets = targets;
  }
}
