// accumulate_tap (microkernels/pixel_tap.h) against a scalar reference, for
// every (element type, CO) the pixel kernel instantiates, with PV =
// kPixelTileVectors<CO>, masked and unmasked. Output pixels are the lanes:
//
//   acc[v][c] lane j += sum over ci < cin of x[ci * plane + v * L + j] * w[ci * CO + c]
//
// in double (bounds: microkernel_test_util.h; n = cin + 1 terms, the
// accumulator's first value among them). With kMasked, a lane whose mask is
// 0 must keep its bits whatever it reads (0, NaN, an input times an
// infinite weight): the pixel kernel's edge lanes lie outside the input and
// TensorFlow has no term for them. Inputs are sized exactly (ASan).
#include "microkernels/pixel_tap.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "microkernel_test_util.h"

namespace ctw_test {
namespace {

template <typename S>
class PixelTapTest : public ::testing::Test {
 protected:
  typedef typename S::Elem T;
  typedef ctw::Vec<T> V;
  typedef typename ctw::Vec16<T>::mask M;
  static constexpr int CO = S::kCO;
  static constexpr int PV = ctw::kPixelTileVectors<CO>;
  static constexpr int L = ctw::Vec16<T>::kLanes;

  struct Tap {
    int64_t plane, cin;
    std::vector<T> x, w;  // x: cin rows of PV * L pixels, plane apart; w: [cin][CO]
    M mask[PV];
    V before[PV][CO], acc[PV][CO];
    bool integers;

    bool on(int v, int j) const { return mask[v][j] != 0; }

    // Random data; lanes set in `off` (bit v * L + j) masked off. inf_percent:
    // chance that a weight is +-Inf. Masked-off lanes read 0, NaN or an
    // ordinary value.
    Tap(Rng& rng, int64_t cin_, int64_t plane_pad, unsigned off, int inf_percent, bool integers_)
        : plane(PV * L + plane_pad), cin(cin_), integers(integers_) {
      x = draw_vector<T>(rng, static_cast<size_t>(cin > 0 ? (cin - 1) * plane + PV * L : 0), integers);
      w = draw_vector<T>(rng, static_cast<size_t>(cin * CO), integers);
      for (T& wi : w) {
        if (rng.range(0, 99) < inf_percent) wi = (rng.coin() ? 1 : -1) * std::numeric_limits<T>::infinity();
      }
      for (int v = 0; v < PV; ++v)
        for (int j = 0; j < L; ++j) mask[v][j] = (off >> (v * L + j)) & 1u ? 0 : -1;
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int v = 0; v < PV; ++v)
          for (int j = 0; j < L; ++j) {
            if (on(v, j)) continue;
            T& xi = x[ci * plane + v * L + j];
            const int64_t kind = rng.range(0, 2);
            if (kind == 0) xi = T(0);
            if (kind == 1) xi = std::numeric_limits<T>::quiet_NaN();
          }
      draw_lanes<T>(rng, &acc[0][0], PV * CO, integers, &before[0][0]);
    }

    template <bool kMasked>
    void run() {
      ctw::accumulate_tap<T, PV, CO, kMasked>(x.data(), plane, w.data(), cin, mask, acc);
    }

    RefSum reference(int v, int c, int j) const {
      RefSum r;
      r.add(before[v][c][j]);
      for (int64_t ci = 0; ci < cin; ++ci) r.add_product(x[ci * plane + v * L + j], w[ci * CO + c]);
      return r;
    }

    // Lanes masked on (all of them when !masked) match the reference,
    // the others keep their bits.
    void check(bool masked) const {
      for (int v = 0; v < PV; ++v)
        for (int c = 0; c < CO; ++c)
          for (int j = 0; j < L; ++j) {
            if (masked && !on(v, j)) {
              EXPECT_TRUE(SameBits(acc[v][c][j], before[v][c][j]))
                  << "masked-off vector " << v << " lane " << j << " channel " << c << ", cin " << cin;
            } else {
              EXPECT_TRUE(MatchesRef(acc[v][c][j], reference(v, c, j), integers))
                  << "vector " << v << " lane " << j << " channel " << c << ", cin " << cin << ", plane " << plane;
            }
          }
    }
  };

  static unsigned random_off(Rng& rng) {
    return static_cast<unsigned>(rng.next() & ((1ull << (PV * L)) - 1));
  }
};
TYPED_TEST_SUITE(PixelTapTest, ElemCoTypes, ElemCoNames);

// The tile sizes, and the register budget the header states for them.
TYPED_TEST(PixelTapTest, TileFitsFifteenVectorRegisters) {
  EXPECT_EQ(this->PV, this->CO == 1 ? 6 : this->CO == 2 ? 3 : 2);
  EXPECT_TRUE(FitsVectorRegisters(this->PV, this->CO));
}

// Unmasked: every lane is the reference; integer data exactly.
TYPED_TEST(PixelTapTest, UnmaskedMatchesReference) {
  Rng rng(401);
  for (int64_t cin : {0, 1, 2, 7, 64})
    for (int64_t plane_pad : {0, 5})
      for (bool integers : {false, true}) {
        typename TestFixture::Tap tap(rng, cin, plane_pad, 0u, 0, integers);
        tap.template run<false>();
        tap.check(false);
      }
}

// Masked with finite weights: lanes on match the reference, lanes off keep
// their bits even where they read NaN.
TYPED_TEST(PixelTapTest, MaskedLanesAddNothing) {
  Rng rng(402);
  for (int i = 0; i < 60; ++i) {
    const unsigned off = i == 0 ? ~0u : i == 1 ? 0u : this->random_off(rng);
    typename TestFixture::Tap tap(rng, rng.range(1, 20), rng.range(0, 3), off, 0, i % 2 == 0);
    tap.template run<true>();
    tap.check(true);
  }
}

// Masked with +-Inf weights: 0 * Inf, NaN * Inf and x * Inf in lanes off
// leave them exactly as they were; lanes on get what the reference gets
// (+-Inf, or NaN where it has NaN too).
TYPED_TEST(PixelTapTest, MaskedLanesIgnoreInfiniteWeights) {
  Rng rng(403);
  for (int i = 0; i < 60; ++i) {
    typename TestFixture::Tap tap(rng, rng.range(1, 6), 1, this->random_off(rng), 30, false);
    tap.template run<true>();
    tap.check(true);
  }
}

// With every lane on, the masked variant is the unmasked one bit for bit
// (the pixel kernel runs the unmasked one on interior tiles).
TYPED_TEST(PixelTapTest, FullMaskEqualsUnmasked) {
  typedef typename TestFixture::T T;
  constexpr int PV = TestFixture::PV, CO = TestFixture::CO, L = TestFixture::L;
  Rng rng(404);
  typename TestFixture::Tap masked(rng, 9, 2, 0u, 0, false);
  typename TestFixture::Tap unmasked = masked;
  masked.template run<true>();
  unmasked.template run<false>();
  for (int v = 0; v < PV; ++v)
    for (int c = 0; c < CO; ++c)
      for (int j = 0; j < L; ++j) EXPECT_TRUE(SameBits<T>(masked.acc[v][c][j], unmasked.acc[v][c][j]));
}

}  // namespace
}  // namespace ctw_test
