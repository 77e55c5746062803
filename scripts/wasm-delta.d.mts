export function encodeDelta(source: Uint8Array, target: Uint8Array): Uint8Array;
