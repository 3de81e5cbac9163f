// How far the output epilogue's activation can move an error in the sum it
// is applied to: its Lipschitz constant, an upper bound of |act'| over the
// reals (gelu' peaks at 1.1289, silu' at 1.0998). The kernel tests
// (problem.h) and the fuzzer carry their bound on the sum through it.
// No GoogleTest here, so that the fuzzer can include it.
#pragma once

#include <algorithm>
#include <cmath>

#include "semantics/epilogue.h"

namespace ctw_test {

inline double lipschitz(const ctw::EpilogueArgs& e) {
  switch (e.activation) {
    case ctw::Activation::kLeakyRelu:
    case ctw::Activation::kElu: return std::max(1.0, std::fabs(e.alpha));
    case ctw::Activation::kSigmoid: return 0.25;
    case ctw::Activation::kGelu: return 1.13;
    case ctw::Activation::kSilu: return 1.1;
    default: return 1.0;
  }
}

}  // namespace ctw_test
