// TensorFlow.js with its wasm backend (XNNPACK), single thread.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';

export { tf };
export const tfjsVersion = version_wasm;

let ready: Promise<void> | undefined;

export function tfjsReady(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmDir = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm').replace(/[^/]+$/, '');
    setThreadsCount(1);
    setWasmPaths(wasmDir);
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return ready;
}

/**
 * softmax(q·kᵀ·scale [+ mask])·v. The fastest formulation found here: matMul(q, transpose(k)), since tfjs-wasm
 * sends matMul(q, k, false, true) to a scalar loop instead of XNNPACK.
 */
export function tfAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number, mask?: tf.Tensor): tf.Tensor {
  let s = tf.mul(tf.matMul(q, tf.transpose(k, q.rank === 3 ? [0, 2, 1] : [1, 0])), scale);
  if (mask) s = tf.add(s, mask);
  return tf.matMul(tf.softmax(s), v);
}

/**
 * Runs `fn` in a tidy scope and reads its result outside it. tf.tidy walks whatever its function returns, element by
 * element (for…in over a typed array, each value added to a Set), so returning `dataSync()` from inside a tidy costs
 * far more than the work for large outputs (bench/tfjs-tidy.ts times both ways). This is the documented pattern:
 * tidy returns the tensor, the caller reads and disposes it.
 */
export function tfRun(fn: () => tf.Tensor): Float32Array {
  const t = tf.tidy(fn);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}
