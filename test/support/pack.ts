// The package as published: `npm pack` of the built tree, installed into a new empty project.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });

export interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

/**
 * Packs the repo (already built: npm test builds first, so prepare is skipped) and installs it into a new project,
 * offline (the package has no dependencies, so the install never asks the registry).
 */
export function installPacked(prefix: string): { packed: Packed; project: string } {
  const dest = mkdtempSync(join(tmpdir(), 'wasm-attention-pack-'));
  const pack = (dir: string) =>
    JSON.parse(
      run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest, dir], repoRoot),
    )[0] as Packed;
  const packed = pack('.');
  const project = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', version: '1.0.0', private: true }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dest, packed.filename)], project);
  return { packed, project };
}
