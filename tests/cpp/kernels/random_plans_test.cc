// Random legal plans of every rank, layout, dtype, stride, dilation and
// padding form: every fast kernel against the reference and the gather.
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

// ---------------------------------------------------------------------------
// Random plans
// ---------------------------------------------------------------------------

int64_t prod(const V& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// The fast kernels run single-threaded below 32768 multiply-adds
// (kMinMacsForThreads), so `large` cases sit above that for the pools to be used.
constexpr int64_t kThreadingMacs = 32768;

int64_t macs_of(const Spec& sp) { return sp.batch * prod(sp.in) * prod(sp.k) * sp.cin * sp.cout; }

Spec random_spec(Rng& rng, int n, DType t, bool large) {
  static const std::vector<int64_t> kChannels = {1, 3, 4, 5, 8, 9, 17};
  const int64_t max_in = n == 1 ? (large ? 48 : 16) : n == 2 ? 8 : 4;
  const int64_t max_k = n == 1 ? 6 : n == 2 ? 4 : 3;
  for (;;) {
    Spec sp;
    sp.n = n;
    sp.dtype = t;
    sp.channels_first = rng.coin();
    sp.batch = rng.range(1, 3);
    sp.cin = rng.pick(kChannels);
    sp.cout = rng.pick(kChannels);
    if (!random_window(&sp, rng, max_in, max_k, 4, 3, 3)) continue;
    // Keep the multiply-adds (reference and gather alike) small.
    const int64_t macs = macs_of(sp);
    if (large ? macs < 2 * kThreadingMacs || macs > 150000 : macs > 40000) continue;
    return sp;
  }
}

class RandomPlans : public ::testing::TestWithParam<std::tuple<DType, int>> {};

TEST_P(RandomPlans, FastMatchesReference) {
  const DType t = std::get<0>(GetParam());
  const int n = std::get<1>(GetParam());
  Rng rng(1000 + 10 * static_cast<int>(t) + n);
  for (int c = 0; c < 50; ++c) {
    const Spec sp = random_spec(rng, n, t, c % 3 == 0);
    Problem pr;
    ASSERT_TRUE(make_problem(sp, rng, &pr));
    check_problem(pr);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, RandomPlans,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes), ::testing::Values(1, 2, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<DType, int>>& info) {
                           return std::string(ctw::dtype_name(std::get<0>(info.param))) + "_N" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
