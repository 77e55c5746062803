// The browser entry's wasm source: both builds inline as base64, so nothing is fetched and nothing is copied.
import type { Build, WasmSource } from './engine.js';
import { RELAXED_SIMD, SIMD } from './generated/wasm-base64.js';

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
  return decodeBase64(build === 'simd' ? SIMD : RELAXED_SIMD);
}

export function readLocalFile(): Uint8Array | undefined {
  return undefined;
}
