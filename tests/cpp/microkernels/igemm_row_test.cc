// igemm_row (microkernels/igemm_tile.h), the igemm tile's path for a pixel
// that a tap reaches alone, in both of its forms: one pair of partial sums
// (the SIMD builds) and two, even and odd k (the relaxed-SIMD build, which
// the native build does not compile by default). For each of the NR
// channels c:
//
//   acc[c] = acc_before[c] + sum over k < kc of a[k] * b[k][c]
//
// against the double reference of microkernel_test_util.h, for every kc
// from 0 to 9 (odd kc ends on the first pair's step) and a long one.
#include "microkernels/igemm_tile.h"

#include <gtest/gtest.h>

#include <vector>

#include "microkernel_test_util.h"

namespace ctw_test {
namespace {

template <typename T, bool kTwoPairs>
void check_row(Rng& rng, size_t kc, bool integers) {
  typedef typename ctw::Vec16<T>::type V;
  constexpr int L = ctw::Vec16<T>::kLanes;
  constexpr int NR = ctw::TileShape<T>::kNR;
  const std::vector<T> a = draw_vector<T>(rng, kc, integers);
  const std::vector<T> b = draw_vector<T>(rng, kc * NR, integers);
  const std::vector<T> before = draw_vector<T>(rng, NR, integers);
  V acc0 = ctw::load_vec(before.data()), acc1 = ctw::load_vec(before.data() + L);
  ctw::igemm_row<T, kTwoPairs>(a.data(), b.data(), kc, acc0, acc1);
  T got[NR];
  ctw::store_vec(got, acc0);
  ctw::store_vec(got + L, acc1);
  for (int c = 0; c < NR; ++c) {
    RefSum ref;
    ref.add(before[c]);
    for (size_t k = 0; k < kc; ++k) ref.add_product(a[k], b[k * NR + c]);
    EXPECT_TRUE(MatchesRef(got[c], ref, integers)) << "kc " << kc << ", channel " << c << (kTwoPairs ? ", two pairs" : ", one pair");
  }
}

template <typename T>
void check_all(uint64_t seed) {
  Rng rng(seed);
  for (bool integers : {true, false}) {
    for (size_t kc : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 301}) {
      check_row<T, false>(rng, kc, integers);
      check_row<T, true>(rng, kc, integers);
    }
  }
}

TEST(IgemmRow, FloatBothForms) { check_all<float>(501); }
TEST(IgemmRow, DoubleBothForms) { check_all<double>(502); }

}  // namespace
}  // namespace ctw_test
