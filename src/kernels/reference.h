// The reference kernel: tf.nn.conv_transpose as its definition reads,
// accumulated in double, for any rank, layout, stride, dilation and
// padding. Slow on purpose: the yardstick that tests and the fuzzer hold
// every fast kernel to, not a path users take.
#pragma once

#include "semantics/plan.h"

namespace ctw {

// Reads input and filters in plan.dtype and plan layout (filters: filter
// size + [out, in]); writes every output element, rounded to plan.dtype once.
void conv_transpose_reference(const ConvTransposePlan& plan, const void* input, const void* filters, void* output);

}  // namespace ctw
