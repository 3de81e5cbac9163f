// The pixel-lane micro-kernel (kernels/pixels.cc): one filter tap over
// every input channel for a tile of PV vectors of consecutive output pixels
// x CO output channels, output pixels in the vector lanes.
// tests/cpp/microkernels holds it to a scalar reference.
#pragma once

#include <cstdint>

#include "simd/vec.h"

namespace ctw {

// Vectors of pixels per tile for CO output channels: PV * CO accumulators
// plus the PV input vectors and CO filter splats of a step fit the 15 vector
// registers V8 allocates on x64 (it loads a step's vectors before multiplying).
template <int CO>
constexpr int kPixelTileVectors = CO == 1 ? 6 : CO == 2 ? 3 : 2;

// acc[v][c] += x[v] * w[c] for each input channel: x is the channel's row
// (vector v at x + v * lanes; the next channel `plane` further), w the tap's
// weights [channel][CO]. kMasked: lanes whose mask is 0 add exactly nothing
// (the product is cleared, so 0 * Inf does not become NaN).
template <typename T, int PV, int CO, bool kMasked>
inline void accumulate_tap(const T* x, int64_t plane, const T* w, int64_t cin,
                           const typename Vec16<T>::mask (&mask)[PV], Vec<T> (&acc)[PV][CO]) {
  typedef typename Vec16<T>::mask M;
  constexpr int L = Vec16<T>::kLanes;
  for (int64_t ci = 0; ci < cin; ++ci, x += plane, w += CO) {
    Vec<T> xv[PV];
    unroll<PV>([&](auto v) { xv[v] = load_vec(x + v * L); });
    unroll<CO>([&](auto c) {
      const Vec<T> wc = Vec16<T>::splat(w[c]);
      unroll<PV>([&](auto v) {
        if constexpr (kMasked) {
          acc[v][c] += reinterpret_cast<Vec<T>>(reinterpret_cast<M>(xv[v] * wc) & mask[v]);
        } else {
          acc[v][c] = madd(xv[v], wc, acc[v][c]);
        }
      });
    });
  }
}

}  // namespace ctw
