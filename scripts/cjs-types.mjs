// Declarations for CommonJS consumers: each .d.ts under dist/ (and the kernels' ABI, build/simd.d.ts) again as
// .d.cts, importing its siblings as .cjs. The .d.ts files are ES modules (the package is "type": "module"),
// and TypeScript before 5.8 refuses to let a CommonJS file require what they describe, even for types; the
// "require" condition points at these instead.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const asCjs = (from, to) =>
  writeFileSync(to, readFileSync(from, 'utf8').replace(/(from |import\()(['"])(\.\.?\/[^'"]+)\.js\2/g, '$1$2$3.cjs$2'));

const dist = new URL('../dist/', import.meta.url);
for (const file of readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.d.ts')))
  asCjs(new URL(file, dist), new URL(file.replace(/\.d\.ts$/, '.d.cts'), dist));
asCjs(new URL('../build/simd.d.ts', import.meta.url), new URL('../build/simd.d.cts', import.meta.url));
