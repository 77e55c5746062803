// Locating, probing and instantiating the wasm, and the Engine that owns one instance and its heap. (Which engine a
// call uses, the default one included, is src/ops/engines.ts's.)
import { AttentionError, badArgument } from './errors.js';
import { supportsRelaxedSimd, supportsSimd } from './features.js';
import { type Kernels, WASM32_BYTES } from './kernels.js';
import { Heap } from './memory.js';
import { isObject, mustBe, positiveInteger, readOptions, thrownError } from './snapshot.js';
import type { Pool } from './threads/thread-jobs.js';
import { autoThreads, prepareThreads, threaded } from './threads/threads.js';
import { packagedWasm, readLocalFile } from './wasm-source.js';

/** The two builds of the same kernels: plain SIMD128, and relaxed SIMD (fused multiply-add). */
export type Build = 'simd' | 'relaxed-simd';

/** Where the wasm comes from: a URL, a fetch Response, the bytes, or a compiled module. */
export type WasmSource =
  string | URL | Response | Promise<Response> | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

export interface InitOptions {
  /** Force a build; by default relaxed-simd where the runtime validates it, else simd. */
  build?: Build;
  /** Load the wasm for the chosen build from here instead of the package's own file. */
  wasm?: WasmSource;
  /** Linear memory is never grown past this (default: 4 GiB less 64 MiB, the wasm32 ceiling less a margin). */
  maxMemoryBytes?: number;
  /** Threads that compute, the caller included: a count, or 'auto' (every core, up to 8). Default 1. */
  threads?: number | 'auto';
}

export interface EngineInfo {
  /** The build that runs. */
  readonly build: Build;
  /** Whether this runtime validates relaxed SIMD at all. */
  readonly relaxedSimdSupported: boolean;
  /** Linear memory is never grown past this many bytes. */
  readonly maxMemoryBytes: number;
  /** Threads that compute now, the caller included (workers that failed to start are not counted). */
  readonly threads: number;
  /**
   * How they share work: 'shared-memory' (one memory: Node, cross-origin-isolated pages), 'workers' (Workers with
   * memories of their own, for async calls: pages without isolation), or 'none' (one thread).
   */
  readonly threading: 'shared-memory' | 'workers' | 'none';
}

/** What the library's internals compute with: one instance's kernels and the heap over its memory. */
export interface Runtime {
  readonly kernels: Kernels;
  readonly heap: Heap;
  /** Workers sharing the memory, where it is shared. */
  readonly pool?: Pool;
}

const DEFAULT_MAX_MEMORY_BYTES = WASM32_BYTES - 64 * 1024 ** 2;

/** An engine's runtime (internal: tests and benchmarks that drive kernels use it too). */
export let runtimeOf: (engine: Engine) => Runtime;
export let isEngine: (v: unknown) => v is Engine;
let makeEngine: (
  exports: WebAssembly.Exports,
  relaxedSimdSupported: boolean,
  maxMemoryBytes: number,
  pool: Pool | undefined,
) => Engine;

/** One instantiated module with its own linear memory. Made by init(), initSync(), createEngine(). */
export class Engine {
  readonly #info: Omit<EngineInfo, 'threads' | 'threading'>;
  readonly #runtime: Runtime;

  private constructor(kernels: Kernels, info: Omit<EngineInfo, 'threads' | 'threading'>, pool: Pool | undefined) {
    this.#info = info;
    const heap = new Heap(kernels.memory, kernels.heap_base() >>> 0, info.maxMemoryBytes);
    this.#runtime = { kernels: pool ? pool.kernels(kernels, heap) : kernels, heap, pool };
  }

  /** What runs: the build, the memory limit, the threads. */
  get info(): EngineInfo {
    const pool = this.#runtime.pool;
    return { ...this.#info, threads: pool?.alive ?? 1, threading: pool?.threading ?? 'none' };
  }

  /**
   * Ends the engine's worker threads; it goes on computing on the calling thread (init({ threads }) starts them
   * again).
   */
  close(): void {
    this.#runtime.pool?.close();
  }

  /** Current size of the linear memory in bytes. */
  memoryBytes(): number {
    return this.#runtime.heap.bytes;
  }

  static {
    runtimeOf = (engine) => engine.#runtime;
    isEngine = (v): v is Engine => isObject(v) && #runtime in v;
    makeEngine = (exports, relaxedSimdSupported, maxMemoryBytes, pool) => {
      // Every build exports this; a module without it is not ours.
      if (!('build_relaxed_simd' in exports)) throw badArgument("options.wasm is not wasm-attention's module");
      const kernels = exports as unknown as Kernels;
      const build: Build = kernels.build_relaxed_simd() ? 'relaxed-simd' : 'simd';
      return new Engine(kernels, { build, relaxedSimdSupported, maxMemoryBytes }, pool);
    };
  }
}

/** An engine request, read and checked: what init/createEngine were asked for. */
export interface Request {
  /** The build asked for, or the runtime's best when none was (undefined when options.wasm decides it). */
  readonly build: Build | undefined;
  readonly maxMemoryBytes: number;
  readonly wasm: WasmSource | undefined;
  readonly relaxedSimdSupported: boolean;
  /** Threads asked for, if any. */
  readonly threads: number | undefined;
}

export function readRequest(v: unknown): Request {
  const o = readOptions('options', v, ['build', 'wasm', 'maxMemoryBytes', 'threads']);
  // More threads than cores only wait for each other; a cap keeps a typo from starting thousands of workers.
  const threads =
    o.threads === 'auto'
      ? autoThreads()
      : o.threads === undefined
        ? undefined
        : Math.min(positiveInteger("options.threads (or 'auto')", o.threads), 256);
  if (!supportsSimd()) throw badArgument('this runtime lacks WebAssembly SIMD128');
  const relaxedSimdSupported = supportsRelaxedSimd();
  const build = o.build as Build | undefined;
  if (build !== undefined && build !== 'simd' && build !== 'relaxed-simd') {
    throw mustBe('options.build', "'simd' or 'relaxed-simd'", build);
  }
  if (build === 'relaxed-simd' && !relaxedSimdSupported) {
    throw badArgument("options.build 'relaxed-simd' needs relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)");
  }
  const max = (o.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES) as number;
  if (!(Number.isFinite(max) && max > 0)) {
    throw mustBe('options.maxMemoryBytes', 'a positive number of bytes', max);
  }
  const wasm = o.wasm as WasmSource | undefined;
  const ok =
    wasm === undefined ||
    typeof wasm === 'string' ||
    wasm instanceof URL ||
    wasm instanceof Promise ||
    wasm instanceof WebAssembly.Module ||
    isBytes(wasm) ||
    (typeof Response !== 'undefined' && wasm instanceof Response);
  if (!ok) throw mustBe('options.wasm', 'a URL, a Response, the bytes or a WebAssembly.Module', wasm);
  const auto = relaxedSimdSupported ? 'relaxed-simd' : 'simd';
  return {
    build: build ?? (wasm === undefined ? auto : undefined),
    maxMemoryBytes: Math.min(max, WASM32_BYTES),
    wasm,
    relaxedSimdSupported,
    threads,
  };
}

export const isBytes = (src: unknown): src is ArrayBuffer | ArrayBufferView =>
  src instanceof ArrayBuffer || ArrayBuffer.isView(src);

/** Failures of loading (a missing file, bytes that do not compile, a failed fetch) as BAD_ARGUMENT. */
function loadError(e: unknown): AttentionError {
  return e instanceof AttentionError ? e : thrownError('loading the wasm failed', e);
}

/** An engine from bytes or a compiled module, instantiated at once (a few tens of KB compile in a ms or two). */
function instantiateNow(src: WasmSource | undefined, req: Request): Engine {
  if (!isBytes(src) && !(src instanceof WebAssembly.Module)) {
    throw badArgument('initSync needs bytes or a WebAssembly.Module');
  }
  // The module imports its memory, up to the limit in 64 KiB pages: shared by threads where the runtime can.
  const pages = Math.max(1, Math.floor(req.maxMemoryBytes / 65536));
  const shared = isBytes(src) ? threaded(src, pages) : undefined;
  const memory = shared ? shared.memory : new WebAssembly.Memory({ initial: 1, maximum: pages });
  const module = shared?.module ?? (isBytes(src) ? new WebAssembly.Module(src as BufferSource) : src);
  const engine = makeEngine(
    // The exports as they are: every kernel takes and returns numbers only (no strings, arrays or classes to lift).
    new WebAssembly.Instance(module, { env: { memory } }).exports,
    req.relaxedSimdSupported,
    req.maxMemoryBytes,
    shared?.pool,
  );
  shared?.pool.resize(req.threads ?? 1);
  if (req.build !== undefined && engine.info.build !== req.build) {
    throw badArgument(`options.build is '${req.build}' but options.wasm holds the '${engine.info.build}' build`);
  }
  return engine;
}

function resolveSource(req: Request): WasmSource {
  const where = req.wasm ?? packagedWasm(req.build!);
  if (typeof where === 'string' || where instanceof URL) {
    let url: URL;
    try {
      url = new URL(where, typeof location === 'undefined' ? undefined : location.href);
    } catch {
      throw mustBe('options.wasm', 'an absolute URL', String(where));
    }
    return readLocalFile(url) ?? fetch(url);
  }
  return where;
}

export async function load(req: Request): Promise<Engine> {
  try {
    await prepareThreads(req.threads);
    const source = await resolveSource(req);
    // Bytes and modules first: touching the Response global makes Node load its fetch implementation (~20 ms).
    if (isBytes(source) || source instanceof WebAssembly.Module) return instantiateNow(source, req);
    const response = source as Response;
    if (!response.ok) throw badArgument(`fetching the wasm failed: ${response.status} for ${response.url}`);
    // compileStreaming insists on Content-Type application/wasm; servers that get it wrong still work.
    const copy = response.clone();
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compileStreaming(response);
    } catch {
      module = await WebAssembly.compile(await copy.arrayBuffer());
    }
    return instantiateNow(module, req);
  } catch (e) {
    throw loadError(e);
  }
}

export function loadSync(req: Request): Engine {
  try {
    return instantiateNow(req.wasm ?? packagedWasm(req.build!), req);
  } catch (e) {
    throw loadError(e);
  }
}
