// The browser entry's wasm source: both builds inline (the relaxed one as a delta), so nothing is fetched or copied.
import type { Build, WasmSource } from './engine.js';
import { RELAXED_SIMD_DELTA, SIMD } from '../generated/wasm-base64.js';
import { applyDelta } from './wasm-delta.js';

type Base64Decoder = { fromBase64?: (base64: string) => Uint8Array };

/** Native decoding where the runtime has it (Chromium 140+, Firefox 133+, Safari 18.2+): a few ms faster at start. */
export function decodeBase64(base64: string): Uint8Array {
  if ((Uint8Array as Base64Decoder).fromBase64) return (Uint8Array as Base64Decoder).fromBase64!(base64);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function packagedWasm(build: Build): WasmSource {
  const simd = decodeBase64(SIMD);
  return build === 'simd' ? simd : applyDelta(simd, decodeBase64(RELAXED_SIMD_DELTA));
}

export function readLocalFile(): Uint8Array | undefined {
  return undefined;
}
