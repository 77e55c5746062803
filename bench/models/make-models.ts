// Writes the ONNX graphs the benchmarks give onnxruntime-web: `npm run bench:models`.
// Deterministic (module weights from initialSelfAttentionWeights with seed 0), so the files are committed.
import { writeFileSync } from 'node:fs';
import { initialSelfAttentionWeights } from '../../src/modules/self-attention.js';
import { attentionOpGraph, matmulGraph, sdpaGraph, selfAttentionGraph } from './graphs.js';
import { type Graph, modelBytes } from './onnx-writer.js';

export const SDPA_LENGTHS = [512, 2048] as const;
export const HEAD_DIM = 64;
export const MATMUL_SIZES = [512, 1024] as const;
export const MODULE_SHAPES = [
  [2, 10, 64],
  [1, 512, 256],
] as const;

export const modelFiles = {
  sdpa: (n: number) => `sdpa_${n}x${HEAD_DIM}.onnx`,
  attentionOp: (n: number, causal: boolean) => `attention_op_${n}x${HEAD_DIM}${causal ? '_causal' : ''}.onnx`,
  matmul: (n: number) => `matmul_${n}.onnx`,
  selfAttention: (b: number, n: number, e: number) => `self_attention_b${b}_s${n}_e${e}.onnx`,
};

function allModels(): Array<[string, Graph]> {
  const out: Array<[string, Graph]> = [];
  for (const n of SDPA_LENGTHS) {
    out.push([modelFiles.sdpa(n), sdpaGraph(n, n, HEAD_DIM, false)]);
    for (const causal of [false, true])
      out.push([modelFiles.attentionOp(n, causal), attentionOpGraph(n, n, HEAD_DIM, causal)]);
  }
  for (const n of MATMUL_SIZES) out.push([modelFiles.matmul(n), matmulGraph(n, n, n)]);
  for (const [b, n, e] of MODULE_SHAPES)
    out.push([modelFiles.selfAttention(b, n, e), selfAttentionGraph(b, n, e, initialSelfAttentionWeights(e, 0))]);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, graph] of allModels()) {
    const bytes = modelBytes(graph);
    writeFileSync(new URL(file, import.meta.url), bytes);
    console.log(`bench/models/${file}  ${bytes.length} bytes`);
  }
}
