// The decode step that bench/threads-ab.mjs and bench/async-stream.mjs time: MultiHeadAttention 768 wide, 12 heads,
// `kv` kv heads, 1024 tokens cached on `engine` of the library `lib`; each call appends one token and cuts the cache
// back to 1024, returning the step's output data.
export function decodeStep(lib, engine, kv, needWeights = false) {
  const E = 768;
  const m = new lib.MultiHeadAttention(E, 12, { engine, seed: 1, numKVHeads: kv });
  const cache = m.createCache({ batch: 1, maxLength: 1025 });
  m.forwardStep({ data: Float32Array.from({ length: 1024 * E }, (_, i) => Math.sin(i)), shape: [1, 1024, E] }, cache);
  const token = { data: Float32Array.from({ length: E }, (_, i) => Math.sin(i * 0.37)), shape: [1, 1, E] };
  const options = { needWeights };
  return {
    sync: () => {
      const { output } = m.forwardStep(token, cache, options);
      cache.truncate(1024);
      return output.data;
    },
    async: async () => {
      const { output } = await m.forwardStepAsync(token, cache, options);
      cache.truncate(1024);
      return output.data;
    },
  };
}
