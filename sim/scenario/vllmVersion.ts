import { z } from 'zod';

/**
 * vLLM releases a scenario may name (engine.vllm_version): minor versions, as behaviour changes
 * between them and not within. The oldest is the first with the paged V0 scheduler's defaults this
 * project models; the newest is what the defaults follow when a scenario names none.
 */
export const OLDEST_VLLM_MINOR = 2;
export const CURRENT_VLLM_VERSION = '0.19';
const CURRENT_MINOR = 19;

/** The (minor, patch) of a version string: "0.6" → [6, 0], "0.6.5" → [6, 5] (every release so far is 0.x). */
export function vllmRelease(version: string): [minor: number, patch: number] {
  const m = RELEASE.exec(version);
  if (m === null) throw new Error(`not a vLLM release: ${JSON.stringify(version)}`);
  return [Number(m[1]), m[2] === undefined ? 0 : Number(m[2])];
}

/** "0.<minor>[.<patch>]" and any suffix after a dot, plus or minus ("0.6.3.post1", "0.19.0rc1", "0.6+cu121"). */
const RELEASE = /^0\.(\d+)(?:\.(\d+))?(?:[.+-][A-Za-z0-9.+-]*|rc\d+)?$/;

/** The minor number of a version string ("0.6.5" → 6). */
export function vllmMinor(version: string): number {
  return vllmRelease(version)[0];
}

/** Whether `version` is at least 0.`minor`.`patch`. */
export function atLeast(version: string, minor: number, patch = 0): boolean {
  const [m, p] = vllmRelease(version);
  return m > minor || (m === minor && p >= patch);
}

/**
 * A version as written: "0.6", "0.6.3" or "0.10.1.post1". Strings only: YAML reads 0.10 as the
 * number 0.1, which would name another release, so a number is refused with the quoted form.
 */
export const vllmVersionSchema = z.custom<string>().superRefine((v, ctx) => {
  if (typeof v === 'number') {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'must be a quoted version string: YAML and --set read 0.10 as the number 0.1; write "0.10" (in a shell: --set \'engine.vllm_version="0.10"\')',
    });
    return;
  }
  const m = typeof v === 'string' ? RELEASE.exec(v) : null;
  const minor = m === null ? NaN : Number(m[1]);
  if (!(minor >= OLDEST_VLLM_MINOR && minor <= CURRENT_MINOR)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a vLLM release from "0.${OLDEST_VLLM_MINOR}" to "${CURRENT_VLLM_VERSION}" (major.minor, a patch allowed)` });
  }
});

/** "0.6.3.post1" → "0.6.3", "0.6" → "0.6": the form the resolved scenario records (a patch only when given). */
export function normalVllmVersion(given: string): string {
  const m = RELEASE.exec(given) as RegExpExecArray;
  return m[2] === undefined ? `0.${m[1]}` : `0.${m[1]}.${m[2]}`;
}
