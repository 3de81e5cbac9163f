// Empty and degenerate calls: zero batch, channels or width, null
// pointers for empty tensors, strides far larger than the tensors.
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

// ---------------------------------------------------------------------------
// Zero sizes
// ---------------------------------------------------------------------------

void expect_all_zero(DType t, const std::vector<uint8_t>& out, const std::string& what) {
  const size_t n = out.size() / dsize(t);
  int bad = 0;
  for (size_t i = 0; i < n; ++i) bad += load(t, out, i) != 0;  // NaN != 0 too
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << n << " elements are not 0";
}

TEST(Kernel, ZeroBatchOrOutputChannels) {
  for (DType t : kAllTypes) {
    for (bool cf : {false, true}) {
      ConvTransposePlan p;
      // Batch 0.
      ConvTransposeArgs a = to_args(make_spec(2, cf, t, 0, 3, 4, {3, 3}, {3, 3}, {2, 2}, {1, 1}, "SAME"));
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.output_elements, 0);
      std::vector<uint8_t> filters(static_cast<size_t>(p.filter_elements) * dsize(t), 0);
      uint8_t sentinel[16] = {0};
      EXPECT_TRUE(IsOk(ctw::conv_transpose("", p, sentinel, filters.data(), sentinel, pool_of(2))));
      ctw::conv_transpose_reference(p, sentinel, filters.data(), sentinel);
      // Output channels 0.
      a = to_args(make_spec(2, cf, t, 2, 3, 0, {3, 3}, {3, 3}, {2, 2}, {1, 1}, "SAME"));
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.output_elements, 0);
      std::vector<uint8_t> input(static_cast<size_t>(p.input_elements) * dsize(t), 0);
      EXPECT_TRUE(IsOk(ctw::conv_transpose("", p, input.data(), sentinel, sentinel, nullptr)));
    }
  }
}

TEST(Kernel, ZeroInputChannelsGiveZeros) {
  for (DType t : kAllTypes)
  for (int64_t cout : {2, 5}) {  // the narrow and the wide kernel
    for (bool cf : {false, true}) {
      ConvTransposePlan p;
      ConvTransposeArgs a = to_args(make_spec(2, cf, t, 2, 0, cout, {4, 3}, {3, 2}, {2, 2}, {1, 1}, "VALID"));
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.input_elements, 0);
      ASSERT_EQ(p.filter_elements, 0);
      ASSERT_GT(p.output_elements, 0);
      // Zero-element tensors given as valid (non-null) pointers.
      uint8_t dummy[16] = {0};
      for (int threads = 0; threads <= 3; ++threads) {
        std::vector<uint8_t> out = nan_tensor(t, p.output_elements);
        ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, dummy, dummy, out.data(), threads ? pool_of(threads) : nullptr)));
        expect_all_zero(t, out, std::string("cin 0, ") + ctw::dtype_name(t) + (cf ? " NCHW" : " NHWC"));
      }
      std::vector<uint8_t> ref = nan_tensor(t, p.output_elements);
      ctw::conv_transpose_reference(p, dummy, dummy, ref.data());
      expect_all_zero(t, ref, "reference, cin 0");
    }
  }
}

// A spatial input size of 0 is legal (VALID, k 5, s 2: output 2..4, see
// plan_test.cc) and nothing reaches the output.
TEST(Kernel, ZeroInputWidthGivesZeros) {
  for (DType t : kAllTypes)
  for (int64_t cout : {4, 7}) {  // the narrow and the wide kernel
    for (bool cf : {false, true}) {
      ConvTransposeArgs a = to_args(make_spec(1, cf, t, 2, 3, cout, {0}, {5}, {2}, {1}, "VALID", {3}));
      ConvTransposePlan p;
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.input_elements, 0);
      Rng rng(7);
      std::vector<uint8_t> filters = random_tensor(t, p.filter_elements, rng);
      uint8_t dummy[16] = {0};
      std::vector<uint8_t> out = nan_tensor(t, p.output_elements);
      ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, dummy, filters.data(), out.data(), pool_of(3))));
      expect_all_zero(t, out, "input width 0");
    }
  }
}

// A zero-element input may arrive as a null pointer (an empty buffer); the
// kernel must not read it and must not report that as a failure.
TEST(Kernel, ZeroElementInputAsNullPointer) {
  for (DType t : kAllTypes)
  for (int64_t cout : {3, 6}) {  // the narrow and the wide kernel
    for (bool cf : {false, true}) {
      ConvTransposeArgs a = to_args(make_spec(2, cf, t, 1, 0, cout, {3, 3}, {2, 2}, {2, 2}, {1, 1}, "SAME"));
      ConvTransposePlan p;
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      std::vector<uint8_t> out = nan_tensor(t, p.output_elements);
      EXPECT_TRUE(IsOk(ctw::conv_transpose("", p, nullptr, nullptr, out.data(), nullptr)))
          << ctw::dtype_name(t) << (cf ? " channels first" : " channels last") << ", " << cout << " output channels";
      expect_all_zero(t, out, "null zero-element input");
    }
  }
}

// Strides far larger than the tensors are legal (SAME, input 1: output 1);
// the work and memory must follow the tensors, not the product of the strides.
TEST(Kernel, TinyProblemWithHugeStrides) {
  const int64_t s = int64_t{1} << 20;  // up to 2^60 stride phases in 3-D
  for (DType t : kAllTypes)
    for (int64_t cout : {1, 5})  // the narrow and the wide kernel
      for (int n = 1; n <= 3; ++n) {
        const V ones(static_cast<size_t>(n), 1), strides(static_cast<size_t>(n), s);
        // SAME, input 1: output 1 (in [1, s]); VALID, input 1, kernel 2: output in [2, s + 1].
        Spec same = make_spec(n, cout == 1, t, 2, 3, cout, ones, ones, strides, ones, "SAME", ones);
        check_spec(same, 950 + n);
        Spec valid = make_spec(n, false, t, 1, 2, cout, ones, V(static_cast<size_t>(n), 2), strides, ones, "VALID",
                               V(static_cast<size_t>(n), 2));
        check_spec(valid, 960 + n);
        ConvTransposePlan p;
        ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(to_args(same), &p)));
        EXPECT_LT(ctw::one_call_bytes(p, 3).total(), uint64_t{1} << 24) << same.describe();
      }
}

}  // namespace
