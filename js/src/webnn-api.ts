// The WebNN-style entry points and the ONNX mapping, as the package exports them.
export { convTranspose2d } from './webnn.js';
export type { ConvTranspose2dOptions, FilterLayout, InputLayout } from './webnn.js';
export { onnxConvTranspose, onnxConvTransposeOptions } from './onnx.js';
export type { OnnxAutoPad, OnnxConvTransposeAttributes } from './onnx.js';
