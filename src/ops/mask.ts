// Causal masks, and how a user's mask becomes the (kind, strides) layout the kernels read.
import { outOfMemory, shapeMismatch } from '../runtime/errors.js';
import { MaskKind, type MaskKindCode, WASM32_BYTES } from '../runtime/kernels.js';
import { formatShape, isCount, type MaskSnapshot, mustBe, typedArrayName } from '../runtime/snapshot.js';
import type { Tensor } from './tensor.js';

/** PyTorch's causal mask: `[n, n]`, 0 on and below the diagonal, -Infinity above (torch.triu(ones, 1) → -inf). */
export function createCausalMask(n: number): Tensor {
  if (!isCount(n)) {
    throw mustBe('createCausalMask(n): n', 'a non-negative integer', n);
  }
  const bytes = n * n * 4;
  const tooBig = () => outOfMemory(`createCausalMask(${n}) needs ${bytes} bytes; { causal: true } needs none`);
  if (bytes > WASM32_BYTES) throw tooBig();
  let data: Float32Array;
  try {
    data = new Float32Array(n * n);
  } catch {
    throw tooBig();
  }
  for (let i = 0; i < n; i++) data.fill(-Infinity, i * n + i + 1, (i + 1) * n);
  return { data, shape: [n, n] };
}

/** A mask as the kernels read it: element kind, row and column strides, and its own leading dims. */
export interface MaskLayout {
  readonly kind: MaskKindCode;
  readonly tensor: MaskSnapshot;
  /** Leading dims of the mask beyond its last two (broadcast against the batch). */
  readonly lead: readonly number[];
  readonly matrixSize: number;
  readonly ldr: number;
  readonly ldc: number;
}

/** MaskKind of a mask's data: float32 is added; Uint8Array keeps where 1 ('keep') or hides where 1 ('hide'). */
export const maskKind = (t: MaskSnapshot, bools: 'keep' | 'hide'): MaskKindCode =>
  typedArrayName(t.data) === 'Float32Array' ? MaskKind.add : MaskKind[bools];

/**
 * Checks a mask against scores of shape [...batch, lq, lk]: float32 data is added to the scores; Uint8Array
 * data is a keep-mask (1 = may attend, PyTorch SDPA) or, with bools = 'hide', a hide-mask (1 = not allowed,
 * nn.MultiheadAttention). Its shape must broadcast to the scores' without enlarging them.
 */
export function maskLayout(
  t: MaskSnapshot,
  batch: readonly number[],
  lq: number,
  lk: number,
  bools: 'keep' | 'hide' = 'keep',
  shape = t.shape,
): MaskLayout {
  const full = shape.length === 1 ? [1, ...shape] : shape;
  const rank = full.length;
  const [mq, mk] = full.slice(-2);
  const lead = full.slice(0, -2);
  const leadOk =
    rank >= 2 &&
    rank <= batch.length + 2 &&
    lead.every((d, i) => d === 1 || d === batch[batch.length - lead.length + i]);
  if (!leadOk || (mq !== 1 && mq !== lq) || (mk !== 1 && mk !== lk)) {
    throw shapeMismatch(
      `${t.name}.shape must be broadcastable to ${formatShape([...batch, lq, lk])}, got ${formatShape(t.shape)}`,
    );
  }
  return {
    kind: maskKind(t, bools),
    tensor: t,
    lead,
    matrixSize: mq * mk,
    ldr: mq === 1 ? 0 : mk,
    ldc: mk === 1 ? 0 : 1,
  };
}
