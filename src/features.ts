// Feature probes: tiny modules checked with WebAssembly.validate, their WAT written beside the bytes.

const zeros16 = new Array<number>(16).fill(0);
const v128Const = [0xfd, 0x0c, ...zeros16];

/**
 * (module (func (result v128)
 *   v128.const i32x4 0 0 0 0  v128.const i32x4 0 0 0 0  v128.const i32x4 0 0 0 0
 *   f32x4.relaxed_madd))
 */
const relaxedSimdProbe = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version 1
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, //        type section: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, //                          function section: one function of type 0
  0x0a,
  0x3d,
  0x01,
  0x3b,
  0x00, //                    code section: one body of 59 bytes, no locals
  ...v128Const,
  ...v128Const,
  ...v128Const,
  0xfd,
  0x85,
  0x02, //                                f32x4.relaxed_madd (0xfd 0x105)
  0x0b, //                                            end
]);

/** (module (func (result v128) v128.const i32x4 0 0 0 0)) */
const simdProbe = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b,
  0x03,
  0x02,
  0x01,
  0x00,
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  ...v128Const,
  0x0b,
]);

export const supportsSimd = (): boolean => WebAssembly.validate(simdProbe);
export const supportsRelaxedSimd = (): boolean => WebAssembly.validate(relaxedSimdProbe);
