// The wasm ABI. Its types come from the signatures asc emits for the kernels (build/simd.d.ts, from
// `bindings` in asconfig.json), so the ABI is written once, in assembly/, with each kernel's contract.
// Pointers are byte addresses (unsigned), strides are in elements.
import type { instantiate } from '../build/simd.js';

/** The kernels' exports, as asc declares them. */
export type Kernels = Awaited<ReturnType<typeof instantiate>>;

/** Mask kinds understood by the kernels (assembly/mask.ts). */
export const MaskKind = { none: 0, add: 1, keep: 2, hide: 3 } as const;
export type MaskKindCode = (typeof MaskKind)[keyof typeof MaskKind];

/** The kernels' descriptor (assembly/descriptor.ts): its fields, 4 bytes each, at the start of the pass's scratch. */
export const DESC_FIELDS = 32;

/** All of wasm32's linear memory, in bytes: the most any call or engine can have. */
export const WASM32_BYTES = 4 * 1024 ** 3;
