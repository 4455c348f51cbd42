import { InfersimError, unknownNameError } from '../errors.js';

/**
 * `unknownNameError`, but a catalog name the input abbreviates wins over the edit-distance
 * guess: for "h100" edit distance alone suggests "a10g" (2 edits) over "h100-sxm" (4), and
 * "a100-80gb" is too far from "a100-sxm-80gb" for any guess. An abbreviation is a prefix of the
 * name, or a subset of its dash-separated parts. Catalog order decides among several matches,
 * so catalogs list the most common variant first.
 * Belongs in sim/errors.ts; lives here until that file adopts abbreviation matching.
 */
export function unknownCatalogName(field: string, value: string, known: readonly string[]): InfersimError {
  const guess = abbreviated(value, known);
  if (guess === undefined) return unknownNameError(field, value, known);
  return new InfersimError(
    `${field}: unknown value ${JSON.stringify(value)} (did you mean ${JSON.stringify(guess)}?); known: ${known.join(', ')}`,
  );
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
