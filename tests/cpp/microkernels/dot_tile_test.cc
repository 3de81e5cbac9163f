// dot_tile and dot_row (microkernels/dot_tile.h) against a scalar
// reference, for every (element type, CO) the dot kernel instantiates, with
// MR = kDotTileRows<CO>. The accumulators keep input channels in their lanes
// (lane_sums.h adds them later), so the reference is per lane:
//
//   acc[m][c] lane j += sum over i = 0, L, 2L, ... < k of x[m * cp + i + j] * w[c * w_stride + i + j]
//
// in double (bounds: microkernel_test_util.h; n = k / L + 1 terms, the
// accumulator's first value among them). Inputs are sized exactly, so under
// ASan a read past the last row or channel fails.
#include "microkernels/dot_tile.h"

#include <gtest/gtest.h>

#include <vector>

#include "microkernel_test_util.h"

namespace ctw_test {
namespace {

template <typename S>
class DotTileTest : public ::testing::Test {
 protected:
  typedef typename S::Elem T;
  typedef ctw::Vec<T> V;
  static constexpr int CO = S::kCO;
  static constexpr int MR = ctw::kDotTileRows<CO>;
  static constexpr int L = ctw::Vec16<T>::kLanes;

  // One call's data: rows x of `rows` pixels cp apart, CO weight rows
  // w_stride apart, k elements each.
  struct Data {
    int64_t cp, w_stride, k;
    std::vector<T> x, w;
  };
  static Data draw_data(Rng& rng, int rows, int64_t k, int64_t cp, int64_t w_stride, bool integers) {
    Data d{cp, w_stride, k, {}, {}};
    d.x = draw_vector<T>(rng, static_cast<size_t>((rows - 1) * cp + k), integers);
    d.w = draw_vector<T>(rng, static_cast<size_t>((CO - 1) * w_stride + k), integers);
    return d;
  }

  // Lane j of row m, channel c after the call, from its value before.
  static RefSum reference(const Data& d, int m, int c, int j, T before) {
    RefSum r;
    r.add(before);
    for (int64_t i = 0; i < d.k; i += L) r.add_product(d.x[m * d.cp + i + j], d.w[c * d.w_stride + i + j]);
    return r;
  }

  // acc (rows x CO vectors, row-major) after the call against `before`.
  static void check(const Data& d, int rows, const V* before, const V* acc, bool integers) {
    for (int m = 0; m < rows; ++m)
      for (int c = 0; c < CO; ++c)
        for (int j = 0; j < L; ++j) {
          EXPECT_TRUE(MatchesRef(acc[m * CO + c][j], reference(d, m, c, j, before[m * CO + c][j]), integers))
              << "row " << m << " channel " << c << " lane " << j << "; k " << d.k << ", cp " << d.cp
              << ", w_stride " << d.w_stride;
        }
  }

  // Runs dot_tile on random data and checks it.
  static void tile_case(Rng& rng, int64_t k, int64_t cp, int64_t w_stride, bool integers) {
    const Data d = draw_data(rng, MR, k, cp, w_stride, integers);
    V acc[MR][CO], before[MR][CO];
    draw_lanes<T>(rng, &acc[0][0], MR * CO, integers, &before[0][0]);
    ctw::dot_tile<T, MR, CO>(d.x.data(), cp, d.w.data(), w_stride, k, acc);
    check(d, MR, &before[0][0], &acc[0][0], integers);
  }

  static void row_case(Rng& rng, int64_t k, int64_t w_stride, bool integers) {
    const Data d = draw_data(rng, 1, k, 0, w_stride, integers);
    V acc[CO], before[CO];
    draw_lanes<T>(rng, acc, CO, integers, before);
    ctw::dot_row<T, CO>(d.x.data(), d.w.data(), w_stride, k, acc);
    check(d, 1, before, acc, integers);
  }
};
TYPED_TEST_SUITE(DotTileTest, ElemCoTypes, ElemCoNames);

// The tile sizes, and the register budget the header states for them.
TYPED_TEST(DotTileTest, TileFitsFifteenVectorRegisters) {
  EXPECT_EQ(this->MR, this->CO == 1 ? 6 : this->CO == 2 ? 4 : 2);
  EXPECT_TRUE(FitsVectorRegisters(this->MR, this->CO));
}

// As the dot kernel calls it: channels-last pixels cp (a multiple of the
// lanes) apart, k = taps * cp so consecutive rows' inputs overlap, and the
// filter rows of the output channels k apart (or farther).
TYPED_TEST(DotTileTest, TileMatchesReference) {
  Rng rng(201);
  const int64_t L = this->L;
  for (int64_t cp : {L, 2 * L, 5 * L})
    for (int64_t taps : {0, 1, 3})
      for (int64_t w_pad : {int64_t{0}, L + 1}) this->tile_case(rng, taps * cp, cp, taps * cp + w_pad, false);
}

// Rows that do not overlap, odd strides (unaligned loads), integer data:
// exact.
TYPED_TEST(DotTileTest, TileIsExactOnIntegers) {
  Rng rng(202);
  const int64_t L = this->L;
  for (int64_t k : {L, 7 * L, 40 * L})
    for (int64_t cp : {k, k + 3}) this->tile_case(rng, k, cp, k + 1, true);
}

// dot_row on its own (the kernel's edge pixels).
TYPED_TEST(DotTileTest, RowMatchesReference) {
  Rng rng(203);
  const int64_t L = this->L;
  for (int64_t k : {int64_t{0}, L, 3 * L, 33 * L})
    for (int64_t w_pad : {int64_t{0}, int64_t{1}, 2 * L}) {
      this->row_case(rng, k, k + w_pad, false);
      this->row_case(rng, k, k + w_pad, true);
    }
}

// The kernel mixes the two (a tile for the taps every row reaches, rows for
// the rest), so a tile must equal its rows run one by one, bit for bit: the
// same products added in the same order.
TYPED_TEST(DotTileTest, TileEqualsItsRowsBitForBit) {
  typedef typename TestFixture::T T;
  typedef typename TestFixture::V V;
  constexpr int MR = TestFixture::MR, CO = TestFixture::CO, L = TestFixture::L;
  Rng rng(204);
  const int64_t cp = 3 * L, k = 4 * cp;
  const auto d = this->draw_data(rng, MR, k, cp, k, false);
  V tile[MR][CO], rows[MR][CO];
  draw_lanes<T>(rng, &tile[0][0], MR * CO, false, &rows[0][0]);
  ctw::dot_tile<T, MR, CO>(d.x.data(), cp, d.w.data(), k, k, tile);
  for (int m = 0; m < MR; ++m) ctw::dot_row<T, CO>(d.x.data() + m * cp, d.w.data(), k, k, rows[m]);
  for (int m = 0; m < MR; ++m)
    for (int c = 0; c < CO; ++c)
      for (int j = 0; j < L; ++j) EXPECT_TRUE(SameBits(tile[m][c][j], rows[m][c][j])) << m << " " << c << " " << j;
}

}  // namespace
}  // namespace ctw_test
