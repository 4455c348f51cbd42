/**
 * +0, held as a heap number rather than a small integer. V8 gives an object's field the
 * representation of the first number stored in it: a time or a sum that starts at a literal 0 is
 * kept as a small integer until its first fraction, and that store replaces the object's map,
 * which throws away every optimised function that had read the field. Mid-run that is a
 * recompilation; between a run and its band re-runs it is worse: the re-runs' objects come with the
 * new map, and the step code they share with the main run starts again from the interpreter.
 * A field first set to DOUBLE_ZERO is a double from the object's construction on. Its value is
 * +0 in every respect (`Object.is(DOUBLE_ZERO, 0)`), so outputs cannot change.
 */
const HALF = Number.parseFloat('0.5');
export const DOUBLE_ZERO: number = HALF - HALF;
