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

// a * b + c, the step every kernel's inner loop takes. Built with relaxed
// SIMD (-mrelaxed-simd, the ctw-relaxed-simd-threads module) it is one
// relaxed multiply-add, which the engine runs as a fused multiply-add where
// the CPU has one (one rounding) or as a multiply and an add (two roundings):
// results may differ between machines in the last bits, and the tests'
// tolerances allow either. Elsewhere, natively too, a multiply and an add.
// clang 14 names the instruction __builtin_wasm_fma_* and emits a prototype
// opcode that scripts/patch-relaxed-simd.mjs renumbers after linking; later
// clangs name it __builtin_wasm_relaxed_madd_* and emit the final opcode.
// kRelaxedMadd: madd is the relaxed instruction, whose fused form has a
// longer latency than an add (a kernel may then want more chains of sums).
#ifdef __wasm_relaxed_simd__
constexpr bool kRelaxedMadd = true;
#else
constexpr bool kRelaxedMadd = false;
#endif
// madd_as<false>: a multiply and an add in every build, for kernels that
// choose per host between the two forms (kernels/madd_choice.h).
template <bool kFused, typename V>
inline V madd_as(V a, V b, V c) {
#ifdef __wasm_relaxed_simd__
  if constexpr (!kFused) {
    return a * b + c;
  } else if constexpr (sizeof(a[0]) == 4) {
#if __has_builtin(__builtin_wasm_relaxed_madd_f32x4)
    return __builtin_wasm_relaxed_madd_f32x4(a, b, c);
#else
    return __builtin_wasm_fma_f32x4(a, b, c);
#endif
  } else {
#if __has_builtin(__builtin_wasm_relaxed_madd_f64x2)
    return __builtin_wasm_relaxed_madd_f64x2(a, b, c);
#else
    return __builtin_wasm_fma_f64x2(a, b, c);
#endif
  }
#else
  return a * b + c;
#endif
}
template <typename V>
inline V madd(V a, V b, V c) {
  return madd_as<kRelaxedMadd>(a, b, c);
}

// A byte shuffle of a and b (index i < 16: a's byte i, else b's byte i - 16).
// In wasm it is opaque: LLVM rewrites a plain __builtin_shufflevector whose
// result lanes are partly unused (or that it can merge with the operations
// around it) into byte shuffles with zeros that no longer match V8's
// one-instruction patterns, and V8 then lowers each to two pshufb, their
// constants and an or (seen in the dot kernel's lane sums and the float16
// input widening). Natively the same indices, as a plain shuffle.
typedef signed char Bytes16 __attribute__((vector_size(16)));
template <int... I, typename V>
inline V shuffle_bytes(V a, V b) {
  static_assert(sizeof...(I) == 16 && sizeof(V) == 16, "sixteen byte indices of two 16-byte vectors");
#ifdef __wasm_simd128__
  return reinterpret_cast<V>(__builtin_wasm_shuffle_i8x16(reinterpret_cast<Bytes16>(a), reinterpret_cast<Bytes16>(b), I...));
#else
  return reinterpret_cast<V>(__builtin_shufflevector(reinterpret_cast<Bytes16>(a), reinterpret_cast<Bytes16>(b), I...));
#endif
}

// The low 64-bit halves of a and b as one vector [a.lo, b.lo], and the high
// halves [a.hi, b.hi]: single instructions in V8 (movlhps / unpckhqdq).
template <int H>  // 0: the low halves, 1: the high halves
inline Vec<float> halves_64(Vec<float> a, Vec<float> b) {
  constexpr int o = 8 * H;
  return shuffle_bytes<o, o + 1, o + 2, o + 3, o + 4, o + 5, o + 6, o + 7, 16 + o, 17 + o, 18 + o, 19 + o, 20 + o,
                       21 + o, 22 + o, 23 + o>(a, b);
}
inline Vec<float> low_64s(Vec<float> a, Vec<float> b) { return halves_64<0>(a, b); }
inline Vec<float> high_64s(Vec<float> a, Vec<float> b) { return halves_64<1>(a, b); }

// Transposes the 4x4 block of rows r0..r3 in place (r_i[j] <-> r_j[i]) by
// two rounds of interleaving shuffles.
inline void transpose4(Vec<float>& r0, Vec<float>& r1, Vec<float>& r2, Vec<float>& r3) {
  const Vec<float> t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
  const Vec<float> t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  r0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
  r1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  r2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
  r3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

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
