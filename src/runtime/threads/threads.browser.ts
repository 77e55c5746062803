// The browser entry's threads, from a file (dist/browser-pool.js) loaded when an engine first asks for more than one
// thread: in a cross-origin-isolated page, Workers over one shared memory; elsewhere, Workers with memories of their
// own for async calls. Where that file or the Worker's cannot load, one thread, and engine.info says so.
import { AttentionError } from '../errors.js';
import { useRecording } from '../recording.browser.js';

// Files beside this one, written as bundlers (Vite, webpack 5) recognise them: the pool as an asset they emit (it
// is over Vite's 4 KB limit for inlining, which a data: URL would break), the Worker as an entry they bundle. Both
// are made only when needed: a script bundled without import.meta (esbuild's default iife) never makes them.
const newWorker = () => new Worker(new URL('./thread-worker.browser.js', import.meta.url), { type: 'module' });

let chunk: typeof import('./browser-pool.js') | undefined;

export const autoThreads = (): number => Math.min(navigator.hardwareConcurrency || 1, 8);

/** Loads the pool where threads are asked for and memory can be shared; a load that fails leaves one thread. */
export async function prepareThreads(threads: number | undefined): Promise<void> {
  if ((threads ?? 1) < 2) return;
  try {
    chunk = await import(
      /* @vite-ignore */ /* webpackIgnore: true */ new URL('./browser-pool.js', import.meta.url).href
    );
    useRecording(chunk!.recording);
  } catch {
    // No pool file where the bundle put this one (a bundler that does not emit assets): one thread.
  }
}

/** A memory and a pool over it once the pool is loaded; undefined before (one thread). */
export const threaded = (bytes: ArrayBuffer | ArrayBufferView, maximumPages: number) =>
  chunk?.threaded(bytes, maximumPages, newWorker, AttentionError);
