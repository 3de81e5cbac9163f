// Stores of computed values into an output of any dtype: float32 and
// float64 as they are, float16 and bfloat16 rounded to nearest even from
// float32. Kernels pick the output dtype once per call (with_output_dtype),
// so their inner loops carry no dtype switch.
#pragma once

#include <cstdint>
#include <type_traits>

#include "semantics/dtype.h"
#include "simd/half_vec.h"
#include "simd/vec.h"

namespace ctw {

// Stores v into out[index] in dtype D.
template <DType D, typename T>
inline void store_output(void* out, int64_t index, T v) {
  if constexpr (D == DType::kFloat16) {
    static_cast<uint16_t*>(out)[index] = float_to_float16(static_cast<float>(v));
  } else if constexpr (D == DType::kBFloat16) {
    static_cast<uint16_t*>(out)[index] = float_to_bfloat16(static_cast<float>(v));
  } else if constexpr (D == DType::kFloat64) {
    static_cast<double*>(out)[index] = static_cast<double>(v);
  } else {
    static_cast<float*>(out)[index] = static_cast<float>(v);
  }
}

// Stores lanes [0, N) of v at out[index + l * step], l = 0 .. N-1, in dtype
// D; 16-bit types are rounded four lanes at a time.
template <DType D, int N, typename V>
inline void store_lanes(void* out, int64_t index, int64_t step, const V& v) {
  if constexpr (D == DType::kFloat16 || D == DType::kBFloat16) {
    static_assert(std::is_same<V, Vec<float>>::value, "16-bit outputs are computed in float32");
    uint16_t bits[4];
    if constexpr (D == DType::kFloat16) {
      float_to_float16x4(v, bits);
    } else {
      float_to_bfloat16x4(v, bits);
    }
    unroll<N>([&](auto l) { static_cast<uint16_t*>(out)[index + l * step] = bits[l]; });
  } else {
    unroll<N>([&](auto l) { store_output<D>(out, index + l * step, v[l.value]); });
  }
}

// Calls f(std::integral_constant<DType, D>{}) for the output dtype D.
template <typename F>
void with_output_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat64: f(std::integral_constant<DType, DType::kFloat64>{}); break;
    case DType::kFloat32: f(std::integral_constant<DType, DType::kFloat32>{}); break;
    case DType::kFloat16: f(std::integral_constant<DType, DType::kFloat16>{}); break;
    case DType::kBFloat16: f(std::integral_constant<DType, DType::kBFloat16>{}); break;
  }
}

// Whether the compute type T serves output dtype D (double for float64,
// float for every other dtype): the only pairings kernels instantiate.
template <typename T, DType D>
constexpr bool kComputesOutput = (D == DType::kFloat64) == std::is_same<T, double>::value;

}  // namespace ctw
