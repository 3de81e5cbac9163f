// A builder for a one-operator TFLite model (a `.tflite` flatbuffer) whose
// TRANSPOSE_CONV computes TensorFlow's tf.nn.conv_transpose for the same
// arguments, so that LiteRT.js can be benchmarked on the benchmark's shapes.
//
// Written by hand with flatbuffers.Builder (no flatc here): each table is
// built field by field with the field slots (ids) of TFLite's schema.fbs
// (tensorflow/lite/schema/schema.fbs, file identifier "TFL3", schema
// version 3). Only the tables and fields used are listed below; the slot of a
// field is its position in its table, counting a union as two slots (its type
// byte, then its value), and fields are only ever appended there, so these
// slots hold for every schema version that has the field.
//
// TRANSPOSE_CONV (2-D, channels last) takes the inputs
//   [output_shape: int32 [4] constant, weights: float32 [Cout, kh, kw, Cin]
//    constant, input: float32 [N, H, W, Cin]] (optional 4th: bias [Cout])
// and the options { padding: SAME | VALID, stride_w, stride_h }. TensorFlow's
// filters are [kh, kw, Cout, Cin]: they are transposed here. TFLite has no
// 3-D transposed convolution and no dilation in this operator; 1-D runs as
// 2-D with height 1. No Node modules: the browser bench bundles this file.

import * as flatbuffers from 'flatbuffers';

// enum TensorType : byte
const TensorType = { FLOAT32: 0, INT32: 2 };
// enum BuiltinOperator (TRANSPOSE_CONV < 127: also fits the byte-sized
// deprecated_builtin_code that older readers look at).
const TRANSPOSE_CONV = 67;
// union BuiltinOptions: the 1-based position of TransposeConvOptions in it.
const BUILTIN_OPTIONS_TRANSPOSE_CONV = 49;
// enum Padding : byte
const Padding = { SAME: 0, VALID: 1 };
const SCHEMA_VERSION = 3;

// Field slots, per table.
const Model = { version: 0, operator_codes: 1, subgraphs: 2, description: 3, buffers: 4, signature_defs: 7, nfields: 8 };
const OperatorCode = { deprecated_builtin_code: 0, version: 2, builtin_code: 3, nfields: 4 };
const SubGraph = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4, nfields: 5 };
const Tensor = { shape: 0, type: 1, buffer: 2, name: 3, nfields: 4 };
const Buffer = { data: 0, nfields: 1 };
const Operator = { opcode_index: 0, inputs: 1, outputs: 2, builtin_options_type: 3, builtin_options: 4, nfields: 5 };
const TransposeConvOptions = { padding: 0, stride_w: 1, stride_h: 2, fused_activation_function: 3, nfields: 4 };
const SignatureDef = { inputs: 0, outputs: 1, signature_key: 2, subgraph_index: 4, nfields: 5 };
const TensorMap = { name: 0, tensor_index: 1, nfields: 2 };

// The names a model's signature gives its input and output.
export const TFLITE_INPUT = 'x';
export const TFLITE_OUTPUT = 'y';

function int32Vector(b, values) {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function offsetVector(b, offsets) {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

// A Buffer's data vector, 16-byte aligned as the schema asks (force_align:
// 16); the bytes are copied in one go (a weight tensor can be megabytes,
// too many for one addInt8 call per byte).
function bufferData(b, bytes) {
  b.startVector(1, bytes.length, 16);
  b.space -= bytes.length;
  b.bb.setPosition(b.space);
  b.bb.bytes().set(bytes, b.space);
  return b.endVector();
}

function buffer(b, bytes) {
  const data = bytes ? bufferData(b, bytes) : 0;
  b.startObject(Buffer.nfields);
  if (data) b.addFieldOffset(Buffer.data, data, 0);
  return b.endObject();
}

function tensor(b, name, shape, type, bufferIndex) {
  const nameOff = b.createString(name);
  const shapeOff = int32Vector(b, shape);
  b.startObject(Tensor.nfields);
  b.addFieldOffset(Tensor.shape, shapeOff, 0);
  b.addFieldInt8(Tensor.type, type, -1); // -1: written even when FLOAT32 (0)
  b.addFieldInt32(Tensor.buffer, bufferIndex, -1);
  b.addFieldOffset(Tensor.name, nameOff, 0);
  return b.endObject();
}

function tensorMap(b, name, index) {
  const nameOff = b.createString(name);
  b.startObject(TensorMap.nfields);
  b.addFieldOffset(TensorMap.name, nameOff, 0);
  b.addFieldInt32(TensorMap.tensor_index, index, -1);
  return b.endObject();
}

const bytesOf = (typed) => new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);

/**
 * TensorFlow filters [kh, kw, Cout, Cin] (flat, row-major) -> TFLite's
 * TRANSPOSE_CONV weights [Cout, kh, kw, Cin].
 */
export function tfFilterToTflite(data, kh, kw, cout, cin) {
  const out = new Float32Array(data.length);
  const taps = kh * kw;
  for (let t = 0; t < taps; t++) {
    for (let co = 0; co < cout; co++) {
      const src = (t * cout + co) * cin;
      const dst = (co * taps + t) * cin;
      out.set(data.subarray(src, src + cin), dst);
    }
  }
  return out;
}

/**
 * The 2-D TRANSPOSE_CONV arguments for a transposed convolution given as
 * { input: [N, spatial..., Cin], output: [N, spatial..., Cout], kernel: [k...],
 * strides: [s...], dilations?: [d...], padding }, or { unsupported: why } where
 * TFLite has no such operator: 3-D, explicit padding, dilation other than 1.
 * 1-D becomes 2-D with height 1 (the same memory layout for input and output).
 */
export function tfliteArgs(spec) {
  const rank = spec.input.length - 2;
  if (rank === 3) return { unsupported: 'TFLite has no 3-D transposed convolution' };
  if (rank !== 1 && rank !== 2) return { unsupported: `rank ${rank}` };
  if (spec.padding !== 'SAME' && spec.padding !== 'VALID') return { unsupported: 'TFLite takes SAME or VALID padding only' };
  if ((spec.dilations ?? []).some((d) => d !== 1)) return { unsupported: 'TFLite TRANSPOSE_CONV has no dilation' };
  const lift = (a, one) => (rank === 1 ? [one, ...a] : a);
  const [n, ...inRest] = spec.input;
  const [, ...outRest] = spec.output;
  const [inH, inW] = lift(inRest.slice(0, -1), 1);
  const [outH, outW] = lift(outRest.slice(0, -1), 1);
  const [kh, kw] = lift(spec.kernel, 1);
  const [sh, sw] = lift(spec.strides, 1);
  return {
    batch: n, inH, inW, cin: inRest[inRest.length - 1], outH, outW, cout: outRest[outRest.length - 1],
    kh, kw, strideH: sh, strideW: sw, padding: spec.padding,
  };
}

/**
 * A `.tflite` model with one TRANSPOSE_CONV: input "x" [N, H, W, Cin], output
 * "y" [N, outH, outW, Cout], the weights and the output shape as constants.
 * args: tfliteArgs()'s result; filters: Float32Array in TensorFlow's layout
 * [kh, kw, Cout, Cin]; bias: optional Float32Array [Cout] (the 4th input,
 * operator version 3). Returns the flatbuffer's bytes.
 */
export function buildTransposeConvModel(args, filters, bias = null) {
  const { batch, inH, inW, cin, outH, outW, cout, kh, kw, strideH, strideW, padding } = args;
  if (filters.length !== kh * kw * cout * cin) throw new Error(`filters: ${filters.length} values, expected ${kh}*${kw}*${cout}*${cin}`);
  if (bias && bias.length !== cout) throw new Error(`bias: ${bias.length} values, expected ${cout}`);
  const outShape = [batch, outH, outW, cout];
  const weights = tfFilterToTflite(filters, kh, kw, cout, cin);
  const b = new flatbuffers.Builder(weights.byteLength + 4096);

  // Buffers: 0 is the empty sentinel that tensors without data point to.
  const buffers = [
    buffer(b, null),
    buffer(b, bytesOf(Int32Array.from(outShape))),
    buffer(b, bytesOf(weights)),
    ...(bias ? [buffer(b, bytesOf(Float32Array.from(bias)))] : []),
  ];
  const tensors = [
    tensor(b, 'output_shape', [4], TensorType.INT32, 1),
    tensor(b, 'weights', [cout, kh, kw, cin], TensorType.FLOAT32, 2),
    tensor(b, TFLITE_INPUT, [batch, inH, inW, cin], TensorType.FLOAT32, 0),
    tensor(b, TFLITE_OUTPUT, outShape, TensorType.FLOAT32, 0),
    ...(bias ? [tensor(b, 'bias', [cout], TensorType.FLOAT32, 3)] : []),
  ];
  const X = 2;
  const Y = 3;

  b.startObject(TransposeConvOptions.nfields);
  b.addFieldInt8(TransposeConvOptions.padding, Padding[padding], -1);
  b.addFieldInt32(TransposeConvOptions.stride_w, strideW, 0);
  b.addFieldInt32(TransposeConvOptions.stride_h, strideH, 0);
  const options = b.endObject();

  const opInputs = int32Vector(b, bias ? [0, 1, X, 4] : [0, 1, X]);
  const opOutputs = int32Vector(b, [Y]);
  b.startObject(Operator.nfields);
  b.addFieldInt32(Operator.opcode_index, 0, -1);
  b.addFieldOffset(Operator.inputs, opInputs, 0);
  b.addFieldOffset(Operator.outputs, opOutputs, 0);
  b.addFieldInt8(Operator.builtin_options_type, BUILTIN_OPTIONS_TRANSPOSE_CONV, 0);
  b.addFieldOffset(Operator.builtin_options, options, 0);
  const operator = b.endObject();

  const tensorsVec = offsetVector(b, tensors);
  const sgInputs = int32Vector(b, [X]);
  const sgOutputs = int32Vector(b, [Y]);
  const operatorsVec = offsetVector(b, [operator]);
  const sgName = b.createString('main');
  b.startObject(SubGraph.nfields);
  b.addFieldOffset(SubGraph.tensors, tensorsVec, 0);
  b.addFieldOffset(SubGraph.inputs, sgInputs, 0);
  b.addFieldOffset(SubGraph.outputs, sgOutputs, 0);
  b.addFieldOffset(SubGraph.operators, operatorsVec, 0);
  b.addFieldOffset(SubGraph.name, sgName, 0);
  const subgraph = b.endObject();

  b.startObject(OperatorCode.nfields);
  b.addFieldInt8(OperatorCode.deprecated_builtin_code, TRANSPOSE_CONV, 0);
  b.addFieldInt32(OperatorCode.version, bias ? 3 : 1, -1);
  b.addFieldInt32(OperatorCode.builtin_code, TRANSPOSE_CONV, 0);
  const opcode = b.endObject();

  // A signature, so that LiteRT's runner names the input and output.
  const sigInputs = offsetVector(b, [tensorMap(b, TFLITE_INPUT, X)]);
  const sigOutputs = offsetVector(b, [tensorMap(b, TFLITE_OUTPUT, Y)]);
  const sigKey = b.createString('serving_default');
  b.startObject(SignatureDef.nfields);
  b.addFieldOffset(SignatureDef.inputs, sigInputs, 0);
  b.addFieldOffset(SignatureDef.outputs, sigOutputs, 0);
  b.addFieldOffset(SignatureDef.signature_key, sigKey, 0);
  b.addFieldInt32(SignatureDef.subgraph_index, 0, -1);
  const signature = b.endObject();

  const opcodesVec = offsetVector(b, [opcode]);
  const subgraphsVec = offsetVector(b, [subgraph]);
  const buffersVec = offsetVector(b, buffers);
  const signaturesVec = offsetVector(b, [signature]);
  const description = b.createString('conv-transpose-wasm bench: one TRANSPOSE_CONV');
  b.startObject(Model.nfields);
  b.addFieldInt32(Model.version, SCHEMA_VERSION, 0);
  b.addFieldOffset(Model.operator_codes, opcodesVec, 0);
  b.addFieldOffset(Model.subgraphs, subgraphsVec, 0);
  b.addFieldOffset(Model.description, description, 0);
  b.addFieldOffset(Model.buffers, buffersVec, 0);
  b.addFieldOffset(Model.signature_defs, signaturesVec, 0);
  const model = b.endObject();
  b.finish(model, 'TFL3');
  return b.asUint8Array();
}
