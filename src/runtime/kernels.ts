// The wasm ABI. Its types come from the signatures asc emits for the kernels (build/simd.d.ts, from
// `bindings` in asconfig.json), so the ABI is written once, in assembly/, with each kernel's contract.
// Pointers are byte addresses (unsigned), strides are in elements.
import type { instantiate } from '../../build/simd.js';

/** The kernels' exports, as asc declares them. */
export type Kernels = Awaited<ReturnType<typeof instantiate>>;

/** Mask kinds understood by the kernels (assembly/mask.ts). */
export const MaskKind = { none: 0, add: 1, keep: 2, hide: 3 } as const;
export type MaskKindCode = (typeof MaskKind)[keyof typeof MaskKind];

/**
 * The kernels' descriptor (assembly/descriptor.ts) at the start of a pass's scratch: room for its 33 fields of
 * 4 bytes, rounded up so that the kernel's scratch after it stays 16-byte aligned.
 */
export const DESC_FIELDS = 36;

/** All of wasm32's linear memory, in bytes: the most any call or engine can have. */
export const WASM32_BYTES = 4 * 1024 ** 3;
