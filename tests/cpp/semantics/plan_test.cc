// The planner (src/plan.cc) against TensorFlow's rules for
// tf.nn.conv_transpose. Every expected value below is worked out by hand (in
// the comments) from TensorFlow's definitions, not taken from the code:
//
//   GetWindowedOutputSize (tensorflow/core/framework/kernel_shape_util.cc),
//   with eff = (k - 1) * d + 1 and C++ division (truncating toward zero):
//     VALID:    (in - eff + s) / s
//     EXPLICIT: (in + before + after - eff + s) / s
//     SAME:     (in + s - 1) / s;  total pad = max(0, (out - 1) * s + eff - in),
//               pad_before = total / 2, pad_after = total - pad_before
//   conv_transpose checks that the forward convolution of output_shape gives
//   the input's spatial size exactly, so per dim (input size `i` >= 1) the
//   legal output sizes are exactly `s` consecutive values:
//     SAME:  ceil(o / s) == i           ->  o in [(i-1)*s + 1, i*s]
//     VALID: (o - eff + s) / s == i     ->  o in [(i-1)*s + eff, (i-1)*s + eff + s - 1]
//     EXPLICIT (P = before + after): the VALID range shifted down by P.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "semantics/plan.h"
#include "test_util.h"

namespace {

using ctw::ConvTransposeArgs;
using ctw::ConvTransposePlan;
using ctw::DType;
using ctw::Padding;
using ctw::plan_conv_transpose;
using ctw::windowed_output_size;
using ctw_test::IsErrorWith;
using ctw_test::IsOk;
using V = std::vector<int64_t>;
using A3 = std::array<int64_t, 3>;

ConvTransposeArgs make_args(V input, V filters, V output, V strides, const std::string& padding,
                            const std::string& data_format = "") {
  ConvTransposeArgs a;
  a.input_shape = std::move(input);
  a.filter_shape = std::move(filters);
  a.output_shape = std::move(output);
  a.strides = std::move(strides);
  a.padding = padding;
  a.data_format = data_format;
  return a;
}

ConvTransposeArgs with_explicit(ConvTransposeArgs a, V pads) {
  a.padding_is_list = true;
  a.padding.clear();
  a.explicit_paddings = std::move(pads);
  return a;
}

ctw::Status plan_of(const ConvTransposeArgs& a, ConvTransposePlan* p = nullptr) {
  ConvTransposePlan local;
  return plan_conv_transpose(a, p ? p : &local);
}

// A valid 2-D NHWC base: input 3x4 with 2 channels, kernel 3x3, 5 output
// channels, stride 2, SAME. Legal outputs: h in [5, 6], w in [7, 8].
ConvTransposeArgs base2d() { return make_args({1, 3, 4, 2}, {3, 3, 5, 2}, {1, 6, 8, 5}, {2}, "SAME"); }
// The same problem in NCHW.
ConvTransposeArgs base2d_cf() { return make_args({1, 2, 3, 4}, {3, 3, 5, 2}, {1, 5, 6, 8}, {2}, "SAME", "NCHW"); }

// ---------------------------------------------------------------------------
// windowed_output_size
// ---------------------------------------------------------------------------

void expect_windowed(int64_t in, int64_t k, int64_t d, int64_t s, Padding p, int64_t eb, int64_t ea, int64_t size,
                     int64_t before, int64_t after) {
  const ctw::WindowedOutput w = windowed_output_size(in, k, d, s, p, eb, ea);
  EXPECT_EQ(w.size, size) << "in " << in << " k " << k << " d " << d << " s " << s;
  EXPECT_EQ(w.pad_before, before) << "in " << in << " k " << k << " d " << d << " s " << s;
  EXPECT_EQ(w.pad_after, after) << "in " << in << " k " << k << " d " << d << " s " << s;
}

TEST(WindowedOutputSize, Valid) {
  expect_windowed(10, 3, 1, 1, Padding::kValid, 0, 0, 8, 0, 0);   // (10-3+1)/1
  expect_windowed(10, 3, 2, 3, Padding::kValid, 0, 0, 2, 0, 0);   // eff 5: (10-5+3)/3 = 8/3 = 2
  expect_windowed(11, 3, 1, 2, Padding::kValid, 0, 0, 5, 0, 0);   // (11-3+2)/2 = 5
  expect_windowed(12, 3, 1, 2, Padding::kValid, 0, 0, 5, 0, 0);   // 11/2 = 5
  expect_windowed(5, 5, 1, 1, Padding::kValid, 0, 0, 1, 0, 0);    // (5-5+1)/1
  expect_windowed(0, 1, 1, 1, Padding::kValid, 0, 0, 0, 0, 0);
  // VALID ignores the explicit values.
  expect_windowed(10, 3, 1, 1, Padding::kValid, 4, 4, 8, 0, 0);
}

TEST(WindowedOutputSize, ValidTruncatesTowardZero) {
  // (2 - 5 + 2) / 2 = -1/2: C++ gives 0 (floor would give -1).
  expect_windowed(2, 5, 1, 2, Padding::kValid, 0, 0, 0, 0, 0);
  // (3 - 5 + 2) / 2 = 0/2 = 0; (1 - 5 + 2) / 2 = -2/2 = -1 (exact, negative).
  expect_windowed(3, 5, 1, 2, Padding::kValid, 0, 0, 0, 0, 0);
  expect_windowed(1, 5, 1, 2, Padding::kValid, 0, 0, -1, 0, 0);
  // eff (3-1)*3+1 = 7: (4 - 7 + 3) / 3 = 0; (2 - 7 + 3)/3 = -2/3 -> 0 (trunc).
  expect_windowed(4, 3, 3, 3, Padding::kValid, 0, 0, 0, 0, 0);
  expect_windowed(2, 3, 3, 3, Padding::kValid, 0, 0, 0, 0, 0);
}

TEST(WindowedOutputSize, Same) {
  // in 7, s 2, k 3: out (7+1)/2 = 4, total (4-1)*2+3-7 = 2 -> 1 / 1.
  expect_windowed(7, 3, 1, 2, Padding::kSame, 0, 0, 4, 1, 1);
  // in 8, s 2, k 4: out 4, total 3*2+4-8 = 2 -> 1 / 1.
  expect_windowed(8, 4, 1, 2, Padding::kSame, 0, 0, 4, 1, 1);
  // in 8, s 2, k 5: out 4, total 6+5-8 = 3 -> before floor(3/2) = 1, after 2.
  expect_windowed(8, 5, 1, 2, Padding::kSame, 0, 0, 4, 1, 2);
  // in 10, s 4, k 1: out (10+3)/4 = 3, total 2*4+1-10 = -1 -> clamped to 0.
  expect_windowed(10, 1, 1, 4, Padding::kSame, 0, 0, 3, 0, 0);
  // in 9, s 3, k 2: out 3, total 2*3+2-9 = -1 -> 0 (kernel smaller than stride).
  expect_windowed(9, 2, 1, 3, Padding::kSame, 0, 0, 3, 0, 0);
  // in 5, s 1, k 3, d 2: eff 5, out 5, total 4+5-5 = 4 -> 2 / 2.
  expect_windowed(5, 3, 2, 1, Padding::kSame, 0, 0, 5, 2, 2);
  // in 6, s 1, k 2: out 6, total 5+2-6 = 1 -> 0 / 1.
  expect_windowed(6, 2, 1, 1, Padding::kSame, 0, 0, 6, 0, 1);
  // in 0, s 2, k 3: out (0+1)/2 = 0, total (0-1)*2+3-0 = 1 -> 0 / 1.
  expect_windowed(0, 3, 1, 2, Padding::kSame, 0, 0, 0, 0, 1);
  // SAME ignores the explicit values.
  expect_windowed(7, 3, 1, 2, Padding::kSame, 5, 5, 4, 1, 1);
}

TEST(WindowedOutputSize, Explicit) {
  // in 5, k 3, s 2, pads 1 + 2: (5+3-3+2)/2 = 7/2 = 3.
  expect_windowed(5, 3, 1, 2, Padding::kExplicit, 1, 2, 3, 1, 2);
  // in 4, k 2, d 3 (eff 4), s 1, pads 0 + 3: (4+3-4+1)/1 = 4.
  expect_windowed(4, 2, 3, 1, Padding::kExplicit, 0, 3, 4, 0, 3);
  // in 1, k 4, s 3: (1-4+3)/3 = 0; in 1, k 5, s 3: (1-5+3)/3 = -1/3 -> 0 (trunc).
  expect_windowed(1, 4, 1, 3, Padding::kExplicit, 0, 0, 0, 0, 0);
  expect_windowed(1, 5, 1, 3, Padding::kExplicit, 0, 0, 0, 0, 0);
  // in 0, pads 4 + 0, k 3, s 2: (0+4-3+2)/2 = 1.
  expect_windowed(0, 3, 1, 2, Padding::kExplicit, 4, 0, 1, 4, 0);
}

// ---------------------------------------------------------------------------
// Rank and the canonical 3-D form
// ---------------------------------------------------------------------------

TEST(Plan, Rank1CanonicalForm) {
  // NWC, input width 5, k 3, stride 2, VALID: legal outputs [(5-1)*2+3, +1] = [11, 12].
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(make_args({2, 5, 3}, {3, 4, 3}, {2, 11, 4}, {2}, "VALID"), &p)));
  EXPECT_EQ(p.spatial_rank, 1);
  EXPECT_FALSE(p.channels_first);
  EXPECT_EQ(p.dtype, DType::kFloat32);
  EXPECT_EQ(p.batch, 2);
  EXPECT_EQ(p.input_channels, 3);
  EXPECT_EQ(p.output_channels, 4);
  EXPECT_EQ(p.input_size, (A3{1, 1, 5}));
  EXPECT_EQ(p.output_size, (A3{1, 1, 11}));
  EXPECT_EQ(p.filter_size, (A3{1, 1, 3}));
  EXPECT_EQ(p.stride, (A3{1, 1, 2}));
  EXPECT_EQ(p.dilation, (A3{1, 1, 1}));
  EXPECT_EQ(p.pad_before, (A3{0, 0, 0}));
  EXPECT_EQ(p.pad_after, (A3{0, 0, 0}));
  EXPECT_EQ(p.output_shape, (V{2, 11, 4}));
  EXPECT_EQ(p.input_elements, 30);
  EXPECT_EQ(p.filter_elements, 36);
  EXPECT_EQ(p.output_elements, 88);
  EXPECT_EQ(p.input_spatial(), 5);
  EXPECT_EQ(p.output_spatial(), 11);
  EXPECT_EQ(p.filter_spatial(), 3);
  ASSERT_TRUE(IsOk(plan_of(make_args({2, 5, 3}, {3, 4, 3}, {2, 12, 4}, {2}, "VALID"), &p)));
  EXPECT_EQ(p.output_size, (A3{1, 1, 12}));
}

TEST(Plan, Rank2ChannelsFirstSame) {
  // NCHW, input 4x5, kernel 2x3, strides 2: SAME legal h [7, 8], w [9, 10].
  // h: out 8 -> ceil(8/2) = 4, total (4-1)*2+2-8 = 0 -> 0 / 0.
  // w: out 10 -> 5, total (5-1)*2+3-10 = 1 -> 0 / 1.
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(make_args({1, 3, 4, 5}, {2, 3, 6, 3}, {1, 6, 8, 10}, {2}, "SAME", "NCHW"), &p)));
  EXPECT_EQ(p.spatial_rank, 2);
  EXPECT_TRUE(p.channels_first);
  EXPECT_EQ(p.batch, 1);
  EXPECT_EQ(p.input_channels, 3);
  EXPECT_EQ(p.output_channels, 6);
  EXPECT_EQ(p.input_size, (A3{1, 4, 5}));
  EXPECT_EQ(p.output_size, (A3{1, 8, 10}));
  EXPECT_EQ(p.filter_size, (A3{1, 2, 3}));
  EXPECT_EQ(p.stride, (A3{1, 2, 2}));
  EXPECT_EQ(p.dilation, (A3{1, 1, 1}));
  EXPECT_EQ(p.pad_before, (A3{0, 0, 0}));
  EXPECT_EQ(p.pad_after, (A3{0, 0, 1}));
  EXPECT_EQ(p.input_elements, 60);
  EXPECT_EQ(p.filter_elements, 108);
  EXPECT_EQ(p.output_elements, 480);
  // h 7: total (4-1)*2+2-7 = 1 -> 0 / 1; w 9: total 8+3-9 = 2 -> 1 / 1.
  ASSERT_TRUE(IsOk(plan_of(make_args({1, 3, 4, 5}, {2, 3, 6, 3}, {1, 6, 7, 9}, {2}, "SAME", "NCHW"), &p)));
  EXPECT_EQ(p.pad_before, (A3{0, 0, 1}));
  EXPECT_EQ(p.pad_after, (A3{0, 1, 1}));
}

TEST(Plan, Rank3ChannelsLastSame) {
  // NDHWC, input 2x3x4, kernels 1/2/3, stride 1, SAME: out = in; totals
  // d: 1-1 = 0; h: 2-1 = 1 -> 0 / 1; w: 3-1 = 2 -> 1 / 1.
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(make_args({1, 2, 3, 4, 2}, {1, 2, 3, 5, 2}, {1, 2, 3, 4, 5}, {1}, "SAME"), &p)));
  EXPECT_EQ(p.spatial_rank, 3);
  EXPECT_FALSE(p.channels_first);
  EXPECT_EQ(p.input_size, (A3{2, 3, 4}));
  EXPECT_EQ(p.output_size, (A3{2, 3, 4}));
  EXPECT_EQ(p.filter_size, (A3{1, 2, 3}));
  EXPECT_EQ(p.pad_before, (A3{0, 0, 1}));
  EXPECT_EQ(p.pad_after, (A3{0, 1, 1}));
  EXPECT_EQ(p.input_channels, 2);
  EXPECT_EQ(p.output_channels, 5);
  EXPECT_EQ(p.output_elements, 120);
}

TEST(Plan, Rank3ChannelsFirstMixedForms) {
  // NCDHW, input 2x3x4, kernel 2x3x1, strides in N+2 form [1, 1, 3, 2, 1]
  // (d 3, h 2, w 1), dilations in N form [2, 1, 1], VALID.
  //   d: eff 3, legal [(2-1)*3+3, +2] = [6, 8]; h: eff 3, [(3-1)*2+3, +1] = [7, 8];
  //   w: eff 1, stride 1: exactly (4-1)+1 = 4.
  ConvTransposeArgs a = make_args({2, 3, 2, 3, 4}, {2, 3, 1, 6, 3}, {2, 6, 7, 8, 4}, {1, 1, 3, 2, 1}, "VALID", "NCDHW");
  a.dilations = {2, 1, 1};
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_TRUE(p.channels_first);
  EXPECT_EQ(p.batch, 2);
  EXPECT_EQ(p.input_channels, 3);
  EXPECT_EQ(p.output_channels, 6);
  EXPECT_EQ(p.input_size, (A3{2, 3, 4}));
  EXPECT_EQ(p.output_size, (A3{7, 8, 4}));
  EXPECT_EQ(p.filter_size, (A3{2, 3, 1}));
  EXPECT_EQ(p.stride, (A3{3, 2, 1}));
  EXPECT_EQ(p.dilation, (A3{2, 1, 1}));
  EXPECT_EQ(p.input_elements, 144);
  EXPECT_EQ(p.filter_elements, 108);
  EXPECT_EQ(p.output_elements, 2688);
  for (int64_t d : {6, 8}) {
    a.output_shape = {2, 6, d, 8, 4};
    EXPECT_TRUE(IsOk(plan_of(a))) << d;
  }
  for (int64_t d : {5, 9}) {
    a.output_shape = {2, 6, d, 8, 4};
    EXPECT_TRUE(IsErrorWith(plan_of(a), {"depth", "[6, 8]"})) << d;
  }
  a.output_shape = {2, 6, 7, 8, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"width", "must be 4", "[2, 6, 7, 8, 5]"}));
}

TEST(Plan, RankComesFromOutputShape) {
  ConvTransposeArgs a = make_args({1, 5, 3}, {3, 4, 3}, {1, 2}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[1, 2]", "length 2"}));
  a.output_shape = {1, 2, 3, 4, 5, 6};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[1, 2, 3, 4, 5, 6]"}));
  a.output_shape = {};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[]"}));
  // output_shape of length 4 means 2-D: a rank-3 input is then wrong.
  a = make_args({1, 5, 3}, {3, 4, 3}, {1, 7, 7, 4}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"input", "[1, 5, 3]", "rank"}));
  a = make_args({1, 5, 5, 3}, {3, 4, 3}, {1, 7, 7, 4}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"filters", "[3, 4, 3]", "rank"}));
}

// ---------------------------------------------------------------------------
// output_shape: exactly the legal sizes
// ---------------------------------------------------------------------------

// Hand-derived legal range [lo, hi] for input size i >= 1 (see the top comment).
void legal_range(const std::string& mode, int64_t i, int64_t k, int64_t d, int64_t s, int64_t pads, int64_t* lo,
                 int64_t* hi) {
  const int64_t eff = (k - 1) * d + 1;
  if (mode == "SAME") {
    *lo = (i - 1) * s + 1;
    *hi = i * s;
  } else {
    *lo = (i - 1) * s + eff - pads;
    *hi = *lo + s - 1;
  }
}

TEST(Plan, EveryLegalOutputSizeAndNeighbours) {
  int checked = 0;
  for (const std::string mode : {"SAME", "VALID", "EXPLICIT"}) {
    for (int64_t s = 1; s <= 4; ++s)
      for (int64_t k = 1; k <= 5; ++k)
        for (int64_t d = 1; d <= 3; ++d)
          for (int64_t i = 1; i <= 5; ++i)
            for (const V& pads : mode == "EXPLICIT" ? std::vector<V>{{0, 0}, {1, 0}, {0, 3}, {2, 3}, {7, 6}}
                                                    : std::vector<V>{{0, 0}}) {
              int64_t lo, hi;
              legal_range(mode, i, k, d, s, pads[0] + pads[1], &lo, &hi);
              ASSERT_EQ(hi - lo + 1, s);
              if (hi < 0) continue;  // explicit padding too large for any output size
              ConvTransposeArgs a = make_args({1, i, 2}, {k, 3, 2}, {1, 0, 3}, {s}, mode);
              a.dilations = {d};
              if (mode == "EXPLICIT") a = with_explicit(a, {0, 0, pads[0], pads[1], 0, 0});
              // A negative lo (explicit padding) leaves the sizes in [0, hi].
              const int64_t eff_lo = lo < 0 ? 0 : lo;
              std::string range = s == 1 || eff_lo == hi
                                      ? "must be " + std::to_string(hi)
                                      : "[" + std::to_string(eff_lo) + ", " + std::to_string(hi) + "]";
              for (int64_t o = 0; o <= hi + s + 1; ++o) {
                a.output_shape = {1, o, 3};
                ConvTransposePlan p;
                const ctw::Status st = plan_of(a, &p);
                const bool legal = o >= lo && o <= hi;
                ++checked;
                if (legal) {
                  ASSERT_TRUE(IsOk(st)) << mode << " i " << i << " k " << k << " d " << d << " s " << s << " o " << o;
                  const int64_t eff = (k - 1) * d + 1;
                  int64_t before = 0, after = 0;
                  if (mode == "SAME") {
                    // ceil(o/s) == i, so total = max(0, (i-1)*s + eff - o).
                    int64_t total = (i - 1) * s + eff - o;
                    if (total < 0) total = 0;
                    before = total / 2;
                    after = total - before;
                  } else if (mode == "EXPLICIT") {
                    before = pads[0];
                    after = pads[1];
                  }
                  EXPECT_EQ(p.pad_before[2], before) << mode << " i " << i << " k " << k << " d " << d << " s " << s;
                  EXPECT_EQ(p.pad_after[2], after) << mode << " i " << i << " k " << k << " d " << d << " s " << s;
                  EXPECT_EQ(p.output_size[2], o);
                } else {
                  ASSERT_TRUE(IsErrorWith(st, {"output_shape=[1, " + std::to_string(o) + ", 3]", "width", range}))
                      << mode << " i " << i << " k " << k << " d " << d << " s " << s << " o " << o;
                }
              }
            }
  }
  EXPECT_GT(checked, 5000);
}

TEST(Plan, ZeroInputSizeOutputSizes) {
  // SAME, input width 0: ceil(o/s) == 0 only for o == 0.
  ConvTransposeArgs a = make_args({1, 0, 2}, {3, 3, 2}, {1, 0, 3}, {2}, "SAME");
  EXPECT_TRUE(IsOk(plan_of(a)));
  a.output_shape = {1, 1, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "must be 0"}));
  // VALID, k 5, s 2, input 0: (o - 5 + 2) / 2 == 0 with truncation holds for
  // o - 3 in (-2, 2), i.e. o in {2, 3, 4} (floor division would give {3, 4}).
  a = make_args({1, 0, 2}, {5, 3, 2}, {1, 0, 3}, {2}, "VALID");
  for (int64_t o = 0; o <= 7; ++o) {
    a.output_shape = {1, o, 3};
    if (o >= 2 && o <= 4) {
      EXPECT_TRUE(IsOk(plan_of(a))) << o;
    } else {
      EXPECT_TRUE(IsErrorWith(plan_of(a), {"[2, 4]"})) << o;
    }
  }
  // VALID, k 1, s 3, input 0: (o + 2) / 3 == 0 only for o == 0.
  a = make_args({1, 0, 2}, {1, 3, 2}, {1, 0, 3}, {3}, "VALID");
  EXPECT_TRUE(IsOk(plan_of(a)));
  a.output_shape = {1, 1, 3};
  EXPECT_FALSE(plan_of(a).ok());
}

TEST(Plan, OutputSizeCheckedPerDimension) {
  // base2d: h legal [5, 6], w legal [7, 8] (SAME, stride 2, inputs 3 and 4).
  ConvTransposeArgs a = base2d();
  for (int64_t h : {5, 6})
    for (int64_t w : {7, 8}) {
      a.output_shape = {1, h, w, 5};
      EXPECT_TRUE(IsOk(plan_of(a))) << h << "x" << w;
    }
  a.output_shape = {1, 7, 8, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape=[1, 7, 8, 5]", "height", "[5, 6]", "SAME"}));
  a.output_shape = {1, 6, 9, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape=[1, 6, 9, 5]", "width", "[7, 8]"}));
  a.output_shape = {1, 4, 8, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"height", "[5, 6]"}));
  // Strides (2, 3): w legal [(4-1)*3+1, 12] = [10, 12].
  a.strides = {2, 3};
  a.output_shape = {1, 6, 8, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"width", "[10, 12]"}));
  for (int64_t w : {10, 11, 12}) {
    a.output_shape = {1, 6, w, 5};
    EXPECT_TRUE(IsOk(plan_of(a))) << w;
  }
}

// ---------------------------------------------------------------------------
// strides and dilations: int, N and N+2 forms
// ---------------------------------------------------------------------------

TEST(Plan, StridesForms) {
  ConvTransposePlan p;
  ConvTransposeArgs a = base2d();  // strides {2}
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.stride, (A3{1, 2, 2}));
  // N form (2, 3): h [5, 6], w [10, 12].
  a.strides = {2, 3};
  a.output_shape = {1, 6, 12, 5};
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.stride, (A3{1, 2, 3}));
  // N+2 form, NHWC order: [1, h, w, 1].
  a.strides = {1, 2, 3, 1};
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.stride, (A3{1, 2, 3}));
  // N+2 form, NCHW order: [1, 1, h, w].
  ConvTransposeArgs c = base2d_cf();
  c.strides = {1, 1, 2, 3};
  c.output_shape = {1, 5, 6, 12};
  ASSERT_TRUE(IsOk(plan_of(c, &p)));
  EXPECT_EQ(p.stride, (A3{1, 2, 3}));
  // 1-D: int, and N+2 in both orders.
  ConvTransposeArgs one = make_args({1, 5, 3}, {3, 4, 3}, {1, 11, 4}, {2}, "VALID");
  ASSERT_TRUE(IsOk(plan_of(one, &p)));
  EXPECT_EQ(p.stride, (A3{1, 1, 2}));
  one.strides = {1, 2, 1};
  ASSERT_TRUE(IsOk(plan_of(one, &p)));
  EXPECT_EQ(p.stride, (A3{1, 1, 2}));
  ConvTransposeArgs one_cf = make_args({1, 3, 5}, {3, 4, 3}, {1, 4, 11}, {1, 1, 2}, "VALID", "NCW");
  ASSERT_TRUE(IsOk(plan_of(one_cf, &p)));
  EXPECT_EQ(p.stride, (A3{1, 1, 2}));
  // 3-D: N form and N+2 (NDHWC) form.
  ConvTransposeArgs three = make_args({1, 2, 2, 2, 1}, {1, 1, 1, 1, 1}, {1, 2, 4, 6, 1}, {1, 2, 3}, "SAME");
  ASSERT_TRUE(IsOk(plan_of(three, &p)));
  EXPECT_EQ(p.stride, (A3{1, 2, 3}));
  three.strides = {1, 1, 2, 3, 1};
  ASSERT_TRUE(IsOk(plan_of(three, &p)));
  EXPECT_EQ(p.stride, (A3{1, 2, 3}));
}

TEST(Plan, StridesErrors) {
  ConvTransposeArgs a = base2d();
  a.output_shape = {1, 6, 12, 5};
  // Batch entry of the N+2 form.
  a.strides = {2, 2, 3, 1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[2, 2, 3, 1]", "batch"}));
  // Channel entry (last in NHWC).
  a.strides = {1, 2, 3, 2};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[1, 2, 3, 2]", "channel"}));
  // The NCHW form [1, 1, h, w] given for NHWC puts w in the channel slot.
  a.strides = {1, 1, 2, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[1, 1, 2, 3]"}));
  // In NCHW the channel entry is index 1.
  ConvTransposeArgs c = base2d_cf();
  c.strides = {1, 2, 2, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(c), {"strides", "[1, 2, 2, 3]", "channel"}));
  // Lengths other than 1, N, N+2.
  a.strides = {1, 2, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[1, 2, 3]", "length 3"}));
  a.strides = {1, 2, 2, 2, 1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[1, 2, 2, 2, 1]"}));
  ConvTransposeArgs one = make_args({1, 5, 3}, {3, 4, 3}, {1, 11, 4}, {2, 2}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(one), {"strides", "[2, 2]", "length 2"}));
  // Values below 1.
  a.strides = {0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[0]"}));
  a.strides = {2, -1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[2, -1]", "-1"}));
  a.strides = {1, 0, 2, 1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[1, 0, 2, 1]"}));
  // An empty list is a length error (not "not given").
  a.strides = V{};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "[]", "length 0"}));
}

TEST(Plan, StridesAndDilationsNotGivenMeanOne) {
  // TensorFlow's None: 1 in every dimension. NHWC input 3x4, k 3, stride 1,
  // SAME: output = input.
  ConvTransposeArgs a = make_args({1, 3, 4, 2}, {3, 3, 5, 2}, {1, 3, 4, 5}, {}, "SAME");
  a.strides.reset();
  a.dilations.reset();
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.stride, (A3{1, 1, 1}));
  EXPECT_EQ(p.dilation, (A3{1, 1, 1}));
  EXPECT_EQ(p.pad_before, (A3{0, 1, 1}));  // total (3-1)+3-3 = 2 -> 1 / 1 (h and w)
  a.dilations = V{};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "[]"}));
}

TEST(Plan, DilationsForms) {
  // NHWC input 3x4, kernel 3x3, stride 1, VALID, dilations (2, 3):
  // eff h 5, w 7 -> out h 3+5-1 = 7, w 4+7-1 = 10.
  ConvTransposeArgs a = make_args({1, 3, 4, 2}, {3, 3, 5, 2}, {1, 5, 6, 5}, {1}, "VALID");
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(a, &p)));  // empty dilations: all 1
  EXPECT_EQ(p.dilation, (A3{1, 1, 1}));
  a.dilations = {2, 3};
  a.output_shape = {1, 7, 10, 5};
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.dilation, (A3{1, 2, 3}));
  a.dilations = {1, 2, 3, 1};
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.dilation, (A3{1, 2, 3}));
  // Int form 2: eff 5 both -> 7 x 8.
  a.dilations = {2};
  a.output_shape = {1, 7, 8, 5};
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.dilation, (A3{1, 2, 2}));
  // NCHW N+2 form [1, 1, h, w].
  ConvTransposeArgs c = make_args({1, 2, 3, 4}, {3, 3, 5, 2}, {1, 5, 7, 10}, {1}, "VALID", "NCHW");
  c.dilations = {1, 1, 2, 3};
  ASSERT_TRUE(IsOk(plan_of(c, &p)));
  EXPECT_EQ(p.dilation, (A3{1, 2, 3}));
  // Errors.
  a.dilations = {2, 2, 3, 1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "[2, 2, 3, 1]"}));
  a.dilations = {1, 2, 3, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "[1, 2, 3, 3]"}));
  c.dilations = {1, 3, 2, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(c), {"dilations", "[1, 3, 2, 3]"}));
  a.dilations = {1, 2, 3};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "[1, 2, 3]", "length 3"}));
  a.dilations = {0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "[0]"}));
  a.dilations = {2, -3};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "[2, -3]", "-3"}));
}

// ---------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------

TEST(Plan, ChannelsFirstVersusLastPositions) {
  // [2, 3, 5] read as NCW: batch 2, 3 channels, width 5; filters [3, 4, 3]
  // (k 3, 4 out, 3 in); stride 2 VALID: widths [11, 12].
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(make_args({2, 3, 5}, {3, 4, 3}, {2, 4, 11}, {2}, "VALID", "NCW"), &p)));
  EXPECT_TRUE(p.channels_first);
  EXPECT_EQ(p.batch, 2);
  EXPECT_EQ(p.input_channels, 3);
  EXPECT_EQ(p.output_channels, 4);
  EXPECT_EQ(p.input_size, (A3{1, 1, 5}));
  EXPECT_EQ(p.output_size, (A3{1, 1, 11}));
  // The same numbers read as NWC: width 3, 5 channels: the filters' 3 input channels do not match.
  EXPECT_TRUE(IsErrorWith(plan_of(make_args({2, 3, 5}, {3, 4, 3}, {2, 4, 11}, {2}, "VALID", "NWC")),
                          {"filters", "[3, 4, 3]", "[2, 3, 5]"}));
  // Default (empty) data_format is channels last.
  ASSERT_TRUE(IsOk(plan_of(make_args({2, 5, 3}, {3, 4, 3}, {2, 11, 4}, {2}, "VALID", ""), &p)));
  EXPECT_FALSE(p.channels_first);
  // NCHW vs NHWC in 2-D.
  ASSERT_TRUE(IsOk(plan_of(base2d_cf(), &p)));
  EXPECT_TRUE(p.channels_first);
  EXPECT_EQ(p.input_size, (A3{1, 3, 4}));
  EXPECT_EQ(p.output_size, (A3{1, 6, 8}));  // [1, 5, 6, 8]: 5 channels, 6 x 8
  EXPECT_EQ(p.input_channels, 2);
  EXPECT_EQ(p.output_channels, 5);
  // NCDHW: channel dim 1.
  ASSERT_TRUE(IsOk(plan_of(make_args({1, 2, 3, 4, 5}, {1, 1, 1, 6, 2}, {1, 6, 3, 4, 5}, {1}, "VALID", "NCDHW"), &p)));
  EXPECT_EQ(p.input_size, (A3{3, 4, 5}));
  EXPECT_EQ(p.input_channels, 2);
  EXPECT_EQ(p.output_channels, 6);
}

TEST(Plan, DataFormatPerRank) {
  ConvTransposeArgs one = make_args({1, 5, 3}, {3, 4, 3}, {1, 11, 4}, {2}, "VALID");
  for (const char* ok : {"", "NWC"}) {
    one.data_format = ok;
    EXPECT_TRUE(IsOk(plan_of(one))) << ok;
  }
  for (const char* bad : {"NHWC", "NCHW", "NDHWC", "nwc", "NWHC", "CHANNELS_LAST"}) {
    one.data_format = bad;
    EXPECT_TRUE(IsErrorWith(plan_of(one), {"data_format", std::string("'") + bad + "'", "NWC"})) << bad;
  }
  ConvTransposeArgs one_cf = make_args({1, 3, 5}, {3, 4, 3}, {1, 4, 11}, {2}, "VALID", "NCW");
  EXPECT_TRUE(IsOk(plan_of(one_cf)));
  ConvTransposeArgs two = base2d();
  for (const char* bad : {"NWC", "NCW", "NDHWC", "nhwc", "NHCW"}) {
    two.data_format = bad;
    EXPECT_TRUE(IsErrorWith(plan_of(two), {"data_format", std::string("'") + bad + "'", "NHWC"})) << bad;
  }
  two.data_format = "NHWC";
  EXPECT_TRUE(IsOk(plan_of(two)));
  ConvTransposeArgs three = make_args({1, 2, 3, 4, 2}, {1, 2, 3, 5, 2}, {1, 2, 3, 4, 5}, {1}, "SAME");
  three.data_format = "NDHWC";
  EXPECT_TRUE(IsOk(plan_of(three)));
  for (const char* bad : {"NHWC", "NCHW", "NCW", "ndhwc"}) {
    three.data_format = bad;
    EXPECT_TRUE(IsErrorWith(plan_of(three), {"data_format", std::string("'") + bad + "'", "NDHWC"})) << bad;
  }
}

// ---------------------------------------------------------------------------
// Padding
// ---------------------------------------------------------------------------

TEST(Plan, ExplicitPaddingPositions) {
  // NHWC input 3x4, k 3, stride 2, pads h (1, 2), w (3, 0):
  //   h legal [(3-1)*2+3-3, +1] = [4, 5]; w legal [(4-1)*2+3-3, +1] = [6, 7].
  //   check h 4: (4+3-3+2)/2 = 3; w 6: (6+3-3+2)/2 = 4.
  ConvTransposeArgs a =
      with_explicit(make_args({1, 3, 4, 2}, {3, 3, 5, 2}, {1, 4, 6, 5}, {2}, ""), {0, 0, 1, 2, 3, 0, 0, 0});
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.pad_before, (A3{0, 1, 3}));
  EXPECT_EQ(p.pad_after, (A3{0, 2, 0}));
  a.output_shape = {1, 5, 7, 5};
  EXPECT_TRUE(IsOk(plan_of(a)));
  a.output_shape = {1, 6, 7, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"height", "[4, 5]", "explicit padding [[0, 0], [1, 2], [3, 0], [0, 0]]"}));
  // NCHW: pairs in NCHW order.
  ConvTransposeArgs c =
      with_explicit(make_args({1, 2, 3, 4}, {3, 3, 5, 2}, {1, 5, 4, 6}, {2}, "", "NCHW"), {0, 0, 0, 0, 1, 2, 3, 0});
  ASSERT_TRUE(IsOk(plan_of(c, &p)));
  EXPECT_EQ(p.pad_before, (A3{0, 1, 3}));
  EXPECT_EQ(p.pad_after, (A3{0, 2, 0}));
  // 1-D NWC and NCW: width pad (2, 1), k 3, s 1: out = 5 + 3 - 1 - 3 = 4.
  ConvTransposeArgs one = with_explicit(make_args({1, 5, 3}, {3, 4, 3}, {1, 4, 4}, {1}, ""), {0, 0, 2, 1, 0, 0});
  ASSERT_TRUE(IsOk(plan_of(one, &p)));
  EXPECT_EQ(p.pad_before, (A3{0, 0, 2}));
  EXPECT_EQ(p.pad_after, (A3{0, 0, 1}));
  ConvTransposeArgs one_cf =
      with_explicit(make_args({1, 3, 5}, {3, 4, 3}, {1, 4, 4}, {1}, "", "NCW"), {0, 0, 0, 0, 2, 1});
  ASSERT_TRUE(IsOk(plan_of(one_cf, &p)));
  EXPECT_EQ(p.pad_before, (A3{0, 0, 2}));
  // 3-D NCDHW: pads d (1, 0), h (0, 2), w (1, 1); k 2x3x3, s 1:
  //   d 2+2-1-1 = 2; h 3+3-1-2 = 3; w 4+3-1-2 = 4.
  ConvTransposeArgs three = with_explicit(make_args({1, 2, 2, 3, 4}, {2, 3, 3, 5, 2}, {1, 5, 2, 3, 4}, {1}, "", "NCDHW"),
                                          {0, 0, 0, 0, 1, 0, 0, 2, 1, 1});
  ASSERT_TRUE(IsOk(plan_of(three, &p)));
  EXPECT_EQ(p.pad_before, (A3{1, 0, 1}));
  EXPECT_EQ(p.pad_after, (A3{0, 2, 1}));
}

TEST(Plan, ExplicitPaddingErrors) {
  ConvTransposeArgs a =
      with_explicit(make_args({1, 3, 4, 2}, {3, 3, 5, 2}, {1, 4, 6, 5}, {2}, ""), {0, 0, 1, 2, 3, 0, 0, 0});
  // Batch pair non-zero.
  a.explicit_paddings = {1, 0, 1, 2, 3, 0, 0, 0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "[[1, 0], [1, 2], [3, 0], [0, 0]]", "batch"}));
  // Channel pair (last in NHWC) non-zero.
  a.explicit_paddings = {0, 0, 1, 2, 3, 0, 0, 1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "[[0, 0], [1, 2], [3, 0], [0, 1]]", "channel"}));
  // NCHW: the NHWC-ordered list puts (1, 2) on the channel dim.
  ConvTransposeArgs c =
      with_explicit(make_args({1, 2, 3, 4}, {3, 3, 5, 2}, {1, 5, 4, 6}, {2}, "", "NCHW"), {0, 0, 1, 2, 3, 0, 0, 0});
  EXPECT_TRUE(IsErrorWith(plan_of(c), {"padding", "[[0, 0], [1, 2], [3, 0], [0, 0]]", "channel"}));
  // Negative values.
  a.explicit_paddings = {0, 0, -1, 2, 3, 0, 0, 0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "non-negative", "[[0, 0], [-1, 2], [3, 0], [0, 0]]"}));
  // Pair count must be N+2.
  a.explicit_paddings = {1, 2, 3, 0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "[[1, 2], [3, 0]]", "2 pairs", "4"}));
  a.explicit_paddings = {0, 0, 1, 2, 3, 0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "[[0, 0], [1, 2], [3, 0]]", "3 pairs"}));
  a.explicit_paddings = {0, 0, 1, 2, 3, 0, 0, 0, 0, 0};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "5 pairs"}));
  a.explicit_paddings = {};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding"}));
}

TEST(Plan, PaddingStrings) {
  ConvTransposeArgs a = base2d();
  a.padding = "same";
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "'same'"}));
  a.padding = "Valid";
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "'Valid'"}));
  a.padding = "EXPLICIT";
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "EXPLICIT"}));
  a.padding = "FULL";
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "'FULL'"}));
  a.padding = "";
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "''"}));
  a.padding = "VALID";  // h legal [(3-1)*2+3, +1] = [7, 8], w [9, 10]
  a.output_shape = {1, 7, 9, 5};
  EXPECT_TRUE(IsOk(plan_of(a)));
}

// ---------------------------------------------------------------------------
// dtypes, channels, batch, negative dims
// ---------------------------------------------------------------------------

TEST(Plan, DTypes) {
  ConvTransposeArgs a = base2d();
  ConvTransposePlan p;
  for (DType t : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16}) {
    a.input_dtype = a.filter_dtype = t;
    ASSERT_TRUE(IsOk(plan_of(a, &p)));
    EXPECT_EQ(p.dtype, t);
  }
  a.input_dtype = DType::kFloat32;
  a.filter_dtype = DType::kFloat64;
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dtype", "float32", "float64"}));
  a.input_dtype = DType::kBFloat16;
  a.filter_dtype = DType::kFloat16;
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dtype", "bfloat16", "float16"}));
}

TEST(Plan, ChannelAndBatchMismatches) {
  ConvTransposeArgs a = base2d();
  a.filter_shape = {3, 3, 5, 7};  // 7 input channels, input has 2
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"filters", "[3, 3, 5, 7]", "7", "[1, 3, 4, 2]"}));
  a = base2d();
  a.output_shape = {1, 6, 8, 4};  // 4 output channels, filters have 5
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[1, 6, 8, 4]", "5"}));
  a = base2d();
  a.output_shape = {2, 6, 8, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"batch", "[2, 6, 8, 5]", "[1, 3, 4, 2]"}));
  // The same checks in NCHW read the channel dim at index 1.
  ConvTransposeArgs c = base2d_cf();
  c.output_shape = {1, 4, 6, 8};
  EXPECT_TRUE(IsErrorWith(plan_of(c), {"output_shape", "[1, 4, 6, 8]"}));
  c = base2d_cf();
  c.input_shape = {1, 3, 3, 4};
  EXPECT_TRUE(IsErrorWith(plan_of(c), {"filters", "[1, 3, 3, 4]"}));
}

TEST(Plan, NegativeAndZeroDims) {
  ConvTransposeArgs a = base2d();
  a.input_shape = {1, -3, 4, 2};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"input.shape", "[1, -3, 4, 2]", "-3"}));
  a = base2d();
  a.filter_shape = {3, 3, -5, 2};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"filters.shape", "[3, 3, -5, 2]", "-5"}));
  a = base2d();
  a.output_shape = {1, 6, 8, -1};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[1, 6, 8, -1]", "-1"}));
  a = base2d();
  a.output_shape = {-1, 6, 8, 5};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[-1, 6, 8, 5]"}));
  // A zero filter spatial dim has no forward convolution.
  a = base2d();
  a.filter_shape = {3, 0, 5, 2};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"filters", "[3, 0, 5, 2]"}));
  // Zero batch and zero channels are fine.
  ConvTransposePlan p;
  a = make_args({0, 3, 4, 2}, {3, 3, 5, 2}, {0, 6, 8, 5}, {2}, "SAME");
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.input_elements, 0);
  EXPECT_EQ(p.output_elements, 0);
  a = make_args({1, 3, 4, 0}, {3, 3, 5, 0}, {1, 6, 8, 5}, {2}, "SAME");
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.filter_elements, 0);
  EXPECT_EQ(p.output_elements, 240);
}

// ---------------------------------------------------------------------------
// Sizes: JS-safe element counts and the memory budget
// ---------------------------------------------------------------------------

TEST(Plan, ElementCountsBeyond2To53Rejected) {
  // 1-D NWC, k 1, stride 1, VALID: output width = input width.
  // Input [1, 2^27, 2^26]: 2^53 elements, one more than 2^53 - 1.
  const int64_t w = int64_t{1} << 27, c = int64_t{1} << 26;
  ConvTransposeArgs a = make_args({1, w, c}, {1, 1, c}, {1, w, 1}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"input.shape", "[1, 134217728, 67108864]", "2^53"}));
  // 2^53 - 1 = 6361 * 69431 * 20394401 elements: accepted.
  const int64_t w2 = 6361LL * 69431LL, c2 = 20394401LL;
  a = make_args({1, w2, c2}, {1, 1, c2}, {1, w2, 1}, {1}, "VALID");
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(plan_of(a, &p)));
  EXPECT_EQ(p.input_elements, (int64_t{1} << 53) - 1);
  // Filters [1, 2^27, 2^26].
  a = make_args({1, 1, c}, {1, w, c}, {1, 1, w}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"filters.shape", "[1, 134217728, 67108864]", "2^53"}));
  // Output [2^26, 2^27, 1] x ... : output_shape [1, 2^27, 2^26] with filters [1, 2^26, 1].
  a = make_args({1, w, 1}, {1, c, 1}, {1, w, c}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[1, 134217728, 67108864]", "2^53"}));
  // A product that overflows int64 outright.
  a = make_args({1 << 20, 1 << 22, 1 << 22}, {1, 1, 1 << 22}, {1 << 20, 1 << 22, 1}, {1}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"input.shape", "2^53"}));
}

TEST(Plan, CustomNamePrefixesEveryError) {
  std::vector<ConvTransposeArgs> bad;
  ConvTransposeArgs a = base2d();
  a.output_shape = {1, 7, 8, 5};
  bad.push_back(a);
  a = base2d();
  a.strides = {0};
  bad.push_back(a);
  a = base2d();
  a.padding = "same";
  bad.push_back(a);
  a = base2d();
  a.data_format = "NCW";
  bad.push_back(a);
  a = base2d();
  a.filter_dtype = DType::kFloat16;
  bad.push_back(a);
  a = base2d();
  a.input_shape = {1, 3, -4, 2};
  bad.push_back(a);
  a = base2d();
  a.output_shape = {1, 2};
  bad.push_back(a);
  for (ConvTransposeArgs& b : bad) {
    b.name = "decoder/up1";
    EXPECT_TRUE(IsErrorWith(plan_of(b), {}, "decoder/up1: "));
    b.name = "";
    EXPECT_TRUE(IsErrorWith(plan_of(b), {}, "conv_transpose: "));
  }
}

// ---------------------------------------------------------------------------
// Arithmetic on huge (but individually JS-safe) values must not overflow
// int64: that is undefined behaviour, and a wrapped value can make an
// illegal output_shape pass the check.
// ---------------------------------------------------------------------------

TEST(Plan, HugeDilationDoesNotWrapTheEffectiveKernel) {
  // k = 2^33 + 1, dilation 2^31: eff = 2^64 + 1, far beyond any output size,
  // so no output_shape is legal for VALID (TF's forward convolution of any
  // size <= 2^53 is negative or 0, never the input's 5). Computed in int64,
  // (k - 1) * d wraps to 0 and eff to 1, which would make output width 5 look legal.
  // (5 output channels: the 1-4 channel kernel's scratch estimate loops over
  // the kernel width, which takes minutes for 2^33 taps once this is accepted.)
  const int64_t k = (int64_t{1} << 33) + 1;
  ConvTransposeArgs a = make_args({1, 5, 1}, {k, 5, 1}, {1, 5, 5}, {1}, "VALID");
  a.dilations = {int64_t{1} << 31};
  EXPECT_FALSE(plan_of(a).ok()) << "an illegal output_shape was accepted";
}

TEST(Plan, ValuesBeyond2To53Rejected) {
  // Every size must be an exact JS number: dims, strides, dilations, padding
  // values and the dilated kernel extent (k - 1) * d + 1 stay below 2^53.
  const int64_t big = int64_t{1} << 53;
  ConvTransposeArgs a = make_args({1, big, 0}, {1, 1, 0}, {1, big, 1}, {1}, "VALID");  // 0 elements each
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"input.shape", "9007199254740992"}));
  a = make_args({1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {big}, "SAME");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"strides", "9007199254740992"}));
  a.strides = V{1};
  a.dilations = V{big};
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"dilations", "9007199254740992"}));
  a = with_explicit(make_args({1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1}, ""), {0, 0, big, 0, 0, 0});
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"padding", "9007199254740992"}));
  // The extent at the limit: k = 2^52, d = 2 gives (2^52 - 1) * 2 + 1 = 2^53 - 1: fine;
  // k = 2^52 + 1 gives 2^53 + 1: rejected, naming the filters and the dilations.
  ctw::FilterArgs f;
  f.filter_shape = {int64_t{1} << 52, 1, 1};
  f.dilations = V{2};
  f.padding = "VALID";
  ConvTransposePlan p;
  EXPECT_TRUE(IsOk(ctw::plan_filters(f, &p)));
  f.filter_shape = {(int64_t{1} << 52) + 1, 1, 1};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(f, &p), {"filters.shape=[4503599627370497, 1, 1]", "dilations=[2]"}));
  // The largest safe sizes still plan: VALID, k 1, width 2^53 - 1 with 0 channels.
  a = make_args({1, big - 1, 0}, {1, 1, 0}, {1, big - 1, 1}, {1}, "VALID");
  EXPECT_TRUE(IsOk(plan_of(a)));
  // SAME with stride 2^53 - 1 and output 2^53 - 1: (o + s - 1) / s = 1.
  a = make_args({1, 1, 0}, {1, 1, 0}, {1, big - 1, 1}, {big - 1}, "SAME");
  EXPECT_TRUE(IsOk(plan_of(a)));
}

TEST(Plan, HugeStrideInErrorPathDoesNotOverflow) {
  // Input width 2^40, stride 2^40, output width 5: (5 - 1 + 2^40) / 2^40 = 1,
  // not 2^40, so it is an error; describing the legal range must not compute
  // (2^40 - 1) * 2^40 in int64.
  const int64_t big = int64_t{1} << 40;
  ConvTransposeArgs a = make_args({1, big, 1}, {1, 1, 1}, {1, 5, 1}, {big}, "VALID");
  EXPECT_TRUE(IsErrorWith(plan_of(a), {"output_shape", "[1, 5, 1]"}));
}

}  // namespace

// ---------------------------------------------------------------------------
// plan_filters: the prepared operator's half (N from the filters' rank)
// ---------------------------------------------------------------------------

namespace {

ctw::FilterArgs filter_args() {
  // 2-D filters: 2x3, 6 output and 4 input channels; strides (2, 3),
  // dilations (1, 2), NCHW, float16.
  ctw::FilterArgs a;
  a.filter_shape = {2, 3, 6, 4};
  a.strides = V{2, 3};
  a.dilations = V{1, 2};
  a.padding = "SAME";
  a.data_format = "NCHW";
  a.dtype = DType::kFloat16;
  return a;
}

TEST(PlanFilters, FillsTheWindowHalf) {
  ConvTransposePlan p;
  ASSERT_TRUE(IsOk(ctw::plan_filters(filter_args(), &p)));
  EXPECT_EQ(p.spatial_rank, 2);
  EXPECT_TRUE(p.channels_first);
  EXPECT_EQ(p.dtype, DType::kFloat16);
  EXPECT_EQ(p.filter_size, (A3{1, 2, 3}));
  EXPECT_EQ(p.stride, (A3{1, 2, 3}));
  EXPECT_EQ(p.dilation, (A3{1, 1, 2}));
  EXPECT_EQ(p.output_channels, 6);
  EXPECT_EQ(p.input_channels, 4);
  EXPECT_EQ(p.filter_elements, 144);
  // The full plan of a call with these filters agrees on every shared field.
  // Input 3x4 (NCHW), SAME, strides (2, 3): h in [5, 6], w in [10, 12].
  const ConvTransposeArgs full = ctw::call_args(filter_args(), {2, 4, 3, 4}, {2, 6, 6, 12}, DType::kFloat16);
  ConvTransposePlan q;
  ASSERT_TRUE(IsOk(plan_of(full, &q)));
  EXPECT_EQ(q.spatial_rank, p.spatial_rank);
  EXPECT_EQ(q.channels_first, p.channels_first);
  EXPECT_EQ(q.dtype, p.dtype);
  EXPECT_EQ(q.filter_size, p.filter_size);
  EXPECT_EQ(q.stride, p.stride);
  EXPECT_EQ(q.dilation, p.dilation);
  EXPECT_EQ(q.output_channels, p.output_channels);
  EXPECT_EQ(q.input_channels, p.input_channels);
  EXPECT_EQ(q.filter_elements, p.filter_elements);
  // 1-D and 3-D filters.
  ctw::FilterArgs one;
  one.filter_shape = {5, 2, 3};
  one.padding = "VALID";
  ASSERT_TRUE(IsOk(ctw::plan_filters(one, &p)));
  EXPECT_EQ(p.spatial_rank, 1);
  EXPECT_FALSE(p.channels_first);
  EXPECT_EQ(p.filter_size, (A3{1, 1, 5}));
  EXPECT_EQ(p.stride, (A3{1, 1, 1}));
  ctw::FilterArgs three;
  three.filter_shape = {2, 3, 4, 5, 6};
  three.strides = V{1, 2, 1, 3, 1};
  three.padding = "VALID";
  three.data_format = "NDHWC";
  ASSERT_TRUE(IsOk(ctw::plan_filters(three, &p)));
  EXPECT_EQ(p.spatial_rank, 3);
  EXPECT_EQ(p.filter_size, (A3{2, 3, 4}));
  EXPECT_EQ(p.stride, (A3{2, 1, 3}));
  EXPECT_EQ(p.output_channels, 5);
  EXPECT_EQ(p.input_channels, 6);
}

TEST(PlanFilters, Errors) {
  ConvTransposePlan p;
  ctw::FilterArgs a = filter_args();
  a.filter_shape = {6, 4};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"filters", "[6, 4]", "rank"}));
  a.filter_shape = {1, 1, 1, 1, 6, 4};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"filters", "[1, 1, 1, 1, 6, 4]"}));
  a = filter_args();
  a.filter_shape = {2, -3, 6, 4};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"filters", "[2, -3, 6, 4]", "-3"}));
  a.filter_shape = {2, 0, 6, 4};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"filters", "[2, 0, 6, 4]"}));
  a = filter_args();
  a.data_format = "NCDHW";  // 3-D format for 2-D filters
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"data_format", "'NCDHW'"}));
  // A call whose input dtype differs from the filters' is the call's error.
  ConvTransposeArgs call = ctw::call_args(filter_args(), {2, 4, 3, 4}, {2, 6, 6, 12}, DType::kFloat32);
  EXPECT_TRUE(IsErrorWith(plan_of(call), {"dtype", "float32", "float16"}));
  a = filter_args();
  a.strides = V{1, 2, 2, 2};  // NCHW channel entry 2
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"strides", "[1, 2, 2, 2]"}));
  a = filter_args();
  a.dilations = V{1, 2, 3};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"dilations", "[1, 2, 3]"}));
  a = filter_args();
  a.padding_is_list = true;
  a.explicit_paddings = {0, 0, 0, 0, 1, 1};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"padding", "3 pairs"}));
  a.explicit_paddings = {0, 0, 0, 0, 1, 1, 2, 2};
  EXPECT_TRUE(IsOk(ctw::plan_filters(a, &p)));
  a = filter_args();
  a.padding = "valid";
  a.name = "prepared";
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"padding", "'valid'"}, "prepared: "));
  a = filter_args();
  a.filter_shape = {1, 1, int64_t{1} << 27, int64_t{1} << 26};
  EXPECT_TRUE(IsErrorWith(ctw::plan_filters(a, &p), {"filters.shape", "2^53"}));
}

}  // namespace
