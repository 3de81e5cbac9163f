// igemm_tile (microkernels/igemm_tile.h) against a scalar reference: for
// output pixel m < mr and channel c < nr,
//
//   out[m][c] = (accumulate ? out[m][c] : 0)
//               + sum over taps t whose row a[t][m] is not the zero row,
//                 input channels k < kc, of a[t][m][a_offset + k] * B[t][a_offset + k][c]
//
// in double (bounds: microkernel_test_util.h). Rows that read the zero row
// add nothing at all, as in TensorFlow, where such pixels have no term: with
// finite weights that is 0 * w = 0, with an infinite weight it must not be
// 0 * Inf = NaN. Every element of the output buffer outside the tile (pixels
// >= mr, channels >= nr, the padding between rows) must keep its bits, and
// so must a reached-by-no-tap row when the tile accumulates (a later K block
// adds only to rows some tap reached). Input pixels are allocated one by one
// and out.rows[m] is null for m >= mr, so reads past a pixel (under ASan) or
// of an unused row fail loudly.
#include "microkernels/igemm_tile.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "microkernel_test_util.h"

namespace ctw_test {
namespace {

using ctw::TileShape;

struct IgemmSpec {
  int taps = 2;
  size_t kc = 5;
  size_t a_offset = 0;        // first input channel of the K block
  size_t extra_channels = 0;  // input channels after the block: cin = a_offset + kc + extra
  int mr = 4;
  int nr = -1;                // -1: NR
  bool channels_first = false;
  bool accumulate = false;
  bool finite_w = true;
  bool integers = false;      // integer-valued data: compare exactly
  int zero_percent = 0;       // chance that a (tap, pixel) reads the zero row
  std::vector<unsigned> live; // if given, per tap: bit m set = pixel m reads an input pixel
  bool tail_rows_real = false;  // a's rows m >= mr read input pixels (else the zero row, as igemm.cc does)
  bool null_zero = false;     // zero == nullptr and every row real (the columns kernel's call)
  int inf_percent = 0;        // chance that a weight is +-Inf (needs finite_w = false)
};

// One call of igemm_tile: its inputs, output buffer and reference.
template <typename T>
struct IgemmTile {
  static constexpr int MR = TileShape<T>::kMR;
  static constexpr int NR = TileShape<T>::kNR;
  static constexpr int kPool = 6;  // distinct input pixels

  IgemmSpec s;
  size_t cin;
  std::vector<std::vector<T>> pixels;
  std::vector<T> zero_row;
  const T* zero;
  std::vector<const T*> a;  // [taps][MR]
  std::vector<T> packed;    // [taps][cin][NR]
  size_t channel_stride;
  std::vector<T*> rows;     // [MR], null past mr
  std::vector<T> initial, out;

  IgemmTile(Rng& rng, const IgemmSpec& spec) : s(spec) {
    if (s.nr < 0) s.nr = NR;
    cin = s.a_offset + s.kc + s.extra_channels;
    for (int i = 0; i < kPool; ++i) pixels.push_back(draw_vector<T>(rng, cin, s.integers));
    zero_row.assign(cin, T(0));
    zero = s.null_zero ? nullptr : zero_row.data();
    for (int t = 0; t < s.taps; ++t) {
      for (int m = 0; m < MR; ++m) {
        bool real = m < s.mr || s.tail_rows_real;
        if (!s.live.empty()) real = real && ((s.live[t] >> m) & 1u);
        else if (rng.range(0, 99) < s.zero_percent) real = false;
        if (s.null_zero) real = true;
        a.push_back(real ? pixels[rng.range(0, kPool - 1)].data() : zero);
      }
    }
    packed = draw_vector<T>(rng, static_cast<size_t>(s.taps) * cin * NR, s.integers);
    for (T& w : packed) {
      if (rng.range(0, 99) < s.inf_percent) w = (rng.coin() ? 1 : -1) * std::numeric_limits<T>::infinity();
    }
    // Channels last: rows NR + 2 apart. Channels first: pixel m at 1 + m of
    // each channel's plane of MR + 3.
    const size_t ld = NR + 2, plane = MR + 3;
    channel_stride = s.channels_first ? plane : 1;
    initial = draw_vector<T>(rng, s.channels_first ? NR * plane : MR * ld, s.integers);
    out = initial;
    for (int m = 0; m < MR; ++m) {
      rows.push_back(m >= s.mr ? nullptr : s.channels_first ? out.data() + 1 + m : out.data() + m * ld);
    }
  }

  // Sets output (m, c) before the run.
  void set_output(int m, int c, T v) { initial[index(m, c)] = out[index(m, c)] = v; }

  void run() {
    const ctw::TileOutput<T> o = {rows.data(), channel_stride, s.mr, s.nr, s.accumulate};
    ctw::igemm_tile<T>(s.taps, s.kc, a.data(), s.a_offset, packed.data() + s.a_offset * NR, cin * NR, zero,
                       s.finite_w, o);
  }

  size_t index(int m, int c) const { return static_cast<size_t>(rows[m] - out.data()) + c * channel_stride; }
  const T* row(int t, int m) const { return a[t * MR + m]; }

  bool reached(int m) const {
    for (int t = 0; t < s.taps; ++t)
      if (row(t, m) != zero) return true;
    return false;
  }

  RefSum reference(int m, int c) const {
    RefSum r;
    if (s.accumulate) r.add(initial[index(m, c)]);
    for (int t = 0; t < s.taps; ++t) {
      const T* x = row(t, m);
      if (x == zero) continue;
      for (size_t k = s.a_offset; k < s.a_offset + s.kc; ++k) r.add_product(x[k], packed[(t * cin + k) * NR + c]);
    }
    return r;
  }

  std::string describe() const {
    std::ostringstream o;
    o << "taps " << s.taps << ", kc " << s.kc << ", a_offset " << s.a_offset << ", cin " << cin << ", mr " << s.mr
      << ", nr " << s.nr << (s.channels_first ? ", channels first" : ", channels last")
      << (s.accumulate ? ", accumulate" : "") << (s.finite_w ? ", finite_w" : ", finite_w=false")
      << (s.null_zero ? ", zero=nullptr" : "") << ", live rows per tap [";
    for (int t = 0; t < s.taps; ++t) {
      o << (t ? " " : "");
      for (int m = 0; m < MR; ++m) o << (row(t, m) != zero ? '1' : '0');
    }
    return o.str() + "]";
  }

  // Every element of the output buffer as the reference says.
  void check() const {
    std::vector<bool> in_tile(out.size(), false);
    for (int m = 0; m < s.mr; ++m) {
      for (int c = 0; c < s.nr; ++c) {
        const size_t i = index(m, c);
        in_tile[i] = true;
        if (s.accumulate && !reached(m)) {
          EXPECT_TRUE(SameBits(out[i], initial[i])) << "accumulating row no tap reached, pixel " << m << " channel "
                                                    << c << "; " << describe();
        } else {
          EXPECT_TRUE(MatchesRef(out[i], reference(m, c), s.integers))
              << "pixel " << m << " channel " << c << "; " << describe();
        }
      }
    }
    for (size_t i = 0; i < out.size(); ++i) {
      if (!in_tile[i]) {
        EXPECT_TRUE(SameBits(out[i], initial[i])) << "element " << i << " outside the tile; " << describe();
      }
    }
  }
};

// Builds, runs and checks one tile.
template <typename T>
IgemmTile<T> run_and_check(Rng& rng, const IgemmSpec& spec) {
  IgemmTile<T> tile(rng, spec);
  tile.run();
  tile.check();
  return tile;
}

// run_and_check of spec_for(mr, nr, flag) for every mr x nr, flag false and true.
template <typename T, typename F>
void check_every_tile_shape(Rng& rng, F spec_for) {
  for (int mr = 1; mr <= TileShape<T>::kMR; ++mr)
    for (int nr = 1; nr <= TileShape<T>::kNR; ++nr)
      for (bool flag : {false, true}) run_and_check<T>(rng, spec_for(mr, nr, flag));
}

template <typename T>
class IgemmTileTest : public ::testing::Test {
 protected:
  static constexpr int MR = TileShape<T>::kMR;
  static constexpr int NR = TileShape<T>::kNR;
};
typedef ::testing::Types<float, double> Elems;
TYPED_TEST_SUITE(IgemmTileTest, Elems, ElemNames);

TEST(IgemmTileShape, FourPixelsByTwoVectorsOfChannels) {
  EXPECT_EQ(TileShape<float>::kMR, 4);
  EXPECT_EQ(TileShape<float>::kNR, 8);
  EXPECT_EQ(TileShape<double>::kMR, 4);
  EXPECT_EQ(TileShape<double>::kNR, 4);
  EXPECT_EQ(ctw::tile_nr(ctw::DType::kFloat32), 8);
  EXPECT_EQ(ctw::tile_nr(ctw::DType::kFloat16), 8);
  EXPECT_EQ(ctw::tile_nr(ctw::DType::kBFloat16), 8);
  EXPECT_EQ(ctw::tile_nr(ctw::DType::kFloat64), 4);
}

// Whole tiles, every row real: both the finite_w and the finite_w=false
// paths run the four-row loop.
TYPED_TEST(IgemmTileTest, FullTilesMatchReference) {
  Rng rng(101);
  for (int taps : {1, 2, 5})
    for (size_t kc : {1, 3, 16, 37})
      for (size_t a_offset : {0, 3})
        for (bool finite_w : {true, false}) {
          IgemmSpec s;
          s.taps = taps, s.kc = kc, s.a_offset = a_offset, s.extra_channels = 2, s.finite_w = finite_w;
          run_and_check<TypeParam>(rng, s);
        }
}

// Every mr x nr, the rows past mr reading the zero row (as igemm.cc sets
// them) or input pixels (results there are computed but never stored).
TYPED_TEST(IgemmTileTest, PartialTilesMatchReference) {
  Rng rng(102);
  check_every_tile_shape<TypeParam>(rng, [](int mr, int nr, bool tail_rows_real) {
    IgemmSpec s;
    s.taps = 3, s.kc = 7, s.mr = mr, s.nr = nr, s.tail_rows_real = tail_rows_real, s.zero_percent = 20;
    return s;
  });
}

// Channels-first outputs (channel_stride > 1), so even whole tiles store
// channel by channel.
TYPED_TEST(IgemmTileTest, ChannelsFirstStoresWithTheStride) {
  Rng rng(103);
  check_every_tile_shape<TypeParam>(rng, [](int mr, int nr, bool accumulate) {
    IgemmSpec s;
    s.kc = 6, s.mr = mr, s.nr = nr, s.channels_first = true, s.accumulate = accumulate, s.zero_percent = 20;
    return s;
  });
}

// accumulate = true adds to what is there; integer data makes it exact.
TYPED_TEST(IgemmTileTest, AccumulateAddsToTheOutput) {
  Rng rng(104);
  for (bool integers : {true, false})
    for (bool channels_first : {false, true})
      for (int mr : {1, 3, 4})
        for (int nr : {1, this->NR - 1, this->NR}) {
          IgemmSpec s;
          s.taps = 2, s.kc = 9, s.a_offset = 4, s.mr = mr, s.nr = nr, s.channels_first = channels_first;
          s.accumulate = true, s.integers = integers;
          run_and_check<TypeParam>(rng, s);
        }
}

// Every pattern of zero-row pixels for the first tap (none live: the tap is
// skipped; one live: that row alone; two or three: the whole tile with
// finite_w, the live rows alone without), with a random second tap.
TYPED_TEST(IgemmTileTest, ZeroRowPatternsMatchReference) {
  Rng rng(105);
  for (unsigned live0 = 0; live0 < 16; ++live0)
    for (bool finite_w : {true, false})
      for (bool accumulate : {false, true}) {
        IgemmSpec s;
        s.kc = 11, s.a_offset = 1, s.finite_w = finite_w, s.accumulate = accumulate;
        s.live = {live0, static_cast<unsigned>(rng.range(0, 15))};
        run_and_check<TypeParam>(rng, s);
      }
}

// With finite weights the zero row may join a tile's products and must add
// exactly 0: on integer data the whole-tile path (finite_w) and the live-rows
// path give the exact reference, bit for bit the same, and a pixel that
// reads only the zero row holds +0.
TYPED_TEST(IgemmTileTest, FiniteWeightsZeroRowsAddExactlyZero) {
  Rng rng(106);
  for (unsigned live0 = 0; live0 < 16; ++live0) {
    IgemmSpec s;
    s.taps = 3, s.kc = 13, s.integers = true, s.finite_w = true;
    s.live = {live0, static_cast<unsigned>(rng.range(0, 15)), live0};
    const Rng start = rng;
    const IgemmTile<TypeParam> whole = run_and_check<TypeParam>(rng, s);
    rng = start;  // the same data through the live-rows path
    s.finite_w = false;
    const IgemmTile<TypeParam> rows = run_and_check<TypeParam>(rng, s);
    for (size_t i = 0; i < whole.out.size(); ++i) EXPECT_TRUE(SameBits(whole.out[i], rows.out[i])) << whole.describe();
    for (int m = 0; m < this->MR; ++m) {
      if (whole.reached(m)) continue;
      for (int c = 0; c < this->NR; ++c) EXPECT_TRUE(SameBits(whole.out[whole.index(m, c)], TypeParam(0)));
    }
  }
}

// finite_w = false with +-Inf weights: a pixel whose row for a tap is the
// zero row gets nothing from that tap (0 * Inf would be NaN), so a pixel
// that reads only the zero row is exactly 0 and the others match the
// reference (+-Inf where an infinite weight meets a real input; NaN only
// where the reference has one too: Inf - Inf, or a real input 0 times Inf).
TYPED_TEST(IgemmTileTest, InfiniteWeightsNeverMeetTheZeroRow) {
  Rng rng(107);
  for (unsigned live0 = 0; live0 < 16; ++live0)
    for (int mr : {2, 4}) {
      IgemmSpec s;
      s.kc = 5, s.mr = mr, s.finite_w = false, s.inf_percent = 15;
      s.live = {live0, static_cast<unsigned>(rng.range(0, 15))};
      const IgemmTile<TypeParam> tile = run_and_check<TypeParam>(rng, s);
      for (int m = 0; m < mr; ++m) {
        if (tile.reached(m)) continue;
        for (int c = 0; c < this->NR; ++c) EXPECT_TRUE(SameBits(tile.out[tile.index(m, c)], TypeParam(0)));
      }
    }
}

// A K block after the first (accumulate) leaves the rows no tap reached
// bit for bit as they were (-0 and NaN show any write); the first block
// (store) writes +0 there.
TYPED_TEST(IgemmTileTest, RowsNoTapReachedAreLeftOrZeroed) {
  typedef TypeParam T;
  Rng rng(108);
  for (bool accumulate : {true, false})
    for (bool channels_first : {false, true}) {
      IgemmSpec s;
      s.kc = 4, s.accumulate = accumulate, s.channels_first = channels_first;
      s.live = {0b0101, 0b0001};  // pixels 1 and 3 reached by no tap
      IgemmTile<T> tile(rng, s);
      for (int c = 0; c < this->NR; ++c) {
        tile.set_output(1, c, -T(0));
        tile.set_output(3, c, std::numeric_limits<T>::quiet_NaN());
      }
      tile.run();
      tile.check();
      for (int c = 0; c < this->NR; ++c) {
        for (int m : {1, 3}) {
          const T want = accumulate ? tile.initial[tile.index(m, c)] : T(0);
          EXPECT_TRUE(SameBits(tile.out[tile.index(m, c)], want)) << "pixel " << m << "; " << tile.describe();
        }
      }
    }
}

// The columns kernel passes zero = nullptr: every row is real (one tap per
// call with accumulate for the later ones, or several taps at once).
TYPED_TEST(IgemmTileTest, NullZeroRowMeansEveryRowIsReal) {
  Rng rng(109);
  for (int taps : {1, 3})
    for (bool accumulate : {false, true})
      for (bool finite_w : {true, false}) {
        IgemmSpec s;
        s.taps = taps, s.kc = 10, s.null_zero = true, s.accumulate = accumulate, s.finite_w = finite_w;
        s.nr = taps == 1 ? this->NR : this->NR - 3;
        run_and_check<TypeParam>(rng, s);
      }
}

// No taps, or no input channels: the tile stores zeros (or, accumulating,
// adds zero to reached rows and leaves the others).
TYPED_TEST(IgemmTileTest, EmptySumsStoreZero) {
  Rng rng(110);
  for (bool accumulate : {false, true})
    for (bool channels_first : {false, true}) {
      IgemmSpec s;
      s.accumulate = accumulate, s.channels_first = channels_first, s.zero_percent = 30;
      s.taps = 0;
      run_and_check<TypeParam>(rng, s);
      s.taps = 2, s.kc = 0, s.extra_channels = 3;
      run_and_check<TypeParam>(rng, s);
    }
}

// Everything at once, drawn at random.
TYPED_TEST(IgemmTileTest, RandomTilesMatchReference) {
  Rng rng(111);
  for (int i = 0; i < 300; ++i) {
    IgemmSpec s;
    s.taps = static_cast<int>(rng.range(1, 6));
    s.kc = static_cast<size_t>(rng.range(0, 40));
    s.a_offset = static_cast<size_t>(rng.range(0, 5));
    s.extra_channels = static_cast<size_t>(rng.range(0, 2));
    s.mr = static_cast<int>(rng.range(1, this->MR));
    s.nr = static_cast<int>(rng.range(1, this->NR));
    s.channels_first = rng.coin();
    s.accumulate = rng.coin();
    s.finite_w = rng.coin();
    s.integers = rng.coin();
    s.zero_percent = static_cast<int>(rng.range(0, 60));
    s.tail_rows_real = rng.coin();
    run_and_check<TypeParam>(rng, s);
    if (::testing::Test::HasFailure()) break;  // one case's report is enough
  }
}

// igemm_row alone: acc0/acc1 (channels 0..NR) += sum_k a[k] * b[k][..].
TYPED_TEST(IgemmTileTest, RowAddsToTheAccumulators) {
  typedef TypeParam T;
  constexpr int NR = TileShape<T>::kNR, L = ctw::Vec16<T>::kLanes;
  Rng rng(112);
  for (size_t kc : {0, 1, 5, 33}) {
    const std::vector<T> x = draw_vector<T>(rng, kc, false), b = draw_vector<T>(rng, kc * NR, false);
    ctw::Vec<T> acc[2], before[2];
    draw_lanes<T>(rng, acc, 2, false, before);
    ctw::igemm_row<T>(x.data(), b.data(), kc, acc[0], acc[1]);
    for (int c = 0; c < NR; ++c) {
      RefSum r;
      r.add(before[c / L][c % L]);
      for (size_t k = 0; k < kc; ++k) r.add_product(x[k], b[k * NR + c]);
      EXPECT_TRUE(MatchesRef(acc[c / L][c % L], r, false)) << "kc " << kc << " channel " << c;
    }
  }
}

}  // namespace
}  // namespace ctw_test
