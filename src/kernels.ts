// The wasm ABI, argument by argument. Pointers are byte addresses (unsigned), strides are in elements,
// booleans are 0/1. The contracts are the doc comments in assembly/.

/** Mask kinds understood by the kernels (assembly/mask.ts). */
export const MaskKind = { none: 0, add: 1, keep: 2 } as const;
export type MaskKindCode = (typeof MaskKind)[keyof typeof MaskKind];

export interface Kernels {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  /** Floats of scratch that f32_gemm / f32_gemm_pack need for op(B) of n columns and depth k. */
  f32_gemm_packed_floats(n: number, k: number): number;
  /** C = alpha·A·op(B) + bias over `batch` items (assembly/gemm.ts). */
  f32_gemm(
    batch: number, m: number, n: number, k: number,
    a: number, lda: number, strideA: number,
    b: number, ldb: number, strideB: number, bTransposed: number,
    c: number, ldc: number, strideC: number,
    alpha: number, bias: number, packed: number,
  ): void;
  /** Packs op(B) and bias once, for resident weights. */
  f32_gemm_pack(n: number, k: number, b: number, ldb: number, bTransposed: number, bias: number, packed: number): void;
  /** f32_gemm with op(B) and bias already packed. */
  f32_gemm_prepacked(
    batch: number, m: number, n: number, k: number,
    a: number, lda: number, strideA: number,
    packed: number,
    c: number, ldc: number, strideC: number,
    alpha: number,
  ): void;
  /** y = softmax(x·scale + mask) per row, keys past the causal limit hidden (assembly/softmax.ts). */
  f32_softmax_rows(
    rows: number, n: number, x: number, ldx: number, y: number, ldy: number, scale: number,
    maskKind: number, mask: number, maskLdr: number, maskLdc: number, causalOffset: number,
  ): void;
  /** y = e^x elementwise. */
  f32_exp(n: number, x: number, y: number): void;
  /** W = softmax(Q·Kᵀ·scale + mask), O = W·V over `batch` items (assembly/attention.ts). */
  f32_attention_weights(
    batch: number, lq: number, lk: number, dk: number, dv: number,
    q: number, ldq: number, strideQ: number,
    k: number, ldk: number, strideK: number,
    v: number, ldv: number, strideV: number,
    o: number, ldo: number, strideO: number,
    w: number, strideW: number,
    scale: number,
    maskKind: number, mask: number, maskLdr: number, maskLdc: number, strideMask: number,
    causal: number, packed: number,
  ): void;
}
