// One operator over calls of changing shapes: packed once, reshaped per
// shape, each result held to the reference; shapes that do not fit its
// filters fail with the rule's message and leave it usable.
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

// ---------------------------------------------------------------------------
// Packed filters across plans
// ---------------------------------------------------------------------------

TEST(Kernel, PackedFiltersReusedAcrossPlans) {
  for (DType t : kAllTypes)
  for (int64_t cout : {6, 2}) {  // the wide (igemm) and the narrow kernel
    // Same filters (3x3, 4 -> cout channels), strides (2, 3), dilations (1, 2)
    // and data format for one operator; different batch, input/output sizes.
    const std::vector<Spec> specs = {
        make_spec(2, false, t, 1, 4, cout, {5, 6}, {3, 3}, {2, 3}, {1, 2}, "SAME"),
        make_spec(2, false, t, 2, 4, cout, {3, 9}, {3, 3}, {2, 3}, {1, 2}, "SAME"),
        make_spec(2, false, t, 3, 4, cout, {7, 2}, {3, 3}, {2, 3}, {1, 2}, "SAME", {13, 5}),
        make_spec(2, false, t, 2, 4, cout, {30, 40}, {3, 3}, {2, 3}, {1, 2}, "SAME"),  // threaded
        make_spec(2, false, t, 1, 4, cout, {5, 6}, {3, 3}, {2, 3}, {1, 2}, "SAME"),     // the first shapes again
    };
    Rng rng(700);
    Problem first;
    ASSERT_TRUE(make_problem(specs[0], rng, &first, false));
    ctw::Status st;
    std::unique_ptr<ctw::ConvTransposeOp> op = make_op(first, first.filters, ctw::KernelKind::kAuto, nullptr, &st);
    ASSERT_TRUE(op != nullptr) << st.message();
    for (size_t i = 0; i < specs.size(); ++i) {
      Problem pr;
      ASSERT_TRUE(make_problem(specs[i], rng, &pr, false));
      pr.filters = first.filters;  // the same filters
      const Expected e = gather(pr);
      std::vector<uint8_t> ref = nan_tensor(t, pr.plan.output_elements);
      ctw::conv_transpose_reference(pr.plan, pr.input.data(), pr.filters.data(), ref.data());
      for (int threads = 0; threads <= 2; ++threads) {
        std::vector<uint8_t> out = nan_tensor(t, pr.plan.output_elements);
        ASSERT_TRUE(IsOk(run_op(*op, pr, out.data(), threads ? pool_of(threads) : nullptr)));
        EXPECT_EQ(op->plan().output_shape, pr.args.output_shape);
        EXPECT_TRUE(outputs_close(pr, e, out, &ref, "operator reshaped for new shapes vs reference"));
      }
    }
  }
}

// An operator's reshape plans with its own filters and window options, so a
// call whose shapes do not fit them (other input channels, another dtype,
// an output size the stride does not allow) fails with the rule's message,
// and the operator still runs its next good call.
TEST(Kernel, ReshapeChecksShapesAgainstTheOperatorsFilters) {
  Rng rng(800);
  const Spec base = make_spec(2, false, DType::kFloat32, 1, 4, 6, {5, 6}, {3, 3}, {2, 3}, {1, 2}, "SAME");
  Problem pr;
  ASSERT_TRUE(make_problem(base, rng, &pr, false));
  ctw::Status st;
  std::unique_ptr<ctw::ConvTransposeOp> op = make_op(pr, pr.filters, ctw::KernelKind::kAuto, nullptr, &st);
  ASSERT_TRUE(op != nullptr) << st.message();
  EXPECT_TRUE(ctw_test::IsErrorWith(op->reshape({1, 5, 6, 5}, {1, 10, 18, 6}, DType::kFloat32, 0, 1),
                                    {"input channels", "[1, 5, 6, 5]"}));
  EXPECT_TRUE(ctw_test::IsErrorWith(op->reshape({1, 5, 6, 4}, {1, 10, 18, 6}, DType::kFloat64, 0, 1),
                                    {"dtype", "float64", "float32"}));
  EXPECT_TRUE(ctw_test::IsErrorWith(op->reshape({1, 5, 6, 4}, {1, 12, 18, 6}, DType::kFloat32, 0, 1),
                                    {"output_shape", "[1, 12, 18, 6]"}));
  std::vector<uint8_t> out(static_cast<size_t>(pr.plan.output_elements) * dsize(DType::kFloat32));
  EXPECT_TRUE(ctw_test::IsErrorWith(op->run(pr.input.data(), out.data(), nullptr), {"reshape"}, "conv_transpose: ",
                                    ctw::StatusCode::kInternal))
      << "a run after a failed reshape";
  const Expected e = gather(pr);
  std::vector<uint8_t> ref = nan_tensor(DType::kFloat32, pr.plan.output_elements);
  ctw::conv_transpose_reference(pr.plan, pr.input.data(), pr.filters.data(), ref.data());
  ASSERT_TRUE(IsOk(run_op(*op, pr, out.data(), pool_of(2))));
  EXPECT_TRUE(outputs_close(pr, e, out, &ref, "after failed reshapes"));
}

}  // namespace
