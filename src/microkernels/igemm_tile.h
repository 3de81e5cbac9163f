// The indirect-GEMM micro-kernel (f32 4x8, f64 4x4): MR output pixels x NR
// output channels, accumulated over (tap, input channel) in registers.
// The igemm and columns kernels run it; tests/cpp/microkernels holds it to a
// scalar reference.
//
// "Indirect": row m of the A matrix for tap t is not stored; a[t*MR + m]
// points at the input pixel that tap t reads for output pixel m (or at a
// zero row when that pixel lies outside the input). B is the packed filter
// block for NR output channels: [tap][input channel][NR].
//
// Written with the vector extensions of vec.h, each step a madd (vec.h: a
// relaxed multiply-add in the relaxed-SIMD build, else a multiply and an
// add), as in XNNPACK's wasmsimd and wasmrelaxedsimd kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "semantics/dtype.h"
#include "simd/vec.h"

namespace ctw {

// Tile sizes per element type: MR pixels x NR channels (two vectors), i.e.
// 8 vector accumulators, which with the 2 B vectors and an A splat fits the
// 16 vector registers V8 has on x64 and arm64.
template <typename T>
struct TileShape {
  static constexpr int kMR = 4;
  static constexpr int kNR = 2 * Vec16<T>::kLanes;
};

// NR for a plan's dtype (float64 is computed in double, every other dtype in float).
inline int64_t tile_nr(DType t) {
  return with_compute_type(t, [](auto c) -> int64_t { return TileShape<decltype(c)>::kNR; });
}

// Where the tile's results go: pixel m's channel c is out[m] + c*channel_stride.
template <typename T>
struct TileOutput {
  T* const* rows;          // [MR]; rows[m] unused for m >= mr
  size_t channel_stride;   // 1 for channels last; output plane size for channels first
  int mr;                  // valid pixels in this tile (<= MR)
  int nr;                  // valid channels in this tile (<= NR)
  bool accumulate;         // add to what is there (a later K block) instead of storing
};

// One pixel row of the tile over kc input channels: acc += a[k] * b[k][0..NR).
// A row alone (a tile at an image border, a 1x1 input) waits on the latency
// of its chains of sums. A fused multiply-add's is longer than an add's, so
// with relaxed madd even and odd k go to two pairs of partial sums. With a
// multiply and an add one pair is the faster (a second slowed the whole
// tile's code in V8), and more pairs would not fit V8's registers (it loads
// a step's vectors before it multiplies).
// kTwoPairs is a parameter so that the native tests run both forms; kFused:
// relaxed madd (in the relaxed build) or a multiply and an add.
template <typename T, bool kTwoPairs = kRelaxedMadd, bool kFused = kRelaxedMadd>
inline void igemm_row(const T* a, const T* b, size_t kc, typename Vec16<T>::type& acc0,
                      typename Vec16<T>::type& acc1) {
  typedef typename Vec16<T>::type V;
  constexpr int L = Vec16<T>::kLanes;
  constexpr int NR = TileShape<T>::kNR;
  V s0 = V{}, s1 = V{};
  size_t k = 0;
  if constexpr (kTwoPairs) {
    V t0 = V{}, t1 = V{};
    for (; k + 2 <= kc; k += 2, b += 2 * NR) {
      const V x = Vec16<T>::splat(a[k]);
      s0 = madd_as<kFused>(x, load_vec(b), s0);
      s1 = madd_as<kFused>(x, load_vec(b + L), s1);
      const V y = Vec16<T>::splat(a[k + 1]);
      t0 = madd_as<kFused>(y, load_vec(b + NR), t0);
      t1 = madd_as<kFused>(y, load_vec(b + NR + L), t1);
    }
    s0 += t0;
    s1 += t1;
  }
  for (; k < kc; ++k, b += NR) {
    const V x = Vec16<T>::splat(a[k]);
    s0 = madd_as<kFused>(x, load_vec(b), s0);
    s1 = madd_as<kFused>(x, load_vec(b + L), s1);
  }
  acc0 += s0;
  acc1 += s1;
}

// Stores (or adds) one row's NR channels from its two accumulators.
template <typename T>
inline void store_row(typename Vec16<T>::type c0, typename Vec16<T>::type c1, const TileOutput<T>& out, int m) {
  constexpr int L = Vec16<T>::kLanes;
  constexpr int NR = TileShape<T>::kNR;
  T* row = out.rows[m];
  if (out.channel_stride == 1 && out.nr == NR) {
    if (out.accumulate) {
      c0 += load_vec(row);
      c1 += load_vec(row + L);
    }
    store_vec(row, c0);
    store_vec(row + L, c1);
    return;
  }
  T lanes[NR];
  store_vec(lanes, c0);
  store_vec(lanes + L, c1);
  if (out.accumulate) {
    for (int c = 0; c < out.nr; ++c) row[c * out.channel_stride] += lanes[c];
  } else {
    for (int c = 0; c < out.nr; ++c) row[c * out.channel_stride] = lanes[c];
  }
}

// taps: entries in a (each MR pointers); kc: input channels per tap;
// a_offset: first input channel; w: packed B at (first tap, first channel);
// w_tap_stride: elements between taps in B; zero: the zero row.
// finite_w: every weight is finite, so a row of zeros may join the tile's
// products (0 * w adds nothing); otherwise rows that read the zero row are
// skipped, since 0 * Inf would make a NaN that TensorFlow does not have.
// kFused: the multiply-adds as relaxed madd (in the relaxed build) or as a
// multiply and an add; a kernel chooses per host (kernels/madd_choice.h).
template <typename T, bool kFused = kRelaxedMadd>
inline void igemm_tile(int taps, size_t kc, const T* const* a, size_t a_offset, const T* w,
                              size_t w_tap_stride, const T* zero, bool finite_w, const TileOutput<T>& out) {
  typedef typename Vec16<T>::type V;
  constexpr int MR = TileShape<T>::kMR;
  constexpr int L = Vec16<T>::kLanes;
  constexpr int NR = TileShape<T>::kNR;
  V acc0[MR], acc1[MR];
  for (int m = 0; m < MR; ++m) acc0[m] = acc1[m] = V{};
  unsigned live_rows = 0;  // bit m: some tap reached pixel m

  for (int t = 0; t < taps; ++t, a += MR, w += w_tap_stride) {
    const T* a0 = a[0];
    const T* a1 = a[1];
    const T* a2 = a[2];
    const T* a3 = a[3];
    const int live = (a0 != zero) + (a1 != zero) + (a2 != zero) + (a3 != zero);
    if (live == 0) continue;  // a tap that reaches none of the tile's pixels
    live_rows |= (a0 != zero) | (a1 != zero) << 1 | (a2 != zero) << 2 | (a3 != zero) << 3;
    if (live == 1 || (live < MR && !finite_w)) {
      // Some pixels of the tile lie outside the input for this tap (image
      // borders, tiny inputs): run only the rows that contribute, so a tap
      // that reaches one pixel costs one row, not four. With two or more
      // rows live (and finite weights) the whole tile runs, sharing each
      // weight load across its rows.
      if (a0 != zero) igemm_row<T, kFused, kFused>(a0 + a_offset, w, kc, acc0[0], acc1[0]);
      if (a1 != zero) igemm_row<T, kFused, kFused>(a1 + a_offset, w, kc, acc0[1], acc1[1]);
      if (a2 != zero) igemm_row<T, kFused, kFused>(a2 + a_offset, w, kc, acc0[2], acc1[2]);
      if (a3 != zero) igemm_row<T, kFused, kFused>(a3 + a_offset, w, kc, acc0[3], acc1[3]);
      continue;
    }
    a0 += a_offset;
    a1 += a_offset;
    a2 += a_offset;
    a3 += a_offset;
    const T* b = w;
    for (size_t k = 0; k < kc; ++k, b += NR) {
      V b0, b1;
      std::memcpy(&b0, b, sizeof(V));
      std::memcpy(&b1, b + L, sizeof(V));
      const V x0 = Vec16<T>::splat(a0[k]);
      acc0[0] = madd_as<kFused>(x0, b0, acc0[0]);
      acc1[0] = madd_as<kFused>(x0, b1, acc1[0]);
      const V x1 = Vec16<T>::splat(a1[k]);
      acc0[1] = madd_as<kFused>(x1, b0, acc0[1]);
      acc1[1] = madd_as<kFused>(x1, b1, acc1[1]);
      const V x2 = Vec16<T>::splat(a2[k]);
      acc0[2] = madd_as<kFused>(x2, b0, acc0[2]);
      acc1[2] = madd_as<kFused>(x2, b1, acc1[2]);
      const V x3 = Vec16<T>::splat(a3[k]);
      acc0[3] = madd_as<kFused>(x3, b0, acc0[3]);
      acc1[3] = madd_as<kFused>(x3, b1, acc1[3]);
    }
  }
  static_assert(MR == 4, "the loop above is written out for 4 rows");

  // Row by row, each accumulator named by a constant index so that it is
  // read from its register. A later K block adds only to the rows some tap
  // reached (a 1x1 input with a 4x4 filter reaches one pixel of each tile).
  static_assert(MR == 4, "the stores below are written out for 4 rows");
  const bool skip_dead = out.accumulate;
  if (out.mr > 0 && (!skip_dead || (live_rows & 1u))) store_row<T>(acc0[0], acc1[0], out, 0);
  if (out.mr > 1 && (!skip_dead || (live_rows & 2u))) store_row<T>(acc0[1], acc1[1], out, 1);
  if (out.mr > 2 && (!skip_dead || (live_rows & 4u))) store_row<T>(acc0[2], acc1[2], out, 2);
  if (out.mr > 3 && (!skip_dead || (live_rows & 8u))) store_row<T>(acc0[3], acc1[3], out, 3);
}

}  // namespace ctw
