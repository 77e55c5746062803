// The browser entry's threads: none yet (one thread; engine.info.threading says 'none').
import type { Pool } from './thread-jobs.js';

export const autoThreads = (): number => 1;
export const THREADING = 'none';
export const threaded = (_bytes: ArrayBuffer | ArrayBufferView, _maximumPages: number): { module: WebAssembly.Module; memory: WebAssembly.Memory; pool: Pool } | undefined => undefined;
export const prepareThreads = async (_threads: number | undefined): Promise<void> => {};
