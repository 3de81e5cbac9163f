// The reference kernel: tf.nn.conv_transpose as its definition reads,
// accumulated in double, for any rank, layout, stride, dilation, padding
// and channel groups, with the output epilogue (semantics/epilogue.h). Slow on purpose: the yardstick that tests and the fuzzer hold
// every fast kernel to, not a path users take.
#pragma once

#include "semantics/plan.h"

namespace ctw {

// Reads input and filters in plan.dtype and plan layout (filters: filter
// size + [out / groups, in]); writes every output element,
// activation(sum + bias[channel]) rounded to plan.dtype once. bias: the
// plan's output channels when plan.epilogue.bias, else unread.
void conv_transpose_reference(const ConvTransposePlan& plan, const void* input, const void* filters, void* output,
                              const double* bias = nullptr);

}  // namespace ctw
