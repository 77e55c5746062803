// Feature probes: tiny modules checked with WebAssembly.validate.

/** (module (func (result v128) <code>)): a module of one function whose body is `code`. */
const probe = (...code: number[]) =>
  new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, code.length + 4, 0x01, code.length + 2, 0x00], // code section: one body, no locals
    ...code,
    0x0b, // end
  ]);

/** v128.const i32x4 0 0 0 0 */
const zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

const simdProbe = probe(...zero);
/** f32x4.relaxed_madd (0xfd 0x105) of three zeros. */
const relaxedSimdProbe = probe(...zero, ...zero, ...zero, 0xfd, 0x85, 0x02);

export const supportsSimd = (): boolean => WebAssembly.validate(simdProbe);
export const supportsRelaxedSimd = (): boolean => WebAssembly.validate(relaxedSimdProbe);
