// float16 / bfloat16 <-> float32, four or eight lanes at a time, bit for bit the
// same as the scalar conversions in dtype.h (NaN payloads, signed zeros,
// subnormals and round-to-nearest-even ties included; dtype_test.cc checks
// every 16-bit pattern one way and a sweep of float32 patterns the other).
// Written with vector extensions and only lane-uniform shifts, which is all
// wasm SIMD128 has.
#pragma once

#include <cstdint>
#include <cstring>

#include "semantics/dtype.h"
#include "simd/vec.h"

namespace ctw {
namespace half_vec {

typedef uint16_t U16x4 __attribute__((vector_size(8)));
typedef uint32_t U32x4 __attribute__((vector_size(16)));
typedef uint16_t U16x8 __attribute__((vector_size(16)));

inline U32x4 bits_of(Vec<float> v) { return reinterpret_cast<U32x4>(v); }
inline Vec<float> float_of(U32x4 u) { return reinterpret_cast<Vec<float>>(u); }
// Lane-wise choice: mask lanes all ones take a, all zeros take b.
inline U32x4 select(U32x4 mask, U32x4 a, U32x4 b) { return (a & mask) | (b & ~mask); }

inline void narrow(U32x4 v, uint16_t* dst) {
  const U16x4 h = __builtin_convertvector(v, U16x4);
  std::memcpy(dst, &h, sizeof(h));
}

// The low (high) 16 bits of a's then b's eight lanes: one byte shuffle.
template <typename V>
inline U16x8 low_halves(V a, V b) {
  return __builtin_shufflevector(reinterpret_cast<U16x8>(a), reinterpret_cast<U16x8>(b), 0, 2, 4, 6, 8, 10, 12, 14);
}
template <typename V>
inline U16x8 high_halves(V a, V b) {
  return __builtin_shufflevector(reinterpret_cast<U16x8>(a), reinterpret_cast<U16x8>(b), 1, 3, 5, 7, 9, 11, 13, 15);
}
inline void store8(uint16_t* dst, U16x8 h) { std::memcpy(dst, &h, sizeof(h)); }

inline U16x8 load8(const uint16_t* src) {
  U16x8 v;
  std::memcpy(&v, src, sizeof(v));
  return v;
}
inline U16x8 load4(const uint16_t* src) {  // lanes 4-7 zero
  U16x8 v{};
  std::memcpy(&v, src, 4 * sizeof(uint16_t));
  return v;
}

// Lanes 0-3 (H = 0) or 4-7 (H = 1) of v, each shifted into the high half of
// a 32-bit lane (pattern << 16): one unpack with zero, opaque in wasm (as a
// plain vector conversion LLVM merged the widening into the float16
// decoder's masks and shifts as byte shuffles, about 20 x64 instructions
// per four values where this is one).
template <int H>
inline U32x4 high_bits(U16x8 v) {
  constexpr int o = 8 * H;
  return reinterpret_cast<U32x4>(shuffle_bytes<o, o + 1, 16 + o, 17 + o, o + 2, o + 3, 18 + o, 19 + o, o + 4, o + 5,
                                               20 + o, 21 + o, o + 6, o + 7, 22 + o, 23 + o>(U16x8{}, v));
}

}  // namespace half_vec

// Four float16 patterns (each << 16 in its lane) to float32: exponent and
// mantissa shifted into place and scaled by 2^112 (exact for normals and
// subnormals alike), infinities and NaNs given the all-ones exponent, then
// the sign.
inline Vec<float> float16_high_bits_to_float(half_vec::U32x4 h) {
  using namespace half_vec;
  const U32x4 magnitude = (h & 0x7fff0000u) >> 3;
  const U32x4 scaled = bits_of(float_of(magnitude) * Vec16<float>::splat(0x1.0p112f));
  // Inf or NaN; compared as floats (a single instruction; see float16_magnitude_bits).
  const U32x4 special = reinterpret_cast<U32x4>(float_of(magnitude) >= float_of(U32x4{} + (0x7c00u << 13)));
  return float_of(select(special, magnitude | 0x7f800000u, scaled) | (h & 0x80000000u));
}
// A bfloat16 pattern << 16 is its float32.
inline Vec<float> bfloat16_high_bits_to_float(half_vec::U32x4 h) { return half_vec::float_of(h); }

// n 16-bit patterns to float32, eight at a time (then four, then one by one).
template <typename Decode, typename Scalar>
inline void sixteen_bit_span_to_float(const uint16_t* src, float* dst, int64_t n, Decode decode, Scalar scalar) {
  using namespace half_vec;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const U16x8 v = load8(src + i);
    store_vec(dst + i, decode(high_bits<0>(v)));
    store_vec(dst + i + 4, decode(high_bits<1>(v)));
  }
  if (i + 4 <= n) {
    store_vec(dst + i, decode(high_bits<0>(load4(src + i))));
    i += 4;
  }
  for (; i < n; ++i) dst[i] = scalar(src[i]);
}

// Lane-wise |v|'s float16 pattern (no sign), rounded to nearest even, in
// each lane's low 16 bits, by float arithmetic as in the FP16 library's
// fp16_ieee_from_fp32_value: adding 2^(e+15) (e: |x|'s exponent, at least
// -14) to 4|x| leaves |x| rounded by the float adder to the half's 10
// mantissa bits in the sum's low bits, and the half's exponent (or a carry
// into it) in the sum's exponent field; 4|x| is |x| * 2^112 * 2^-110, which is
// infinity from 2^16 on. NaNs keep their top payload bits, quiet (what the
// adder makes of a NaN is not specified in wasm). Comparisons are of floats:
// integer ones on |x| become unsigned (LLVM knows |x| >= 0), which cost
// several instructions on x64 against one.
inline half_vec::U32x4 float16_magnitude_bits(Vec<float> v) {
  using namespace half_vec;
  const U32x4 abs = bits_of(v) & 0x7fffffffu;
  const Vec<float> scaled = float_of(abs) * Vec16<float>::splat(0x1.0p112f) * Vec16<float>::splat(0x1.0p-110f);
  const U32x4 exponent = abs & 0x7f800000u;
  const U32x4 bias = exponent > 0x38800000u ? exponent : U32x4{} + 0x38800000u;  // an unsigned max: one instruction
  const U32x4 sum = bits_of(float_of(bias + 0x07800000u) + scaled);
  const U32x4 finite = ((sum >> 13) & 0x7c00u) + (sum & 0xfffu);
  const U32x4 nan = reinterpret_cast<U32x4>(v != v);
  return select(nan, 0x7e00u | ((abs >> 13) & 0x3ffu), finite);
}

// Four float32 values to float16 patterns, rounded to nearest even
// (subnormals, overflow to infinity and NaNs as float_to_float16).
inline void float_to_float16x4(Vec<float> v, uint16_t* dst) {
  using namespace half_vec;
  narrow(float16_magnitude_bits(v) | ((bits_of(v) >> 16) & 0x8000u), dst);
}

// Four float32 values to bfloat16 patterns in the low 16 bits, rounded to nearest even; NaNs quiet.
inline half_vec::U32x4 bfloat16_bits(Vec<float> v) {
  using namespace half_vec;
  const U32x4 u = bits_of(v);
  const U32x4 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const U32x4 nan = reinterpret_cast<U32x4>(v != v);  // a float compare: one instruction
  return select(nan, (u >> 16) | 0x40u, rounded);
}

inline void float_to_bfloat16x4(Vec<float> v, uint16_t* dst) { half_vec::narrow(bfloat16_bits(v), dst); }

// One float32 value's float16 (half) or bfloat16 pattern.
inline uint16_t float_to_16bit(float v, bool half) { return half ? float_to_float16(v) : float_to_bfloat16(v); }

// dst[i] = the 16-bit pattern of src[i] (float16 when half, else bfloat16), n contiguous values.
inline void float_to_16bit_span(const float* src, uint16_t* dst, int64_t n, bool half) {
  using namespace half_vec;
  int64_t i = 0;
  // Eight at a time; a float16's sign comes from its input's high half, set once per eight.
  for (; i + 8 <= n; i += 8) {
    const Vec<float> a = load_vec(src + i), b = load_vec(src + i + 4);
    store8(dst + i, half ? low_halves(float16_magnitude_bits(a), float16_magnitude_bits(b)) | (high_halves(a, b) & 0x8000u)
                         : low_halves(bfloat16_bits(a), bfloat16_bits(b)));
  }
  for (; i < n; ++i) dst[i] = float_to_16bit(src[i], half);
}

}  // namespace ctw
