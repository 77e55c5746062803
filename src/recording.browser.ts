// The browser entry's recording: none yet (no threads there to run recorded steps), so an async call is its sync
// call, made at once, its result or error delivered as a promise. Same exports as src/recording.ts.
import type { Heap } from './memory.js';
import type { Place, Recording } from './recording.js';

export type { Place, Step, StepRunner } from './recording.js';
export const recordingOn = (_heap: Heap): Recording | undefined => undefined;
export const afterSteps = (_heap: Heap, fn: () => void): void => fn();
export const recordOn = (_at: Place): void => {};
export const recorded = async <T>(body: () => T, _on?: Place): Promise<T> => body();
