// A minimal ONNX (protobuf) writer: just the messages and fields our benchmark graphs use.
// Field numbers follow onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ...).

type Field = Uint8Array;

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

const concat = (parts: readonly (Field | number[])[]): Uint8Array => {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Wire type 0 (varint). */
const int = (field: number, v: number | bigint): Field => concat([varint((field << 3) | 0), varint(v)]);
/** Wire type 2 (length-delimited): bytes, strings, sub-messages. */
const bytes = (field: number, b: Uint8Array): Field => concat([varint((field << 3) | 2), varint(b.length), b]);
const str = (field: number, s: string): Field => bytes(field, new TextEncoder().encode(s));
/** Wire type 5 (32-bit): a float. */
const float = (field: number, f: number): Field => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, f, true);
  return concat([varint((field << 3) | 5), b]);
};

const FLOAT = 1;
const BOOL = 9;

export interface Attr {
  name: string;
  f?: number;
  i?: number;
  ints?: number[];
}

function attribute(a: Attr): Field {
  // AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
  if (a.f !== undefined) return concat([str(1, a.name), float(2, a.f), int(20, 1)]);
  if (a.i !== undefined) return concat([str(1, a.name), int(3, a.i), int(20, 2)]);
  return concat([str(1, a.name), ...a.ints!.map((v) => int(8, v)), int(20, 7)]);
}

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
  domain?: string;
}

function node(n: Node, index: number): Field {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
  return concat([
    ...n.inputs.map((s) => str(1, s)),
    ...n.outputs.map((s) => str(2, s)),
    str(3, `${n.op}_${index}`),
    str(4, n.op),
    ...(n.attrs ?? []).map((a) => bytes(5, attribute(a))),
    ...(n.domain ? [str(7, n.domain)] : []),
  ]);
}

/** A graph input or output: float32 (or bool) tensor with fixed dims. */
export interface Value {
  name: string;
  dims: number[];
  bool?: boolean;
}

function valueInfo(v: Value): Field {
  // ValueInfoProto{name 1, type 2: TypeProto{tensor_type 1: {elem_type 1, shape 2: {dim 1: {dim_value 1}}}}}
  const shape = concat(v.dims.map((d) => bytes(1, int(1, d))));
  const tensorType = concat([int(1, v.bool ? BOOL : FLOAT), bytes(2, shape)]);
  return concat([str(1, v.name), bytes(2, bytes(1, tensorType))]);
}

export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

function tensorProto(t: Initializer): Field {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian).
  const raw = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  return concat([...t.dims.map((d) => int(1, d)), int(2, FLOAT), str(8, t.name), bytes(9, raw)]);
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: Value[];
  outputs: Value[];
  initializers?: Initializer[];
  opset: number;
  /** Extra operator-set domains, e.g. com.microsoft for contrib ops. */
  domains?: Array<{ domain: string; version: number }>;
}

/** Serialises a ModelProto (IR version 10). */
export function modelBytes(g: Graph): Uint8Array {
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  const graph = concat([
    ...g.nodes.map((n, i) => bytes(1, node(n, i))),
    str(2, g.name),
    ...(g.initializers ?? []).map((t) => bytes(5, tensorProto(t))),
    ...g.inputs.map((v) => bytes(11, valueInfo(v))),
    ...g.outputs.map((v) => bytes(12, valueInfo(v))),
  ]);
  // OperatorSetIdProto: domain 1, version 2.
  const opsets = [{ domain: '', version: g.opset }, ...(g.domains ?? [])].map((o) =>
    bytes(8, concat([str(1, o.domain), int(2, o.version)])),
  );
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8.
  return concat([int(1, 10), str(2, 'wasm-attention bench'), bytes(7, graph), ...opsets]);
}
