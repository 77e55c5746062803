// The tests run what build/ and dist/ hold. After an edit to src/ or assembly/ without a build, they would test the
// old code and say nothing: fail at once instead, saying to build (`npm test` builds first).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The newest modification time of the .ts files under `dir` (src/generated is written by the build itself). */
function newest(dir: string): { at: number; file: string } {
  let best = { at: 0, file: '' };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path.endsWith(join('src', 'generated'))) continue;
      const inner = newest(path);
      if (inner.at > best.at) best = inner;
    } else if (entry.name.endsWith('.ts')) {
      const at = statSync(path).mtimeMs;
      if (at > best.at) best = { at, file: path };
    }
  }
  return best;
}

export default function checkBuild(): void {
  const outputs = [
    'build/simd.wasm',
    'build/relaxed-simd.wasm',
    'dist/index.js',
    'dist/browser.js',
    'dist/thread-worker.js',
    'dist/wasm-attention.min.js',
  ];
  const missing = outputs.filter((f) => !existsSync(join(root, f)));
  if (missing.length) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first (\`npm test\` does)`);
  const built = Math.min(...outputs.map((f) => statSync(join(root, f)).mtimeMs));
  const source = [newest(join(root, 'src')), newest(join(root, 'assembly'))].sort((a, b) => b.at - a.at)[0];
  if (source.at > built) {
    throw new Error(
      `${source.file.slice(root.length)} changed after the last build, and the tests run build/ and dist/: run \`npm run build\` first (\`npm test\` does)`,
    );
  }
}
