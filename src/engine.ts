// Locating, probing and instantiating the wasm; the Engine that owns one instance and its heap.
import { instantiate, instantiateSync } from '@assemblyscript/loader';
import { AttentionError, badArgument } from './errors.js';
import { supportsRelaxedSimd, supportsSimd } from './features.js';
import type { Kernels } from './kernels.js';
import { Heap } from './memory.js';
import { packagedWasm, readLocalFile } from './wasm-source.js';

/** The two builds of the same kernels: plain SIMD128, and relaxed SIMD (fused multiply-add). */
export type Build = 'simd' | 'relaxed-simd';

/** Where the wasm comes from: a URL, a fetch Response, the bytes, or a compiled module. */
export type WasmSource = string | URL | Response | Promise<Response> | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

export interface InitOptions {
  /** Force a build; by default relaxed-simd where the runtime validates it, else simd. */
  build?: Build;
  /** Load the wasm for the chosen build from here instead of the package's own file. */
  wasm?: WasmSource;
  /** Linear memory is never grown past this (default: 4 GiB less 64 MiB, the wasm32 ceiling less a margin). */
  maxMemoryBytes?: number;
}

export interface EngineInfo {
  /** The build that runs. */
  readonly build: Build;
  /** Whether this runtime validates relaxed SIMD at all. */
  readonly relaxedSimdSupported: boolean;
}

const WASM32_MAX_BYTES = 4 * 1024 ** 3;
const DEFAULT_MAX_MEMORY_BYTES = WASM32_MAX_BYTES - 64 * 1024 ** 2;

/** One instantiated module: its kernels, its linear memory and the heap over it. */
export class Engine {
  readonly info: EngineInfo;
  readonly kernels: Kernels;
  readonly heap: Heap;

  constructor(exports: WebAssembly.Exports, info: EngineInfo, maxMemoryBytes: number) {
    this.kernels = exports as unknown as Kernels;
    this.info = Object.freeze({ ...info });
    this.heap = new Heap(this.kernels.memory, this.kernels.heap_base() >>> 0, maxMemoryBytes);
  }

  /** Current size of the linear memory in bytes. */
  memoryBytes(): number {
    return this.heap.bytes;
  }
}

let current: Engine | undefined;
let loading: Promise<Engine> | undefined;
/** Engines loaded from the package's own files with default limits, one per build, so switching is cheap. */
const packaged = new Map<Build, Engine>();

/** The engine that ops use; throws NOT_INITIALIZED before init()/initSync(). */
export function getEngine(): Engine {
  if (!current) {
    throw new AttentionError('NOT_INITIALIZED', 'wasm-attention is not initialised: call `await init()` (or `initSync()`) before using it');
  }
  return current;
}

function chooseBuild(requested: Build | undefined): { build: Build; relaxedSimdSupported: boolean } {
  if (!supportsSimd()) {
    throw badArgument('this WebAssembly runtime does not support SIMD128, which wasm-attention needs');
  }
  const relaxedSimdSupported = supportsRelaxedSimd();
  if (requested !== undefined && requested !== 'simd' && requested !== 'relaxed-simd') {
    throw badArgument(`options.build must be 'simd' or 'relaxed-simd', got ${String(requested)}`);
  }
  if (requested === 'relaxed-simd' && !relaxedSimdSupported) {
    throw badArgument("options.build is 'relaxed-simd' but this runtime does not validate relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)");
  }
  return { build: requested ?? (relaxedSimdSupported ? 'relaxed-simd' : 'simd'), relaxedSimdSupported };
}

function checkMaxMemory(v: unknown): number {
  if (v === undefined) return DEFAULT_MAX_MEMORY_BYTES;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw badArgument(`options.maxMemoryBytes must be a positive number of bytes, got ${String(v)}`);
  }
  return Math.min(v, WASM32_MAX_BYTES);
}

function isBytes(src: unknown): src is ArrayBuffer | ArrayBufferView {
  return src instanceof ArrayBuffer || ArrayBuffer.isView(src);
}

async function resolveSource(src: WasmSource | undefined, build: Build): Promise<WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response> {
  const where = src ?? packagedWasm(build);
  if (typeof where === 'string' || where instanceof URL) {
    const url = new URL(where, typeof location === 'undefined' ? undefined : location.href);
    return readLocalFile(url) ?? fetch(url);
  }
  const ok = where instanceof Promise || where instanceof WebAssembly.Module || isBytes(where) || (typeof Response !== 'undefined' && where instanceof Response);
  if (!ok) {
    throw badArgument(`options.wasm must be a URL, a Response, the bytes or a WebAssembly.Module, got ${Object.prototype.toString.call(where)}`);
  }
  return where as Promise<Response> | WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response;
}

async function load(opts: InitOptions): Promise<Engine> {
  const choice = chooseBuild(opts.build);
  const maxMemoryBytes = checkMaxMemory(opts.maxMemoryBytes);
  const source = await resolveSource(opts.wasm, choice.build);
  let exports: WebAssembly.Exports;
  // Bytes and modules first: touching the Response global makes Node load its fetch implementation (~20 ms).
  if (isBytes(source) || source instanceof WebAssembly.Module) {
    // A few tens of KB compile in a millisecond or two: synchronously is faster than a round of async tasks.
    exports = instantiateSync(source as BufferSource | WebAssembly.Module, {}).instance.exports;
  } else {
    const response = source as Response;
    if (!response.ok) throw badArgument(`fetching the wasm failed: ${response.status} ${response.statusText} for ${response.url}`);
    // instantiateStreaming insists on Content-Type application/wasm; servers that get it wrong still work.
    const copy = response.clone();
    try {
      exports = (await instantiate(response, {})).instance.exports;
    } catch {
      exports = (await instantiate(await copy.arrayBuffer(), {})).instance.exports;
    }
  }
  return new Engine(exports, choice, maxMemoryBytes);
}

/** Whether the engine comes from the package's own .wasm with the default memory limit (so it can be shared). */
const packagedDefaults = (opts: InitOptions): boolean => opts.wasm === undefined && opts.maxMemoryBytes === undefined;

/** An engine that init/initSync can hand back without loading: the current one, or a packaged one of the asked build. */
function reusable(opts: InitOptions): Engine | undefined {
  if (!packagedDefaults(opts)) return undefined;
  if (opts.build === undefined) return current;
  const engine = current?.info.build === opts.build ? current : packaged.get(opts.build);
  if (engine) current = engine;
  return engine;
}

function adopt(engine: Engine, opts: InitOptions): Engine {
  if (packagedDefaults(opts) && !packaged.has(engine.info.build)) packaged.set(engine.info.build, engine);
  current = engine;
  return engine;
}

/**
 * Loads and instantiates the kernels once. Later calls return the same engine; concurrent calls share one
 * instantiation. Asking for the other build makes it the one ops use from then on (each build loads once);
 * another wasm source or memory limit makes a new engine.
 */
export function init(opts: InitOptions = {}): Promise<Engine> {
  if (typeof opts !== 'object' || opts === null) {
    return Promise.reject(badArgument(`init(options) takes an options object, got ${typeof opts}`));
  }
  const ready = reusable(opts);
  if (ready) return Promise.resolve(ready);
  if (packagedDefaults(opts) && opts.build === undefined && loading) return loading;
  const shared = load(opts)
    .then((engine) => adopt(engine, opts))
    .finally(() => {
      if (loading === shared) loading = undefined;
    });
  loading = shared;
  return shared;
}

/**
 * Synchronous init: in Node with no source it reads the packaged file; elsewhere pass the bytes or a compiled
 * WebAssembly.Module (as `initSync(bytes)` or `initSync({ wasm: bytes })`).
 */
export function initSync(opts: InitOptions | ArrayBuffer | ArrayBufferView | WebAssembly.Module = {}): Engine {
  const o: InitOptions = isBytes(opts) || opts instanceof WebAssembly.Module ? { wasm: opts } : opts;
  const ready = reusable(o);
  if (ready) return ready;
  const choice = chooseBuild(o.build);
  const maxMemoryBytes = checkMaxMemory(o.maxMemoryBytes);
  const src = o.wasm ?? packagedWasm(choice.build);
  if (!isBytes(src) && !(src instanceof WebAssembly.Module)) {
    const why = o.wasm === undefined ? 'without options.wasm it has the bytes only in Node and with the browser entry' : `got ${Object.prototype.toString.call(src)}`;
    throw badArgument(`initSync needs the wasm as bytes or a WebAssembly.Module (${why}); pass them, or use await init()`);
  }
  return adopt(new Engine(instantiateSync(src as BufferSource | WebAssembly.Module, {}).instance.exports, choice, maxMemoryBytes), o);
}
