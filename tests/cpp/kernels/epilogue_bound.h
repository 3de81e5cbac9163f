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

// Ulps of the result that the float32 evaluation of the activation may be
// off by (simd/math.h): 8, except gelu, whose erfc is within 2 z^2 + 16 ulps
// at z = |sum| / sqrt(2) (its float exponent -z^2 carries z^2's rounding),
// that is sum^2 + 16.
inline double evaluation_ulps(const ctw::EpilogueArgs& e, double sum) {
  return e.activation == ctw::Activation::kGelu ? sum * sum + 16 : 8;
}

}  // namespace ctw_test
