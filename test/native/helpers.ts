import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cli/cli.js';

export const BUILD = join(ROOT, 'native', 'build');
export const PROBE = join(BUILD, 'infersim-probe');
export const ADDON = join(BUILD, 'infersim_native.node');

export function hasNvcc(): boolean {
  const r = spawnSync('sh', ['-c', 'command -v nvcc || test -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc"'], { encoding: 'utf8' });
  return r.status === 0;
}

/** The standalone probe: built by `npm ci` where nvcc exists; built here if not yet; undefined without nvcc. */
export function probeBinary(): string | undefined {
  if (existsSync(PROBE)) return PROBE;
  if (!hasNvcc()) return undefined;
  const r = spawnSync('make', ['-C', join(ROOT, 'native'), '-j2', 'probe'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make -C native probe failed:\n${r.stdout}\n${r.stderr}`);
  return PROBE;
}

export function runProbe(bin: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
