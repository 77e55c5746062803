// Causal masks, and how a user's mask becomes the (kind, strides) layout the kernels read.
import { badArgument, shapeMismatch } from './errors.js';
import { MaskKind, type MaskKindCode } from './kernels.js';
import { type BoolTensor, checkMaskTensor, formatShape, type Tensor } from './tensor.js';

/** PyTorch's causal mask: `[n, n]`, 0 on and below the diagonal, -Infinity above (torch.triu(ones, 1) → -inf). */
export function createCausalMask(n: number): Tensor {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw badArgument(`createCausalMask(n): n must be a non-negative integer, got ${String(n)}`);
  }
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) data.fill(-Infinity, i * n + i + 1, (i + 1) * n);
  return { data, shape: [n, n] };
}

/** A mask as the kernels read it: element kind, row and column strides, and its own leading dims. */
export interface MaskLayout {
  readonly kind: MaskKindCode;
  readonly tensor: Tensor | BoolTensor;
  /** Leading dims of the mask beyond its last two (broadcast against the batch). */
  readonly lead: readonly number[];
  readonly matrixSize: number;
  readonly ldr: number;
  readonly ldc: number;
}

/**
 * Checks a mask against scores of shape [...batch, lq, lk]: float32 data is added to the scores; Uint8Array
 * data is a keep-mask (1 = may attend, PyTorch SDPA) or, with bools = 'hide', a hide-mask (1 = not allowed,
 * nn.MultiheadAttention). Its shape must broadcast to the scores' without enlarging them.
 */
export function maskLayout(
  name: string,
  mask: unknown,
  batch: readonly number[],
  lq: number,
  lk: number,
  bools: 'keep' | 'hide' = 'keep',
): MaskLayout {
  const t = checkMaskTensor(name, mask);
  const shape = t.shape.length === 1 ? [1, ...t.shape] : t.shape;
  const rank = shape.length;
  const [mq, mk] = shape.slice(-2);
  const lead = shape.slice(0, -2);
  const leadOk = rank >= 2 && rank <= batch.length + 2 && lead.every((d, i) => d === 1 || d === batch[batch.length - lead.length + i]);
  if (!leadOk || (mq !== 1 && mq !== lq) || (mk !== 1 && mk !== lk)) {
    throw shapeMismatch(`${name}.shape must be broadcastable to ${formatShape([...batch, lq, lk])}, got ${formatShape(t.shape)}`);
  }
  return {
    kind: t.data instanceof Uint8Array ? MaskKind[bools] : MaskKind.add,
    tensor: t,
    lead,
    matrixSize: mq * mk,
    ldr: mq === 1 ? 0 : mk,
    ldc: mk === 1 ? 0 : 1,
  };
}
