// Which kernel the operator chooses for a plan, and the forced kernels
// that refuse a plan they cannot serve.
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

// The automatic choice: output-channel lanes above 4 output channels; below,
// pixel lanes from few input channels and input-channel lanes from many. A
// forced narrow kernel refuses a wide output.
TEST(Kernel, KernelChoice) {
  auto plan_for = [](int64_t cin, int64_t cout) {
    Rng rng(3000);
    Problem pr;
    EXPECT_TRUE(make_problem(make_spec(2, false, DType::kFloat32, 1, cin, cout, {3, 3}, {2, 2}, {2, 2}, {1, 1}, "SAME"),
                             rng, &pr, false));
    return pr;
  };
  for (int64_t cout = 1; cout <= 4; ++cout) {
    EXPECT_EQ(ctw::choose_kernel(plan_for(1, cout).plan), ctw::KernelKind::kPixels) << cout;
    EXPECT_EQ(ctw::choose_kernel(plan_for(3, cout).plan), ctw::KernelKind::kPixels) << cout;
    EXPECT_EQ(ctw::choose_kernel(plan_for(64, cout).plan), ctw::KernelKind::kDot) << cout;
  }
  for (int64_t cin : {1, 3, 64}) EXPECT_EQ(ctw::choose_kernel(plan_for(cin, 5).plan), ctw::KernelKind::kIgemm);
  // A 1-D filter whose width is a multiple of its stride: output-column lanes
  // when stride x output channels fill two vectors and K = taps per phase x
  // input channels is at least 4; 2-D filters keep the other kernels.
  auto plan_1d = [](int64_t cin, int64_t cout, int64_t k, int64_t s) {
    Rng rng(3001);
    Problem pr;
    EXPECT_TRUE(make_problem(make_spec(1, false, DType::kFloat32, 1, cin, cout, {40}, {k}, {s}, {1}, "SAME"), rng, &pr, false));
    return pr;
  };
  EXPECT_EQ(ctw::choose_kernel(plan_1d(1, 1, 64, 8).plan), ctw::KernelKind::kColumns);
  EXPECT_EQ(ctw::choose_kernel(plan_1d(64, 1, 16, 8).plan), ctw::KernelKind::kColumns);
  EXPECT_EQ(ctw::choose_kernel(plan_1d(17, 2, 8, 4).plan), ctw::KernelKind::kColumns);
  EXPECT_NE(ctw::choose_kernel(plan_1d(1, 1, 16, 8).plan), ctw::KernelKind::kColumns);  // K = 2
  EXPECT_NE(ctw::choose_kernel(plan_1d(1, 1, 32, 4).plan), ctw::KernelKind::kColumns);  // 4 values
  EXPECT_NE(ctw::choose_kernel(plan_1d(1, 1, 20, 8).plan), ctw::KernelKind::kColumns);  // 20 % 8 != 0
  EXPECT_EQ(ctw::choose_kernel(plan_1d(64, 9, 16, 8).plan), ctw::KernelKind::kIgemm);
  {
    Rng rng(3002);
    Problem pr;
    ASSERT_TRUE(make_problem(make_spec(2, false, DType::kFloat32, 1, 64, 4, {8, 8}, {4, 4}, {2, 2}, {1, 1}, "SAME"), rng, &pr, false));
    EXPECT_EQ(ctw::choose_kernel(pr.plan), ctw::KernelKind::kDot);
  }
  const Problem wide = plan_for(8, 5);
  for (ctw::KernelKind k : {ctw::KernelKind::kDot, ctw::KernelKind::kPixels}) {
    std::unique_ptr<ctw::ConvTransposeOp> op;
    EXPECT_TRUE(ctw_test::IsErrorWith(ctw::ConvTransposeOp::create(ctw::filter_args(wide.args), k, &op),
                                      {"serves 1 to 4 output channels; the filters have 5"}));
  }
}

}  // namespace

namespace {

// The one-call form on filters that outweigh the work (a 1x1 latent
// projected to 4x4: each weight used once) reads them in place with the
// channelwise kernel: no packed copy in its memory budget, the reference's
// result; the prepared form still packs for its own choice.
TEST(Kernel, OneCallReadsHeavyFiltersInPlace) {
  for (DType t : kAllTypes) {
    Rng rng(3100);
    Problem pr;
    ASSERT_TRUE(make_problem(make_spec(2, false, t, 1, 64, 24, {1, 1}, {4, 4}, {1, 1}, {1, 1}, "VALID"), rng, &pr,
                             false));
    const ConvTransposePlan& p = pr.plan;
    EXPECT_EQ(ctw::choose_kernel(p), ctw::KernelKind::kIgemm);
    EXPECT_EQ(ctw::choose_one_call_kernel(p), ctw::KernelKind::kChannelwise);
    const bool in_place = ctw::dtype_size(t) == ctw::compute_bytes(t);
    EXPECT_EQ(ctw::reads_filters_in_place(ctw::KernelKind::kChannelwise, p), in_place);
    const uint64_t filter_bytes = static_cast<uint64_t>(p.filter_elements) * ctw::compute_bytes(t);
    if (in_place) EXPECT_LT(ctw::one_call_bytes(p, 1).scratch, filter_bytes);
    else EXPECT_GE(ctw::one_call_bytes(p, 1).scratch, filter_bytes);
    check_problem(pr);
    if (HasFatalFailure()) return;
  }
  // Wider inputs use each weight more often: packing pays again.
  Rng rng(3101);
  Problem pr;
  ASSERT_TRUE(make_problem(make_spec(2, false, DType::kFloat32, 1, 64, 24, {3, 3}, {4, 4}, {1, 1}, {1, 1}, "VALID"),
                           rng, &pr, false));
  EXPECT_EQ(ctw::choose_one_call_kernel(pr.plan), ctw::KernelKind::kIgemm);
}

}  // namespace
