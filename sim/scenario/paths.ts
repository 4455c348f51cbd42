/*
 * Which scenario values name a file rather than a catalog entry: loading resolves those against
 * the scenario's folder (or the cwd, for --set values), and the readers below read them.
 */

/** A model's config.json path is anything a catalog name could never be. */
export function looksLikePath(name: string): boolean {
  return name.endsWith('.json') || name.includes('/') || name.includes('\\');
}

/** A profile reference is a path when it ends in `.json` or contains a path separator; otherwise it is a shipped profile's name. */
export function isProfilePath(ref: string): boolean {
  return ref.toLowerCase().endsWith('.json') || ref.includes('/') || ref.includes('\\');
}
