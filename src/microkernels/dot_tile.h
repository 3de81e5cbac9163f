// The dot-product micro-kernels of the input-channel-lane kernel
// (kernels/dot.cc): MR consecutive output pixels x CO output channels, each
// a dot product over (tap, input channel) with input channels in the vector
// lanes. The accumulators stay vectors; lane_sums.h adds their lanes once
// per pixel. tests/cpp/microkernels holds them to a scalar reference.
#pragma once

#include <cstdint>

#include "simd/vec.h"

namespace ctw {

// Pixels per tile for CO output channels: MR * CO accumulators plus the MR
// input and CO filter vectors of a step fit the 15 vector registers V8
// allocates on x64 (it loads a step's vectors before multiplying).
template <int CO>
constexpr int kDotTileRows = CO == 1 ? 6 : CO == 2 ? 4 : 2;

// acc[m][c] += x[m] . w[c] over k elements (a multiple of the lanes): row
// m's input starts cp after row m-1's (the next pixel), channel c's weights
// w_stride after c-1's.
template <typename T, int MR, int CO>
inline void dot_tile(const T* x, int64_t cp, const T* w, int64_t w_stride, int64_t k, Vec<T> (&acc)[MR][CO]) {
  constexpr int L = Vec16<T>::kLanes;
  for (int64_t i = 0; i < k; i += L) {
    Vec<T> wv[CO];
    unroll<CO>([&](auto c) { wv[c] = load_vec(w + c * w_stride + i); });
    unroll<MR>([&](auto m) {
      const Vec<T> xv = load_vec(x + m * cp + i);
      unroll<CO>([&](auto c) { acc[m][c] = madd(xv, wv[c], acc[m][c]); });
    });
  }
}

// One row of a tile (the tile's other pixels lie outside part of the run's
// reach): acc[c] += x . w[c] over k elements.
template <typename T, int CO>
inline void dot_row(const T* x, const T* w, int64_t w_stride, int64_t k, Vec<T> (&acc)[CO]) {
  constexpr int L = Vec16<T>::kLanes;
  for (int64_t i = 0; i < k; i += L) {
    const Vec<T> xv = load_vec(x + i);
    unroll<CO>([&](auto c) { acc[c] = madd(xv, load_vec(w + c * w_stride + i), acc[c]); });
  }
}

}  // namespace ctw
