// What runs in other people's pages: no eval or Function constructor anywhere in the shipped code.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const files = (dir: URL, ext: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => new URL(f, dir));

describe('security', () => {
  it('src/ and dist/ contain no eval and no new Function', () => {
    const all = [
      ...files(new URL('../src/', import.meta.url), '.ts'),
      ...files(new URL('../dist/', import.meta.url), '.js'),
    ];
    expect(all.length).toBeGreaterThan(40);
    for (const f of all) {
      const text = readFileSync(f, 'utf8');
      expect(text, f.pathname).not.toMatch(/\beval\s*\(|new\s+Function\s*\(/);
    }
  });
});
