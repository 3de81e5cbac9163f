// A minimal protobuf writer for the few ONNX messages the benchmark needs, and
// a builder for a one-node ConvTranspose model whose output equals
// TensorFlow's tf.nn.conv_transpose for the same arguments.
//
// Only what is used is written: ModelProto, GraphProto, NodeProto,
// TensorProto, ValueInfoProto (with TypeProto/TensorShapeProto),
// AttributeProto and OperatorSetIdProto. Field numbers are those of
// onnx/onnx.proto (proto2). Repeated integers are written unpacked, which
// every protobuf parser must accept for proto2 fields.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

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
  varint(value) {
    // Non-negative integers up to 2^53 (all that ONNX dims/attributes here need)
    // and negative int64 as ten-byte two's complement.
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
  tag(field, wire) {
    return this.varint((field << 3) | wire);
  }
  int(field, value) {
    return this.tag(field, WIRE_VARINT).varint(value);
  }
  ints(field, values) {
    for (const v of values) this.int(field, v);
    return this;
  }
  float(field, value) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.tag(field, WIRE_I32).bytes(b);
  }
  lenDelimited(field, u8) {
    return this.tag(field, WIRE_LEN).varint(u8.length).bytes(u8);
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

// onnx.TensorProto.DataType
const FLOAT = 1;
// onnx.AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;
const ATTR_STRING = 3;

function attrInts(name, values) {
  return new Writer().string(1, name).int(20, ATTR_INTS).ints(8, values);
}
function attrInt(name, value) {
  return new Writer().string(1, name).int(20, ATTR_INT).int(3, value);
}
function attrString(name, value) {
  return new Writer().string(1, name).int(20, ATTR_STRING).lenDelimited(4, new TextEncoder().encode(value));
}

function tensorProto(name, dims, f32) {
  const raw = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  // raw_data is little-endian float32, which is what typed arrays hold on
  // every platform Node/browsers run wasm on.
  return new Writer().ints(1, dims).int(2, FLOAT).string(8, name).lenDelimited(9, raw);
}

function valueInfo(name, dims) {
  const shape = new Writer();
  for (const d of dims) shape.message(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  const type = new Writer().message(1, tensorType);
  return new Writer().string(1, name).message(2, type);
}

/**
 * Pads and output_padding for ONNX ConvTranspose that reproduce
 * TensorFlow's output size and alignment for one spatial dimension.
 * TF: total = max(0, (in-1)*s + kEff - out) for SAME (0 for VALID),
 * pad_before = floor(total / 2). ONNX: out = s*(in-1) + outPad + kEff -
 * padBegin - padEnd, with outPad added at the end.
 */
export function onnxPadsFor(inSize, outSize, k, s, d, padding) {
  const kEff = (k - 1) * d + 1;
  const full = (inSize - 1) * s + kEff;
  let total = padding === 'SAME' ? Math.max(0, full - outSize) : 0;
  const begin = Math.floor(total / 2);
  const end = total - begin;
  const outPad = outSize - (full - total);
  if (outPad < 0) throw new Error(`no ONNX pads for in=${inSize} out=${outSize} k=${k} s=${s} ${padding}`);
  return { begin, end, outPad };
}

/**
 * TF filters [k..., Cout, Cin] (flat, row-major) -> ONNX W [Cin, Cout, k...]
 * (grouped filters: Cout is the output channels of one group).
 */
export function tfFilterToOnnx(data, kernel, cout, cin) {
  const kProd = kernel.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let kk = 0; kk < kProd; kk++) {
    for (let co = 0; co < cout; co++) {
      const src = (kk * cout + co) * cin;
      for (let ci = 0; ci < cin; ci++) {
        out[(ci * cout + co) * kProd + kk] = data[src + ci];
      }
    }
  }
  return out;
}

/**
 * A ModelProto with one ConvTranspose node: input "x" [N, Cin, spatial...],
 * initializer "w" [Cin, Cout / group, k...] (and "b" [Cout] with a bias),
 * output "y" [N, Cout, outSpatial...], then an activation node when
 * spec.activation names one ('Relu', 'Sigmoid').
 * spec: { batch, inSpatial, outSpatial, kernel, strides, dilations, cin, cout,
 *         padding: 'SAME' | 'VALID', filters: Float32Array in TF layout
 *         ([k..., Cout / group, Cin]), group?, bias?: Float32Array, activation? }
 */
export function buildConvTransposeModel(spec) {
  const { batch, inSpatial, outSpatial, kernel, strides, dilations, cin, cout, padding } = spec;
  const group = spec.group ?? 1;
  const rank = kernel.length;
  const begins = [];
  const ends = [];
  const outPads = [];
  for (let i = 0; i < rank; i++) {
    const p = onnxPadsFor(inSpatial[i], outSpatial[i], kernel[i], strides[i], dilations[i], padding);
    begins.push(p.begin);
    ends.push(p.end);
    outPads.push(p.outPad);
  }
  const w = tfFilterToOnnx(spec.filters, kernel, cout / group, cin);
  const convOut = spec.activation ? 'z' : 'y';

  const node = new Writer()
    .string(1, 'x')
    .string(1, 'w');
  if (spec.bias) node.string(1, 'b');
  node
    .string(2, convOut)
    .string(3, 'conv_transpose')
    .string(4, 'ConvTranspose')
    .message(5, attrString('auto_pad', 'NOTSET'))
    .message(5, attrInts('kernel_shape', kernel))
    .message(5, attrInts('strides', strides))
    .message(5, attrInts('dilations', dilations))
    .message(5, attrInts('pads', [...begins, ...ends]))
    .message(5, attrInts('output_padding', outPads))
    .message(5, attrInt('group', group));

  const graph = new Writer().message(1, node);
  if (spec.activation) {
    graph.message(1, new Writer().string(1, 'z').string(2, 'y').string(3, 'activation').string(4, spec.activation));
  }
  graph
    .string(2, 'conv_transpose_bench')
    .message(5, tensorProto('w', [cin, cout / group, ...kernel], w));
  if (spec.bias) graph.message(5, tensorProto('b', [cout], spec.bias));
  graph
    .message(11, valueInfo('x', [batch, cin, ...inSpatial]))
    .message(12, valueInfo('y', [batch, cout, ...outSpatial]));

  const model = new Writer()
    .int(1, 8) // ir_version
    .string(2, 'conv-transpose-wasm-bench') // producer_name
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, 17)); // opset_import: ai.onnx 17
  return { bytes: model.finish(), pads: [...begins, ...ends], outputPadding: outPads };
}

// Layout helpers (outside the timed region).

/** [N, spatial..., C] -> [N, C, spatial...] */
export function channelsLastToFirst(data, batch, spatial, c) {
  const sp = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let n = 0; n < batch; n++) {
    const base = n * sp * c;
    for (let p = 0; p < sp; p++) {
      const src = base + p * c;
      for (let ch = 0; ch < c; ch++) out[base + ch * sp + p] = data[src + ch];
    }
  }
  return out;
}

/** [N, C, spatial...] -> [N, spatial..., C] */
export function channelsFirstToLast(data, batch, spatial, c) {
  const sp = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let n = 0; n < batch; n++) {
    const base = n * sp * c;
    for (let ch = 0; ch < c; ch++) {
      const src = base + ch * sp;
      for (let p = 0; p < sp; p++) out[base + p * c + ch] = data[src + p];
    }
  }
  return out;
}

/**
 * A ModelProto with one MatMul node: c[m, n] = a[m, k] x b[k, n], with b an
 * initializer (used for the matrix-multiply ceiling line).
 */
export function buildMatMulModel(m, k, n, b) {
  const node = new Writer().string(1, 'a').string(1, 'b').string(2, 'c').string(3, 'matmul').string(4, 'MatMul');
  const graph = new Writer()
    .message(1, node)
    .string(2, 'matmul_bench')
    .message(5, tensorProto('b', [k, n], b))
    .message(11, valueInfo('a', [m, k]))
    .message(12, valueInfo('c', [m, n]));
  return new Writer()
    .int(1, 8)
    .string(2, 'conv-transpose-wasm-bench')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, 17))
    .finish();
}
