const NONE = -1;
/** `prev` of a block that is not in the queue. */
const OUT = -2;

/**
 * The free blocks of one pool in release order, as a doubly linked list over typed arrays: O(1)
 * push at the back, pop at the front and removal from anywhere (a cached-free block taken back by
 * a prefix hit), with no allocation.
 */
export class FreeQueue {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** The least recently released block, or −1 when the queue is empty. */
  head = NONE;
  private tail = NONE;
  size = 0;

  constructor(total_blocks: number) {
    this.prev = new Int32Array(total_blocks);
    this.next = new Int32Array(total_blocks);
  }

  has(b: number): boolean {
    return this.prev[b] !== OUT;
  }

  push(b: number): void {
    this.prev[b] = this.tail;
    this.next[b] = NONE;
    if (this.tail === NONE) this.head = b;
    else this.next[this.tail] = b;
    this.tail = b;
    this.size++;
  }

  remove(b: number): void {
    const p = this.prev[b];
    const n = this.next[b];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[b] = OUT;
    this.next[b] = OUT;
    this.size--;
  }
}
