// float16 / bfloat16 <-> float32, four lanes at a time, bit for bit the
// same as the scalar conversions in dtype.h (NaN payloads, signed zeros,
// subnormals and round-to-nearest-even ties included; dtype_test.cc checks
// every 16-bit pattern one way and a sweep of float32 patterns the other).
// Written with vector extensions and only lane-uniform shifts, which is all
// wasm SIMD128 has.
#pragma once

#include <cstdint>
#include <cstring>

#include "dtype.h"
#include "vec.h"

namespace ctw {
namespace half_vec {

typedef uint16_t U16x4 __attribute__((vector_size(8)));
typedef uint32_t U32x4 __attribute__((vector_size(16)));

inline U32x4 bits_of(Vec<float> v) { return reinterpret_cast<U32x4>(v); }
inline Vec<float> float_of(U32x4 u) { return reinterpret_cast<Vec<float>>(u); }
// Lane-wise choice: mask lanes all ones take a, all zeros take b.
inline U32x4 select(U32x4 mask, U32x4 a, U32x4 b) { return (a & mask) | (b & ~mask); }

inline U32x4 widen(const uint16_t* src) {
  U16x4 h;
  std::memcpy(&h, src, sizeof(h));
  return __builtin_convertvector(h, U32x4);
}
inline void narrow(U32x4 v, uint16_t* dst) {
  const U16x4 h = __builtin_convertvector(v, U16x4);
  std::memcpy(dst, &h, sizeof(h));
}

}  // namespace half_vec

// Four float16 patterns to float32: exponent and mantissa shifted into
// place and scaled by 2^112 (exact for normals and subnormals alike),
// infinities and NaNs given the all-ones exponent, then the sign.
inline Vec<float> float16x4_to_float(const uint16_t* src) {
  using namespace half_vec;
  const U32x4 w = widen(src);
  const U32x4 magnitude = (w & 0x7fffu) << 13;
  const U32x4 scaled = bits_of(float_of(magnitude) * Vec16<float>::splat(0x1.0p112f));
  const U32x4 special = reinterpret_cast<U32x4>(magnitude >= (0x7c00u << 13));  // inf or NaN
  return float_of(select(special, magnitude | 0x7f800000u, scaled) | (w & 0x8000u) << 16);
}

inline Vec<float> bfloat16x4_to_float(const uint16_t* src) { return half_vec::float_of(half_vec::widen(src) << 16); }

// Four float32 values to float16 patterns, rounded to nearest even: normals
// by integer rounding on the 13 dropped bits (as float_to_float16);
// subnormals by adding 2^23 to |x| * 2^24 in float32, whose rounding is
// exactly the subnormal's (the result 1024 is the smallest normal's
// pattern); overflow to infinity; NaNs keep their top payload bits, quiet.
inline void float_to_float16x4(Vec<float> v, uint16_t* dst) {
  using namespace half_vec;
  const U32x4 u = bits_of(v);
  const U32x4 abs = u & 0x7fffffffu;
  const U32x4 rebased = abs - 0x38000000u;
  const U32x4 normal = (rebased + 0xfffu + ((rebased >> 13) & 1u)) >> 13;
  const U32x4 subnormal =
      bits_of(float_of(abs) * Vec16<float>::splat(0x1.0p24f) + Vec16<float>::splat(0x1.0p23f)) - 0x4b000000u;
  U32x4 r = select(reinterpret_cast<U32x4>(abs >= 0x38800000u), normal, subnormal);
  r = select(reinterpret_cast<U32x4>(abs >= 0x477ff000u), U32x4{} + 0x7c00u, r);
  r = select(reinterpret_cast<U32x4>(abs > 0x7f800000u), 0x7e00u | ((abs >> 13) & 0x3ffu), r);
  narrow(r | ((u >> 16) & 0x8000u), dst);
}

// Four float32 values to bfloat16 patterns, rounded to nearest even; NaNs quiet.
inline void float_to_bfloat16x4(Vec<float> v, uint16_t* dst) {
  using namespace half_vec;
  const U32x4 u = bits_of(v);
  const U32x4 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const U32x4 nan = reinterpret_cast<U32x4>((u & 0x7fffffffu) > 0x7f800000u);
  narrow(select(nan, (u >> 16) | 0x40u, rounded), dst);
}

// One float32 value's float16 (half) or bfloat16 pattern.
inline uint16_t float_to_16bit(float v, bool half) { return half ? float_to_float16(v) : float_to_bfloat16(v); }

// dst[i] = the 16-bit pattern of src[i] (float16 when half, else bfloat16), n contiguous values.
inline void float_to_16bit_span(const float* src, uint16_t* dst, int64_t n, bool half) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    if (half) {
      float_to_float16x4(load_vec(src + i), dst + i);
    } else {
      float_to_bfloat16x4(load_vec(src + i), dst + i);
    }
  }
  for (; i < n; ++i) dst[i] = float_to_16bit(src[i], half);
}

}  // namespace ctw
