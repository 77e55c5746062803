// Threads in Node: worker_threads sharing the engine's memory (src/runtime/threads/worker-pool.ts). The browser entry
// swaps this file for threads.browser.ts.
import { workerUrl } from '../../package-files.js';
import { AttentionError } from '../errors.js';
import { builtin } from '../node-builtins.js';
import { sharedPool, type StartThread } from './worker-pool.js';

/** What `threads: 'auto'` gives: every core, up to MAX_AUTO_THREADS. */
export const MAX_AUTO_THREADS = 8;
export const autoThreads = (): number =>
  Math.min(builtin!<typeof import('node:os')>('node:os').availableParallelism(), MAX_AUTO_THREADS);

/** Nothing to load before an engine starts threads here. */
export const prepareThreads = async (_threads: number | undefined): Promise<void> => {};

/**
 * Starts worker threads from `script` (the package's thread worker unless given: benchmarks start other builds'),
 * each never keeping the process alive unless asked to (while async calls are pending).
 */
export const nodeThreads =
  (script?: URL | string): StartThread =>
  (init, events) => {
    // No execArgv: a parent started with -e (or other script flags) would run them again in the worker; the V8 flags
    // the module needs (relaxed SIMD on Node 20) are process-wide anyway.
    const { Worker } = builtin!<typeof import('node:worker_threads')>('node:worker_threads');
    // A helper's channel for result arrays goes with its init (transferred: only one thread may hold it).
    const transferList = 'arrays' in init && init.arrays ? [init.arrays] : [];
    const worker = new Worker(script ?? workerUrl(), {
      workerData: init,
      execArgv: [],
      transferList: transferList as never,
    });
    worker.on('message', events.message);
    worker.on('error', events.gone);
    worker.on('exit', () => events.gone());
    // After the listeners: a 'message' listener refs the worker again.
    worker.unref();
    return {
      post: (m, transfer) => worker.postMessage(m, transfer as never),
      terminate: () => void worker.terminate(),
      keepAlive: (on) => (on ? worker.ref() : worker.unref()),
    };
  };

/** The package's own worker threads. */
export const startNodeThread: StartThread = nodeThreads();

/**
 * Tests set `pool` to run engines made next as pages without cross-origin isolation do
 * (src/runtime/threads/replica-pool.ts's replicaPool: Workers with memories of their own), and `start` to start their
 * threads otherwise. Node itself always shares memory, so the replicas' code stays out of Node's bundles.
 */
export const threadingForTests: { pool?: typeof sharedPool; start?: StartThread } = {};

/** The engine's module and memory made shareable, and a pool of worker threads over them (see sharedPool). */
export const threaded = (bytes: ArrayBuffer | ArrayBufferView, maximumPages: number) =>
  (threadingForTests.pool ?? sharedPool)(
    bytes,
    maximumPages,
    threadingForTests.start ?? startNodeThread,
    AttentionError,
    false,
    (port) => builtin!<typeof import('node:worker_threads')>('node:worker_threads').receiveMessageOnPort(port as never),
  );
