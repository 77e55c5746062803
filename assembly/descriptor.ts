// The attention kernels' descriptor: what they work on, written into linear memory by the wrapper
// (src/ops/attention.ts, in this field order) instead of thirty positional arguments.

/**
 * One attention pass over `batch` items: Q (lq × dk, row stride ldq), K (lk × dk, ldk), V (lk × dv, ldv), O
 * (lq × dv, ldo), and for the weights path W (lq × lk, row stride lk). Pointers are byte addresses; strides are
 * in elements, and each operand's batch stride may be 0 to reuse one matrix. Two masks, each a kind
 * (assembly/mask.ts), a byte pointer, row, column and batch strides (kind MASK_NONE for none), are added to the
 * scaled scores. causal (0 or 1): key j hidden from query i when j > i + (lk − lq).
 * Work is cut into units of unitRows query rows of one item (unit u: item u / ⌈lq / unitRows⌉): a kernel call
 * computes units [begin, end), so callers can split a pass between calls (threads), each with its own scratch.
 * With unitRows a multiple of MR, or lq, rows fall into the same MR-row tiles however the units are cut, so every
 * output element is bit-for-bit the same whatever the split.
 * packedK (fused kernel only; 0 for none): K already packed as f32_gemm_pack(lk, dk, k, ldk, true) panels, one
 * packing per item (at packedK + b · f32_gemm_packed_floats(lk, dk) floats; just one when strideK is 0), so that
 * calls sharing a pass do not each pack it again.
 */
@unmanaged export class AttentionDesc {
  batch: i32;
  lq: i32;
  lk: i32;
  dk: i32;
  dv: i32;
  unitRows: i32;
  q: usize;
  ldq: i32;
  strideQ: i32;
  k: usize;
  ldk: i32;
  strideK: i32;
  v: usize;
  ldv: i32;
  strideV: i32;
  o: usize;
  ldo: i32;
  strideO: i32;
  w: usize;
  strideW: i32;
  scale: f32;
  maskKind: i32;
  mask: usize;
  maskLdr: i32;
  maskLdc: i32;
  strideMask: i32;
  mask2Kind: i32;
  mask2: usize;
  mask2Ldr: i32;
  mask2Ldc: i32;
  strideMask2: i32;
  causal: i32;
  packedK: usize;
}

/** Work units of a pass: ⌈lq / unitRows⌉ per item. */
@inline export function unitsPerItem(d: AttentionDesc): i32 {
  return (d.lq + d.unitRows - 1) / d.unitRows;
}

/**
 * Byte offset of each field, in declaration order, into `out` (one i32 each); returns the descriptor's size.
 * The wrapper's layout test checks that the fields are 4 bytes apart in the order it writes them.
 */
export function attention_desc_layout(out: usize): i32 {
  // Stores, not an array: the stub runtime's allocator would take memory the wrapper's heap owns.
  store<i32>(out, <i32>offsetof<AttentionDesc>("batch"), 0);
  store<i32>(out, <i32>offsetof<AttentionDesc>("lq"), 4);
  store<i32>(out, <i32>offsetof<AttentionDesc>("lk"), 8);
  store<i32>(out, <i32>offsetof<AttentionDesc>("dk"), 12);
  store<i32>(out, <i32>offsetof<AttentionDesc>("dv"), 16);
  store<i32>(out, <i32>offsetof<AttentionDesc>("unitRows"), 20);
  store<i32>(out, <i32>offsetof<AttentionDesc>("q"), 24);
  store<i32>(out, <i32>offsetof<AttentionDesc>("ldq"), 28);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideQ"), 32);
  store<i32>(out, <i32>offsetof<AttentionDesc>("k"), 36);
  store<i32>(out, <i32>offsetof<AttentionDesc>("ldk"), 40);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideK"), 44);
  store<i32>(out, <i32>offsetof<AttentionDesc>("v"), 48);
  store<i32>(out, <i32>offsetof<AttentionDesc>("ldv"), 52);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideV"), 56);
  store<i32>(out, <i32>offsetof<AttentionDesc>("o"), 60);
  store<i32>(out, <i32>offsetof<AttentionDesc>("ldo"), 64);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideO"), 68);
  store<i32>(out, <i32>offsetof<AttentionDesc>("w"), 72);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideW"), 76);
  store<i32>(out, <i32>offsetof<AttentionDesc>("scale"), 80);
  store<i32>(out, <i32>offsetof<AttentionDesc>("maskKind"), 84);
  store<i32>(out, <i32>offsetof<AttentionDesc>("mask"), 88);
  store<i32>(out, <i32>offsetof<AttentionDesc>("maskLdr"), 92);
  store<i32>(out, <i32>offsetof<AttentionDesc>("maskLdc"), 96);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideMask"), 100);
  store<i32>(out, <i32>offsetof<AttentionDesc>("mask2Kind"), 104);
  store<i32>(out, <i32>offsetof<AttentionDesc>("mask2"), 108);
  store<i32>(out, <i32>offsetof<AttentionDesc>("mask2Ldr"), 112);
  store<i32>(out, <i32>offsetof<AttentionDesc>("mask2Ldc"), 116);
  store<i32>(out, <i32>offsetof<AttentionDesc>("strideMask2"), 120);
  store<i32>(out, <i32>offsetof<AttentionDesc>("causal"), 124);
  store<i32>(out, <i32>offsetof<AttentionDesc>("packedK"), 128);
  return <i32>offsetof<AttentionDesc>();
}
