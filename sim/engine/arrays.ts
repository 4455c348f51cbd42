/**
 * Empties a list that is refilled at once (the scheduled sequences of a step, the sequences a
 * step finished), keeping its storage. `list.length = 0` makes V8 drop the backing store, so each
 * refill reallocates it: on a 256-sequence batch that was most of the simulator's garbage. Popping
 * keeps the storage once the code is optimized (unoptimized, V8 still shrinks it): on Node 20,
 * 200,000 refills of 256 ran 1,183 young-generation collections with `length = 0` and 2 to 689
 * this way, depending on how soon the loop was optimized.
 */
export function clearKeepingStorage<T>(list: T[]): void {
  while (list.length > 0) list.pop();
}

const PLACEHOLDER = {};

/**
 * An empty array that V8 already holds as one of objects. A literal `[]` starts as an array of
 * small integers and changes kind at its first object, after the code that fills it may have been
 * optimised for the other kind: each run's (and each band re-run's) new lists then discarded the
 * step code the runs share. For lists of objects made once per run or per replica.
 */
export function objectList<T extends object>(): T[] {
  const list: object[] = [PLACEHOLDER];
  list.pop();
  return list as T[];
}
