// 16-byte vectors for the fast kernels, written with GCC/Clang vector
// extensions rather than <wasm_simd128.h> intrinsics: the same source
// compiles to SIMD128 under Emscripten (-msimd128) and to SSE natively, so
// the native unit tests and sanitizers exercise the very code that runs in
// wasm.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace ctw {

template <typename T>
struct Vec16;
// mask: an integer vector of the same lane width (comparisons yield all-ones
// or zero lanes); lanes(): 0, 1, ... for building lane masks.
template <>
struct Vec16<float> {
  typedef float type __attribute__((vector_size(16)));
  typedef int32_t lane_int;
  typedef int32_t mask __attribute__((vector_size(16)));
  static constexpr int kLanes = 4;
  static type splat(float x) { return type{x, x, x, x}; }
  static mask lanes() { return mask{0, 1, 2, 3}; }
};
template <>
struct Vec16<double> {
  typedef double type __attribute__((vector_size(16)));
  typedef int64_t lane_int;
  typedef int64_t mask __attribute__((vector_size(16)));
  static constexpr int kLanes = 2;
  static type splat(double x) { return type{x, x}; }
  static mask lanes() { return mask{0, 1}; }
};

template <typename T>
using Vec = typename Vec16<T>::type;

// Unaligned vector load and store.
template <typename T>
inline Vec<T> load_vec(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <typename T>
inline void store_vec(T* p, const Vec<T>& v) {
  std::memcpy(p, &v, sizeof(v));
}

// The low 64-bit halves of a and b as one vector [a.lo, b.lo], and the high
// halves [a.hi, b.hi]: single instructions in V8 (movlhps / unpckhqdq). In
// wasm they are opaque shuffles: when some result lanes are never used,
// LLVM rewrites a plain __builtin_shufflevector with zeros in their place,
// which no longer matches V8's 64-bit patterns and is lowered to two byte
// shuffles, their constants and an or (seen in the dot kernel's lane sums).
template <int H>  // 0: the low halves, 1: the high halves
inline Vec<float> halves_64(Vec<float> a, Vec<float> b) {
#ifdef __wasm_simd128__
  typedef signed char B __attribute__((vector_size(16)));
  constexpr int o = 8 * H;
  return reinterpret_cast<Vec<float>>(__builtin_wasm_shuffle_i8x16(
      reinterpret_cast<B>(a), reinterpret_cast<B>(b), o, o + 1, o + 2, o + 3, o + 4, o + 5, o + 6, o + 7, 16 + o,
      17 + o, 18 + o, 19 + o, 20 + o, 21 + o, 22 + o, 23 + o));
#else
  return __builtin_shufflevector(a, b, 2 * H, 2 * H + 1, 4 + 2 * H, 5 + 2 * H);
#endif
}
inline Vec<float> low_64s(Vec<float> a, Vec<float> b) { return halves_64<0>(a, b); }
inline Vec<float> high_64s(Vec<float> a, Vec<float> b) { return halves_64<1>(a, b); }

// Calls f(std::integral_constant<int, I>{}) for I = 0 .. N-1, written out,
// so that arrays of vector accumulators indexed by I stay in registers.
template <typename F, int... I>
inline void unroll_impl(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, typename F>
inline void unroll(F&& f) {
  unroll_impl(f, std::make_integer_sequence<int, N>{});
}

}  // namespace ctw
