const OBJECT = {};

/** Ring-buffer double-ended queue: O(1) push/pop at both ends (waiting queues take preempted requests at the front). */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private length = 0;

  /**
   * `numbers`: a queue of numbers. Otherwise its storage starts as one of objects, so that V8 does
   * not change its kind at the first item, after the code that fills it has been optimised for the
   * other kind (engine/arrays.ts's objectList).
   */
  constructor(initialCapacity = 64, numbers = false) {
    this.items = new Array(initialCapacity);
    if (!numbers && initialCapacity > 0) {
      this.items[0] = OBJECT as T;
      this.items[0] = undefined;
    }
  }

  get size(): number {
    return this.length;
  }

  pushBack(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) % this.items.length] = item;
    this.length++;
  }

  pushFront(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = item;
    this.length++;
  }

  peekFront(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  popFront(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.length--;
    return item;
  }

  private grow(): void {
    const grown: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.length; i++) grown[i] = this.items[(this.head + i) % this.items.length];
    this.items = grown;
    this.head = 0;
  }

  /** Removes the first occurrence of `item` (O(n); for rare withdrawals such as time-outs); false when absent. */
  remove(item: T): boolean {
    const cap = this.items.length;
    for (let i = 0; i < this.length; i++) {
      if (this.items[(this.head + i) % cap] !== item) continue;
      for (let j = i; j < this.length - 1; j++) this.items[(this.head + j) % cap] = this.items[(this.head + j + 1) % cap];
      this.items[(this.head + this.length - 1) % cap] = undefined;
      this.length--;
      return true;
    }
    return false;
  }

  /** Empties it, dropping its references. */
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.length = 0;
  }

  /** The item at position `i` from the front (0 ≤ i < size). */
  at(i: number): T {
    return this.items[(this.head + i) % this.items.length] as T;
  }
}
