// lane_sums<N> and lane_sum (microkernels/lane_sums.h) against a scalar
// reference: lane i of lane_sums<N>(v) for i < N is the sum of v[i]'s four
// lanes (lanes past N are unspecified and not checked); lane_sum(v) is
// v[0] + v[1]. Bounds: microkernel_test_util.h, with n = 4 terms (a
// float sum of four in any order); integer data is exact.
#include "microkernels/lane_sums.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "microkernel_test_util.h"

namespace ctw_test {
namespace {

typedef ctw::Vec<float> V;

template <typename NC>
class LaneSumsTest : public ::testing::Test {
 protected:
  static constexpr int N = NC::value;

  // lane_sums<N> of v, each of the first N lanes against the reference.
  static void check(const V (&v)[N], bool exact) {
    const V sums = ctw::lane_sums<N>(v);
    for (int i = 0; i < N; ++i) {
      RefSum r;
      for (int j = 0; j < 4; ++j) r.add(v[i][j]);
      EXPECT_TRUE(MatchesRef(sums[i], r, exact)) << "vector " << i << " of " << N;
    }
  }
};
typedef ::testing::Types<std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                         std::integral_constant<int, 3>, std::integral_constant<int, 4>>
    Counts;
struct CountNames {
  template <typename NC>
  static std::string GetName(int) {
    return "N" + std::to_string(NC::value);
  }
};
TYPED_TEST_SUITE(LaneSumsTest, Counts, CountNames);

TYPED_TEST(LaneSumsTest, FirstLanesAreTheVectorsSums) {
  Rng rng(301);
  for (int i = 0; i < 200; ++i) {
    const bool integers = i % 2 == 0;
    V v[TestFixture::N];
    draw_lanes<float>(rng, v, TestFixture::N, integers);
    this->check(v, integers);
  }
}

// Distinct magnitudes per vector and lane (2^(4i + j)): a sum taken from the
// wrong vector or lane, or a lane counted twice or not at all, is off by a
// power of two, not by rounding.
TYPED_TEST(LaneSumsTest, EachLaneCountsOnce) {
  V v[TestFixture::N];
  for (int i = 0; i < TestFixture::N; ++i)
    for (int j = 0; j < 4; ++j) v[i][j] = std::ldexp(1.0f, 4 * i + j);
  this->check(v, true);
}

// A NaN or infinity in one vector shows in its own sum only.
TYPED_TEST(LaneSumsTest, NonFiniteStaysInItsOwnSum) {
  constexpr int N = TestFixture::N;
  Rng rng(303);
  for (int bad = 0; bad < N; ++bad)
    for (float special : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      V v[N];
      draw_lanes<float>(rng, v, N, false);
      v[bad][static_cast<int>(rng.range(0, 3))] = special;
      this->check(v, false);
    }
}

// The double version: the two lanes, added once.
TEST(LaneSum, AddsTheTwoLanes) {
  Rng rng(304);
  for (int i = 0; i < 100; ++i) {
    ctw::Vec<double> v;
    draw_lanes<double>(rng, &v, 1, i % 2 == 0);
    RefSum r;
    r.add(v[0]);
    r.add(v[1]);
    EXPECT_TRUE(MatchesRef(ctw::lane_sum(v), r, true)) << v[0] << " + " << v[1];  // one rounding: exact
  }
  EXPECT_TRUE(std::isnan(ctw::lane_sum(ctw::Vec<double>{std::numeric_limits<double>::infinity(),
                                                        -std::numeric_limits<double>::infinity()})));
}

}  // namespace
}  // namespace ctw_test
