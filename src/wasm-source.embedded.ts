// The browser entry's wasm source: both builds inline as base64, so nothing is fetched and nothing is copied.
import type { Build, WasmSource } from './engine.js';
import { RELAXED_SIMD, SIMD } from './generated/wasm-base64.js';

const decode = (base64: string): Uint8Array => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

export function packagedWasm(build: Build): WasmSource {
  return decode(build === 'simd' ? SIMD : RELAXED_SIMD);
}

export function readLocalFile(): Uint8Array | undefined {
  return undefined;
}
