// Which engine a call computes on: options.engine, or the default engine that init() and initSync() load; and the
// public ways to make engines, each of which runs the wrapper's code once on a tiny call (so V8 compiles it while
// the engine is made, not in the first call).
import {
  type Engine,
  type InitOptions,
  isBytes,
  isEngine,
  load,
  loadSync,
  readRequest,
  type Request,
  type Runtime,
  runtimeOf,
} from '../runtime/engine.js';
import { AttentionError, badArgument } from '../runtime/errors.js';
import { recordOn } from '../runtime/recording.js';
import { mustBe } from '../runtime/snapshot.js';
import { scaledDotProductAttention } from './ops.js';

/**
 * A new engine, after a tiny call through the wrapper and then the kernels' warm-up. In that order: the warm-up asks
 * V8 for optimising compiles, which run on other threads, and on a machine of few cores they would slow the tiny
 * call's compiling of the wrapper's code if it came second.
 */
function ready(engine: Engine): Engine {
  const t = { data: new Float32Array(4), shape: [1, 4] };
  scaledDotProductAttention(t, t, t, { engine });
  // The kernels once on a small problem (assembly/warm-up.ts), in a block of the heap: under a limit of 1 MiB there
  // may be no room for it, and such an engine starts without it.
  const { kernels, heap } = runtimeOf(engine);
  const bytes = kernels.warm_up_floats() * 4;
  if (heap.maxBytes >= 2 ** 20) heap.scoped([bytes], ([at]) => kernels.warm_up(at));
  return engine;
}

/**
 * The runtime of options.engine, or of the default engine when it is undefined (an async call runs its steps there).
 */
export function runtime(engine: unknown): Runtime {
  if (engine !== undefined && !isEngine(engine)) throw mustBe('options.engine', 'an Engine', engine);
  const rt = runtimeOf((engine as Engine | undefined) ?? getEngine());
  recordOn(rt);
  return rt;
}

let defaultEngine: Engine | undefined;
let pending: { readonly req: Request; readonly engine: Promise<Engine> } | undefined;

/** The engine that ops use without options.engine; throws NOT_INITIALIZED before init()/initSync(). */
export function getEngine(): Engine {
  if (!defaultEngine) {
    throw new AttentionError(
      'NOT_INITIALIZED',
      'wasm-attention is not initialised: call `await init()` or `initSync()` first',
    );
  }
  return defaultEngine;
}

/**
 * The default engine (loaded or loading) if there is one, after checking that `req` asks for what it is: it
 * is one engine, configured once.
 */
function existingDefault(req: Request): Engine | Promise<Engine> | undefined {
  const have = defaultEngine?.info ?? pending?.req;
  if (
    have &&
    ((req.build !== undefined && have.build !== undefined && req.build !== have.build) ||
      req.maxMemoryBytes !== have.maxMemoryBytes)
  ) {
    throw badArgument(
      `the default engine is ${have.build} with maxMemoryBytes ${have.maxMemoryBytes}; for another, use createEngine(options) and pass options.engine`,
    );
  }
  // A thread count is no configuration: asking for another resizes the default engine's pool.
  const engine = defaultEngine ?? pending?.engine;
  const threads = req.threads;
  if (threads)
    Promise.resolve(engine).then(
      (e) => e && runtimeOf(e).pool?.resize(threads),
      () => {},
    );
  return engine;
}

/**
 * Loads the default engine, the one ops use unless given options.engine. The first call sets its options;
 * later and concurrent calls return the same engine (a call asking for another build or memory limit is
 * BAD_ARGUMENT, and the default engine is untouched). After a failed load, the next call tries again.
 */
export async function init(options?: InitOptions): Promise<Engine> {
  // Up to the first await, all of this runs at once: a concurrent call finds `pending` set.
  const req = readRequest(options);
  const existing = existingDefault(req);
  if (existing) return existing;
  const engine = load(req)
    .then((e) => (defaultEngine ??= ready(e)))
    .finally(() => {
      if (pending?.engine === engine) pending = undefined;
    });
  pending = { req, engine };
  return engine;
}

/**
 * Synchronous init: in Node with no source it reads the packaged file; elsewhere pass the bytes or a compiled
 * WebAssembly.Module (as `initSync(bytes)` or `initSync({ wasm: bytes })`). Same rules as init().
 */
export function initSync(options?: InitOptions | ArrayBuffer | ArrayBufferView | WebAssembly.Module): Engine {
  const req = readRequest(isBytes(options) || options instanceof WebAssembly.Module ? { wasm: options } : options);
  existingDefault(req);
  return (defaultEngine ??= ready(loadSync(req)));
}

/** A new engine of its own (own memory, own limit), never the default: pass it to ops as options.engine. */
export async function createEngine(options?: InitOptions): Promise<Engine> {
  return ready(await load(readRequest(options)));
}
