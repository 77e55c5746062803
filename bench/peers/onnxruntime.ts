// onnxruntime-web on the graphs of bench/models (written there by `npm run bench:models`): single thread, or
// ORT_THREADS threads (the threads section runs in a process of its own: ort.env is set once per process).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = Number(process.env.ORT_THREADS ?? 1);
ort.env.logLevel = 'error';

export const ortVersion = ort.env.versions.web;

const modelUrl = (file: string) => new URL(`../models/${file}`, import.meta.url);

/** Sessions made and not yet released. */
const sessions: ort.InferenceSession[] = [];

/**
 * Releases every session made so far: the suite calls it after each workload, so a workload's sessions hold no memory
 * while later ones run, as in a page that runs one model.
 */
export async function releaseSessions(): Promise<void> {
  for (const s of sessions.splice(0)) await s.release();
}

/**
 * A session over a committed model (a file name in bench/models) or model bytes made at run time, called with
 * Float32Arrays; resolves to the first output's data (every output is copied out, as the API does).
 */
export async function ortRunner(
  model: string | Uint8Array,
  inputShapes: Record<string, number[]>,
): Promise<(inputs: Float32Array[]) => Promise<Float32Array>> {
  const session = await ort.InferenceSession.create(typeof model === 'string' ? readFileSync(modelUrl(model)) : model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  sessions.push(session);
  const names = Object.keys(inputShapes);
  const output = session.outputNames[0];
  return async (inputs) => {
    const feeds: Record<string, ort.Tensor> = {};
    names.forEach((n, i) => (feeds[n] = new ort.Tensor('float32', inputs[i], inputShapes[n])));
    const result = await session.run(feeds);
    return result[output].data as Float32Array;
  };
}
