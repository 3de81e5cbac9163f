// Non-finite weights: outputs that no such weight reaches stay finite in
// every kernel, and the ones it reaches match the reference.
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

// Non-finite weights in the corner taps: outputs that no such tap reaches
// (borders cut off by SAME padding among them) must stay finite and close
// to the gather; outputs it reaches get TensorFlow's Inf / NaN. A kernel
// that multiplied padding by the weight (0 * Inf) would put NaN at the borders.
TEST(Kernel, NonFiniteWeightsStayOutOfUnreachedOutputs) {
  struct Window {
    int64_t k, s;
  };
  // Kernels wider than the stride, so that the corner taps fall outside the
  // input for the outputs near every edge.
  const Window windows[] = {{3, 1}, {5, 2}, {4, 3}, {4, 2}};  // {4, 2}: the columns kernel too
  for (DType t : kAllTypes) {
    for (int64_t cin : {2, 5, 8}) {  // every kernel that serves the plan runs (padded channels and not)
      for (int64_t cout : {1, 3, 4, 6}) {
        for (const Window& win : windows) {
          const bool cf = (cin + cout + win.k) % 2 == 1;
          const Spec sp = make_spec(2, cf, t, 1, cin, cout, {6, 9}, {win.k, win.k}, {win.s, win.s}, {1, 1}, "SAME");
          Rng rng(3200 + static_cast<uint64_t>(cin * 100 + cout * 10 + win.k));
          Problem pr;
          ASSERT_TRUE(make_problem(sp, rng, &pr, false));
          // +Inf at the first tap, -Inf at the last, for output channel 0 and input channel 0.
          const int64_t last_tap = win.k * win.k - 1;
          store(t, pr.filters, 0, INFINITY);
          store(t, pr.filters, static_cast<size_t>(last_tap * cout * cin), -INFINITY);
          const ConvTransposePlan& p = pr.plan;
          std::vector<uint8_t> ref = nan_tensor(t, p.output_elements);
          ctw::conv_transpose_reference(p, pr.input.data(), pr.filters.data(), ref.data());
          for (ctw::KernelKind kernel : kernels_for(p)) {
            ctw::Status st;
            std::unique_ptr<ctw::ConvTransposeOp> op = make_op(pr, pr.filters, kernel, nullptr, &st);
            ASSERT_TRUE(op != nullptr) << st.message();
            std::vector<uint8_t> got = nan_tensor(t, p.output_elements);
            ASSERT_TRUE(IsOk(run_op(*op, pr, got.data(), pool_of(2))));
            int finite = 0, infinite = 0, bad = 0;
            for (size_t i = 0; i < static_cast<size_t>(p.output_elements); ++i) {
              const double r = load(t, ref, i), g = load(t, got, i);
              if (std::isnan(r)) {
                bad += !std::isnan(g);
              } else if (std::isinf(r)) {
                ++infinite;
                bad += g != r;
              } else {
                ++finite;
                bad += !std::isfinite(g) || std::fabs(g - r) > 1e-2 * (1 + std::fabs(r));
              }
            }
            EXPECT_EQ(bad, 0) << sp.describe() << " (kernel " << ctw::kernel_name(kernel) << ")";
            EXPECT_GT(finite, 0);
            EXPECT_GT(infinite, 0) << "the planted infinities should reach some outputs";
          }
        }
      }
    }
  }
}

}  // namespace
