// Horizontal sums: the lanes of up to four float vectors added up, as one
// vector, for the dot kernel's per-pixel results (kernels/dot.cc).
// tests/cpp/microkernels holds it to a scalar reference.
#pragma once

#include "simd/vec.h"

namespace ctw {

// [sum of v[0]'s lanes, sum of v[1]'s, ...] (lanes past N hold copies).
// Interleaves and 64-bit half moves: the shuffles engines lower to single
// instructions (a general shuffle costs several).
template <int N>
inline Vec<float> lane_sums(const Vec<float> (&v)[N]) {
  static_assert(N >= 1 && N <= 4, "one to four vectors");
  typedef Vec<float> V;
  // Missing vectors repeat present ones (their sums land in unused lanes):
  // zero vectors would let the compiler fold the shuffles into byte
  // shuffles with zeroing, which engines lower to several instructions.
  const V a0 = v[0], a1 = v[N > 1 ? 1 : 0], a2 = v[N > 2 ? 2 : 0], a3 = v[N > 3 ? 3 : N > 1 ? 1 : 0];
  const V s01 = __builtin_shufflevector(a0, a1, 0, 4, 1, 5) + __builtin_shufflevector(a0, a1, 2, 6, 3, 7);
  const V s23 = __builtin_shufflevector(a2, a3, 0, 4, 1, 5) + __builtin_shufflevector(a2, a3, 2, 6, 3, 7);
  return low_64s(s01, s23) + high_64s(s01, s23);  // opaque: lanes past N stay in the pattern (vec.h)
}

// The two lanes of a double vector added up.
inline double lane_sum(Vec<double> v) { return v[0] + v[1]; }

}  // namespace ctw
