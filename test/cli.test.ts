// `npm start` as a newcomer sees it: the built CLI, in its own node process.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { BUILD, nodeFlags } from './helpers.js';

it('the demo shows the build, the seed example, both heatmaps and the timing', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const out = execFileSync(process.execPath, [...nodeFlags(), cli, 'demo'], { encoding: 'utf8', timeout: 60_000 });
  expect(out).toMatch(new RegExp(`^build: ${BUILD} `, 'm'));
  expect(out).toContain('Output shape: [2, 10, 64]');
  expect(out).toContain('Attention weights: [2, 10, 10]');
  expect(out).toContain('Attention heatmap of "The cat sat on the mat"');
  expect(out).toMatch(/^The │ .*│$/m);
  // The causal map's first row sees only "The": one shaded cell, the rest blank.
  const causal = out.split(', causal')[1];
  expect(causal).toMatch(/^The │ ███ {26}│$/m);
  expect(out).toMatch(/^head 1 +head 2$/m);
  expect(out).toMatch(/^head 3 +head 4$/m);
  expect(out).toMatch(/SDPA 512×64\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+×/);
  expect(out).toMatch(new RegExp(`^build: ${BUILD}; the repository's \`npm run bench\``, 'm'));
  // Every map (two single-head maps, four heads) has its axes named and its scale under it; untrained weights say so.
  expect(out.match(/keys → {2}\(queries ↓\)/g)).toHaveLength(6);
  expect(out.match(/attention weight, blank 0:/g)).toHaveLength(6);
  expect(out.match(/░ <\.375 ▒ <\.625 ▓ <\.875 █ ≤1/g)).toHaveLength(6);
  expect(out.match(/[Uu]ntrained/g)).toHaveLength(2);
  // It fits an 80-column terminal.
  expect(out.split('\n').filter((line) => [...line].length > 80)).toEqual([]);
});
