'use strict';
// One-node ONNX models built in memory, for comparing with onnxruntime-web:
// a minimal protobuf writer for the messages a ConvTranspose node needs
// (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
// AttributeProto, OperatorSetIdProto), field numbers from onnx/onnx.proto
// (proto2; repeated integers unpacked, which every parser must accept).

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

class Writer {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  bytes(u8) {
    this.chunks.push(u8);
    this.length += u8.length;
    return this;
  }
  // Non-negative integers up to 2^53; negative ones as ten-byte two's complement (int64).
  varint(value) {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    const out = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) b |= 0x80;
      out.push(b);
    } while (v !== 0n);
    return this.bytes(Uint8Array.from(out));
  }
  int(field, value) {
    return this.varint((field << 3) | WIRE_VARINT).varint(value);
  }
  ints(field, values) {
    for (const v of values) this.int(field, v);
    return this;
  }
  lenDelimited(field, u8) {
    return this.varint((field << 3) | WIRE_LEN).varint(u8.length).bytes(u8);
  }
  string(field, s) {
    return this.lenDelimited(field, new TextEncoder().encode(s));
  }
  message(field, writer) {
    return this.lenDelimited(field, writer.finish());
  }
  finish() {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

// onnx.TensorProto.DataType and onnx.AttributeProto.AttributeType
const FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

// An attribute from its JS value: a string, an int, or a list of ints.
function attribute(name, value) {
  const a = new Writer().string(1, name);
  if (typeof value === 'string') return a.int(20, ATTR_STRING).lenDelimited(4, new TextEncoder().encode(value));
  if (Array.isArray(value)) return a.int(20, ATTR_INTS).ints(8, value);
  return a.int(20, ATTR_INT).int(3, value);
}

// A float32 initializer; raw_data is little-endian, as typed arrays are on
// every platform wasm runs on.
function initializer(name, dims, f32) {
  const raw = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  return new Writer().ints(1, dims).int(2, FLOAT).string(8, name).lenDelimited(9, raw);
}

// A float32 graph input or output; a dim of null is left symbolic.
function valueInfo(name, dims) {
  const shape = new Writer();
  for (const d of dims) shape.message(1, d === null ? new Writer().string(2, 'n') : new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

// A ModelProto around `graph`: IR version 8, opset ai.onnx 17.
function modelOf(graph) {
  return new Writer()
    .int(1, 8) // ir_version
    .string(2, 'conv-transpose-wasm-tests')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, 17)) // opset_import: ai.onnx 17
    .finish();
}

/**
 * A model with one ConvTranspose node, Y = ConvTranspose(X, W[, B]), W and
 * B as initializers, opset 17, and then an activation node (an ONNX op
 * type such as 'Relu') when `activation` names one. X's and Y's shapes are
 * left to the runtime (symbolic dims), so the node's own shape rules decide Y.
 * spec: { xRank, w: Float32Array, wShape, b?: Float32Array, attrs: { name: value }, activation? }
 */
function convTransposeModel({ xRank, w, wShape, b, attrs, activation }) {
  const node = new Writer().string(1, 'X').string(1, 'W');
  if (b) node.string(1, 'B');
  node.string(2, activation ? 'Z' : 'Y').string(3, 'conv_transpose').string(4, 'ConvTranspose');
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) node.message(5, attribute(name, value));
  }
  const graph = new Writer().message(1, node);
  if (activation) graph.message(1, new Writer().string(1, 'Z').string(2, 'Y').string(3, 'activation').string(4, activation));
  graph.string(2, 'conv_transpose').message(5, initializer('W', wShape, w));
  if (b) graph.message(5, initializer('B', [b.length], b));
  graph.message(11, valueInfo('X', new Array(xRank).fill(null))).message(12, valueInfo('Y', new Array(xRank).fill(null)));
  return modelOf(graph);
}

/**
 * A model with one MatMul node, c = MatMul(a, b), b [k, n] an initializer,
 * a [m, k] (the benchmark's matrix-multiply ceiling line).
 */
function matMulModel(m, k, n, b) {
  const node = new Writer().string(1, 'a').string(1, 'b').string(2, 'c').string(3, 'matmul').string(4, 'MatMul');
  const graph = new Writer().message(1, node).string(2, 'matmul').message(5, initializer('b', [k, n], b))
    .message(11, valueInfo('a', [m, k])).message(12, valueInfo('c', [m, n]));
  return modelOf(graph);
}

module.exports = { convTransposeModel, matMulModel };
