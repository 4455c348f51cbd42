import { basename } from 'node:path';

/**
 * An error caused by the user's input (scenario, trace, flags). The CLI prints its message
 * as one line and exits non-zero, without a stack trace. Anything else is a bug and keeps its stack.
 */
export class InfersimError extends Error {
  override readonly name = 'InfersimError';
}

/** `field: problem, got value` — the one shape every input error takes. */
export function fieldError(field: string, problem: string, got?: unknown): InfersimError {
  const shown = got === undefined ? '' : `, got ${formatValue(got)}`;
  return new InfersimError(`${field}: ${problem}${shown}`);
}

/**
 * `conv.csv line 17: GeneratedTokens must be ..., got "abc"`. Line numbers are the file's own
 * (header = line 1), so an editor's "go to line" lands on the bad row.
 */
export function rowError(file: string, line: number, problem: string, got?: unknown): InfersimError {
  const shown = got === undefined ? '' : `, got ${formatValue(got)}`;
  return new InfersimError(`${basename(file)} line ${line}: ${problem}${shown}`);
}

/** How much of a value an error message echoes: enough to recognise it, never the whole of a huge one. */
export const MAX_SHOWN_CHARS = 120;

/**
 * A value as an error message shows it: strings quoted, others as JSON, cut to MAX_SHOWN_CHARS
 * with an ellipsis and the full length (`"aaaa…" (52,428,800 characters)`).
 */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return clipped(value, true);
  if (value === null || typeof value !== 'object') return String(value);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // Circular, or nested past the stack: the type is all that can be said cheaply.
  }
  return json === undefined ? (Array.isArray(value) ? '[…]' : '{…}') : clipped(json, false);
}

/** A path or other text put into a message as is, bounded like formatValue's values. */
export function shownText(text: string): string {
  return clipped(text, false);
}

function clipped(text: string, quoted: boolean): string {
  // Control characters escaped as JSON does: a newline in a path must not split the one-line message.
  const show = (t: string): string => (quoted ? JSON.stringify(t) : t.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1)));
  if (text.length <= MAX_SHOWN_CHARS) return show(text);
  // Cut at a code point, not inside a surrogate pair.
  const head = Array.from(text.slice(0, MAX_SHOWN_CHARS)).slice(0, -1).join('');
  const cut = quoted ? `${show(head).slice(0, -1)}…"` : `${show(head)}…`;
  return `${cut} (${text.length.toLocaleString('en-US')} characters)`;
}

const MAX_GUESS_CHARS = 64;

/** The closest candidate by edit distance, when it is close enough to be a plausible typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  // Edit distance costs length × length per candidate; no name is this long, so no guess is lost.
  if (input.length > MAX_GUESS_CHARS) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  const tolerance = Math.max(2, Math.floor(input.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * `field: unknown value "x" (did you mean "y"?); known: a, b, c`. A known name the input
 * abbreviates wins over the edit-distance guess: for "h100" edit distance alone suggests "a10g"
 * (2 edits) over "h100-sxm" (4), and "a100-80gb" is too far from "a100-sxm-80gb" for any guess.
 * An abbreviation is a prefix of the name, or a subset of its dash-separated parts; the order of
 * `known` decides among several, so catalogs list the most common variant first.
 */
export function unknownNameError(field: string, value: string, known: readonly string[]): InfersimError {
  const guess = value.length > MAX_GUESS_CHARS ? undefined : (abbreviated(value, known) ?? didYouMean(value, known));
  const hint = guess ? ` (did you mean ${JSON.stringify(guess)}?)` : '';
  return new InfersimError(`${field}: unknown value ${formatValue(value)}${hint}; known: ${known.join(', ')}`);
}

function abbreviated(value: string, known: readonly string[]): string | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === '') return undefined;
  const parts = lower.split('-');
  return (
    known.find((name) => name.toLowerCase().startsWith(lower)) ??
    known.find((name) => {
      const nameParts = name.toLowerCase().split('-');
      return parts.every((part) => nameParts.includes(part));
    })
  );
}
