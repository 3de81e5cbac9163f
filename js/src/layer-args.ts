// The options beyond TensorFlow's op (groups, bias, activation), read once
// into the plain form the core takes. Only their form is checked here; the
// rules (groups against the channels, the bias length, clamp bounds) are
// the core's, in src/semantics/plan.cc.

import { ArgumentError, describe, toTensor, typedArrayKind } from './args.js';
import type { DType, TensorLike } from './args.js';

/** An activation applied to every output value after the bias, fused into the kernels' stores. */
export type ActivationName = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'gelu' | 'silu' | 'elu' | 'leakyRelu' | 'clamp';
export type Activation =
  | ActivationName
  | { type: 'clamp'; minValue?: number; maxValue?: number }
  | { type: 'leakyRelu' | 'elu'; alpha?: number }
  | { type: ActivationName };

/** A per-output-channel bias: numbers, or a 1-D tensor (16-bit bits with its dtype). */
export type Bias = TensorLike | Float32Array | Float64Array | readonly number[];

/** The layer options in the core's form. */
export interface LayerArgs {
  groups: number;
  activation: string;   // the core's name (relu6 arrives as clamp)
  alpha: number;
  lo: number;
  hi: number;
  bias: Float64Array | null;
}

export interface LayerOptions {
  groups?: unknown;
  bias?: unknown;
  activation?: unknown;
}

function fail(name: string, message: string): never {
  throw new ArgumentError(`${name}: ${message}`);
}

// WebNN's defaults: leakyRelu alpha 0.01, elu alpha 1, clamp unbounded.
const DEFAULT_ALPHA: Record<string, number> = { leakyRelu: 0.01, elu: 1 };

function finiteOrFail(name: string, arg: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) fail(name, `${arg} must be a number. Received: ${arg}=${describe(v)}`);
  return v;
}

function activationArgs(name: string, a: unknown): Pick<LayerArgs, 'activation' | 'alpha' | 'lo' | 'hi'> {
  const out = { activation: 'linear', alpha: 0, lo: -Infinity, hi: Infinity };
  if (a === undefined || a === null) return out;
  let type: unknown = a;
  let alpha: unknown;
  let minValue: unknown;
  let maxValue: unknown;
  if (typeof a === 'object') {
    const o = a as Record<string, unknown>;
    type = o.type;
    alpha = o.alpha;
    minValue = o.minValue;
    maxValue = o.maxValue;
  }
  if (typeof type !== 'string') {
    fail(name, `activation must be a name ('relu', 'sigmoid', ...) or an object { type, alpha?, minValue?, maxValue? }. Received: activation=${describe(a)}`);
  }
  if (type === 'relu6') return { ...out, activation: 'clamp', lo: 0, hi: 6 };
  out.activation = type;
  out.alpha = finiteOrFail(name, 'activation.alpha', alpha, DEFAULT_ALPHA[type] ?? 0);
  out.lo = finiteOrFail(name, 'activation.minValue', minValue, -Infinity);
  out.hi = finiteOrFail(name, 'activation.maxValue', maxValue, Infinity);
  return out;
}

function float16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function bfloat16ToNumber(h: number): number {
  return new Float32Array(new Uint32Array([h << 16]).buffer)[0];
}

function biasValues(name: string, b: unknown): Float64Array {
  const kind = typedArrayKind(b);
  if (kind === 'Float32Array' || kind === 'Float64Array') return Float64Array.from(b as ArrayLike<number>);
  if (Array.isArray(b)) {
    const out = new Float64Array(b.length);
    for (let i = 0; i < b.length; i++) {
      const e: unknown = b[i];
      if (typeof e !== 'number') fail(name, `bias must hold numbers only; element ${i} is ${describe(e)}`);
      out[i] = e;
    }
    return out;
  }
  if (b === null || typeof b !== 'object' || kind) {
    fail(name, `bias must be a Float32Array, a Float64Array, a list of numbers or a tensor { data, shape: [outChannels] }. Received: bias=${describe(b)}`);
  }
  const t = toTensor(name, 'bias', b);
  if (t.shape.length !== 1) fail(name, `bias must be 1-D, one value per output channel. Received: bias.shape=[${t.shape.join(', ')}]`);
  if (t.data.length !== t.shape[0]) fail(name, `bias.data has ${t.data.length} elements but bias.shape=[${t.shape[0]}]`);
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    const decode = t.dtype === 'float16' ? float16ToNumber : bfloat16ToNumber;
    return Float64Array.from(t.data as Uint16Array, decode);
  }
  return Float64Array.from(t.data as ArrayLike<number>);
}

/**
 * groups, bias and activation, each read once. The bias is rounded to the
 * compute type in the core (float32 for every dtype but float64).
 */
export function layerArgs(name: string, o: LayerOptions): LayerArgs {
  const { groups, bias, activation } = o;
  let g = 1;
  if (groups !== undefined && groups !== null) {
    if (typeof groups !== 'number' || !Number.isSafeInteger(groups)) {
      fail(name, `groups must be an integer >= 1 (and below 2^53). Received: groups=${describe(groups)}`);
    }
    g = groups;
  }
  return {
    groups: g,
    ...activationArgs(name, activation),
    bias: bias === undefined || bias === null ? null : biasValues(name, bias),
  };
}

/** The numbers the core reads after the filter arguments: [groups] [alpha] [lo] [hi] [has_bias] [bias_length]. */
export function pushLayer(out: number[], l: LayerArgs): void {
  out.push(l.groups, l.alpha, l.lo, l.hi, l.bias ? 1 : 0, l.bias ? l.bias.length : 0);
}

export type { DType };
