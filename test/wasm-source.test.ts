// The browser entry's inline wasm decodes to the very bytes of build/*.wasm (here through the atob fallback:
// Node 20 has no Uint8Array.fromBase64; Chromium's native path runs in test/browser.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBase64, packagedWasm } from '../src/runtime/wasm-source.embedded.js';

describe('inline wasm', () => {
  it.each(['simd', 'relaxed-simd'] as const)('%s decodes to build/%s.wasm', (build) => {
    const file = new Uint8Array(readFileSync(new URL(`../build/${build}.wasm`, import.meta.url)));
    expect(packagedWasm(build)).toEqual(file);
  });

  it('decodes every byte value and padding length', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const n of [0, 1, 2, 3, 256])
      expect(decodeBase64(Buffer.from(all.subarray(0, n)).toString('base64'))).toEqual(all.subarray(0, n));
  });
});
