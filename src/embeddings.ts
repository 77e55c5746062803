// Deterministic token embeddings for the demos: the same sentence always gives the same vectors.
import { mulberry32, normal } from './modules/random.js';
import type { Tensor } from './ops/tensor.js';

/** FNV-1a of a string: a stable seed per token. */
function hashToken(token: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Deterministic embeddings: a random vector per lower-cased token (so "The" and "the" share one) plus a
 * sinusoidal position code, as a transformer's input would be.
 */
export function embedTokens(tokens: readonly string[], dim: number): Tensor {
  const data = new Float32Array(tokens.length * dim);
  tokens.forEach((tok, p) => {
    const v = normal(mulberry32(hashToken(tok.toLowerCase())), dim);
    for (let i = 0; i < dim; i++) {
      const freq = 1 / 10000 ** ((2 * Math.floor(i / 2)) / dim);
      const pos = i % 2 === 0 ? Math.sin(p * freq) : Math.cos(p * freq);
      data[p * dim + i] = v[i] + 0.5 * pos;
    }
  });
  return { data, shape: [tokens.length, dim] };
}
