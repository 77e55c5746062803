// The browser entry's recording: the real one (src/runtime/recording.ts) comes with the threads' chunk; until then
// there are no threads to run recorded steps, so an async call is its sync call, made at once, its result or error
// delivered as a promise. Same exports as src/runtime/recording.ts.
import type { Heap } from './memory.js';
import type { Place, Recording } from './recording.js';

export type { Place, Step, StepRunner } from './recording.js';

let real: typeof import('./recording.js') | undefined;
/** Called when the threads' chunk has loaded: from then on its recording is the one. */
export const useRecording = (r: typeof import('./recording.js')): void => void (real = r);

export const recordingOn = (heap: Heap): Recording | undefined => real?.recordingOn(heap);
export const afterSteps = (heap: Heap, fn: () => void): void => (real ? real.afterSteps(heap, fn) : fn());
export const recordOn = (at: Place): void => real?.recordOn(at);
export const outside = <T>(fn: () => T): T => (real ? real.outside(fn) : fn());
export const recorded = <T>(body: () => T, on?: Place): Promise<T> =>
  real ? real.recorded(body, on) : (async () => body())();
