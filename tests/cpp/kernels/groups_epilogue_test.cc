// Channel groups and the output epilogue: random legal plans of every rank,
// layout and dtype with groups in {1, 2, channels}, every activation, with
// and without a bias; every fast kernel that serves the plan (chosen and
// forced, on 0-3 threads) against the reference and the independent gather
// (problem.h states the bounds).
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

const ctw::Activation kActivations[] = {
    ctw::Activation::kLinear, ctw::Activation::kRelu,    ctw::Activation::kClamp, ctw::Activation::kLeakyRelu,
    ctw::Activation::kElu,    ctw::Activation::kSigmoid, ctw::Activation::kTanh,  ctw::Activation::kGelu,
    ctw::Activation::kSilu};

ctw::EpilogueArgs epilogue_for(ctw::Activation a, bool bias, Rng& rng) {
  ctw::EpilogueArgs e;
  e.activation = a;
  e.bias = bias;
  e.alpha = a == ctw::Activation::kElu ? 1.0 : 0.01 + 0.5 * std::fabs(rng.signed_unit());
  // Clamp bounds inside the outputs' range (sums of a few unit products), so both sides of each bound are hit.
  e.lo = -0.5 * std::fabs(rng.signed_unit());
  e.hi = 0.5 * std::fabs(rng.signed_unit());
  return e;
}

Spec grouped_spec(Rng& rng, int n, DType t, ctw::Activation a, bool bias) {
  const int64_t max_in = n == 1 ? 12 : n == 2 ? 6 : 3;
  const int64_t max_k = n == 1 ? 5 : n == 2 ? 3 : 2;
  for (;;) {
    Spec sp;
    sp.n = n;
    sp.dtype = t;
    sp.channels_first = rng.coin();
    sp.batch = rng.range(1, 2);
    // Groups of 1, 2 or every channel (depthwise), with 1-3 channels per group on each side.
    const int form = static_cast<int>(rng.range(0, 2));
    const int64_t groups = form == 0 ? 1 : form == 1 ? 2 : rng.range(3, 9);
    const int64_t a_per = form == 2 ? rng.pick(std::vector<int64_t>{1, 1, 2}) : rng.range(1, 5);
    const int64_t b_per = form == 2 ? rng.pick(std::vector<int64_t>{1, 1, 3}) : rng.pick(std::vector<int64_t>{1, 3, 5, 9});
    sp.groups = groups;
    sp.cin = groups * a_per;
    sp.cout = groups * b_per;
    if (!random_window(&sp, rng, max_in, max_k, 3, 2, 2)) continue;
    sp.epilogue = epilogue_for(a, bias, rng);
    return sp;
  }
}

class GroupsAndEpilogue : public ::testing::TestWithParam<std::tuple<DType, int>> {};

TEST_P(GroupsAndEpilogue, FastMatchesReference) {
  const DType t = std::get<0>(GetParam());
  const int n = std::get<1>(GetParam());
  Rng rng(5000 + 10 * static_cast<int>(t) + n);
  for (ctw::Activation a : kActivations) {
    for (int c = 0; c < 6; ++c) {
      const Spec sp = grouped_spec(rng, n, t, a, c % 2 == 0);
      Problem pr;
      ASSERT_TRUE(make_problem(sp, rng, &pr));
      check_problem(pr);
      if (HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, GroupsAndEpilogue,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes), ::testing::Values(1, 2, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<DType, int>>& info) {
                           return std::string(ctw::dtype_name(std::get<0>(info.param))) + "_N" +
                                  std::to_string(std::get<1>(info.param));
                         });

// A 2-D layer of `groups` groups with a bias and `activation`, in every dtype.
void check_2d(int64_t batch, int64_t groups, int64_t cin, int64_t cout, V in, V k, V s, const std::string& padding,
              ctw::Activation activation, uint64_t seed) {
  Spec sp;
  sp.n = 2;
  sp.batch = batch;
  sp.groups = groups;
  sp.cin = cin;
  sp.cout = cout;
  sp.in = std::move(in);
  sp.k = std::move(k);
  sp.s = std::move(s);
  sp.d = {1, 1};
  sp.padding = padding;
  choose_output(&sp);
  sp.epilogue.activation = activation;
  sp.epilogue.bias = true;
  for (DType t : kAllTypes) {
    sp.dtype = t;
    check_spec(sp, seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// A depthwise layer large enough for the pool's threads and the channel
// kernel's full vector blocks (16 float lanes at a time).
TEST(GroupsAndEpilogue, DepthwiseOnThreads) {
  check_2d(2, 37, 37, 37, {9, 7}, {4, 4}, {2, 2}, "SAME", ctw::Activation::kRelu, 77);
}

// Empty sums take act(bias): a filter smaller than the stride leaves phases no tap reaches.
TEST(GroupsAndEpilogue, UncoveredOutputsTakeTheEpilogueOfZero) {
  check_2d(1, 2, 4, 6, {3, 3}, {1, 2}, {3, 3}, "VALID", ctw::Activation::kSigmoid, 78);
}

}  // namespace
