// Where the package's own .wasm comes from: in Node, the package's file, read synchronously; elsewhere, its URL.
// (The browser entry swaps this file for wasm-source.embedded.ts.)
import { wasmUrl } from '../package-files.js';
import type { Build, WasmSource } from './engine.js';
import { builtin } from './node-builtins.js';

interface NodeFs {
  readFileSync(path: URL): Uint8Array;
}

/** node:fs when running in Node (or a runtime that is Node-compatible); a browser bundle has no `builtin`. */
function nodeFs(): NodeFs | undefined {
  return (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
    ? builtin?.<NodeFs>('node:fs')
    : undefined;
}

/** The bytes in Node, else the URL to fetch. */
export function packagedWasm(build: Build): WasmSource {
  const url = wasmUrl(build);
  return nodeFs()?.readFileSync(url) ?? url;
}

/** Reads a file: URL in Node (for init({ wasm: 'file:…' })); undefined elsewhere. */
export function readLocalFile(url: URL): Uint8Array | undefined {
  return url.protocol === 'file:' ? nodeFs()?.readFileSync(url) : undefined;
}
