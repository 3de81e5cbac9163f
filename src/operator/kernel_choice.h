// Which fast kernel computes a call, and the kernels' names.
//
// The choice depends only on what the filters and the window options fix
// (channel counts, filter size, stride, dilation), so an operator makes it
// once, at create, and packs its filters for that kernel.
#pragma once

#include <string>

#include "kernels/kernel.h"
#include "semantics/plan.h"
#include "semantics/status.h"

namespace ctw {

// What KernelKind::kAuto picks for this plan (never kAuto):
//   - groups with one input channel each or at most 4 output channels
//     each: channelwise; other groups: igemm;
//   - 5 or more output channels: igemm (output channels fill the lanes);
//   - 1 to 4 output channels and a filter of one row whose width is a
//     multiple of the width stride (width dilation 1), when a macro pixel's
//     values fill two vectors and a filter row's K is not tiny: columns;
//   - else 1 to 4 output channels from many input channels: dot;
//   - else pixels.
KernelKind choose_kernel(const ConvTransposePlan& plan);

// The one-call form's choice, which also knows the input: where each weight
// serves at most kMaxUsesToReadInPlace multiply-adds (a 1x1 latent
// projected to 4x4 uses each once) and the output is wide, packing the
// filters would cost more than the products, so the channelwise kernel
// reads them in their own layout (in place for float32 and float64, see
// reads_filters_in_place); otherwise choose_kernel.
constexpr double kMaxUsesToReadInPlace = 2;
KernelKind choose_one_call_kernel(const ConvTransposePlan& plan);

// Whether `kernel` reads this plan's filters where they are (no packed copy).
bool reads_filters_in_place(KernelKind kernel, const ConvTransposePlan& plan);

// Whether `kernel` can compute this plan (kAuto: always).
bool kernel_serves(KernelKind kernel, const ConvTransposePlan& plan);

// Ok when `kernel` can serve the plan, else an invalid-argument error that
// starts with `op_name` and names the kernel, the rule and the plan's
// values that break it.
Status check_kernel(const std::string& op_name, KernelKind kernel, const ConvTransposePlan& plan);

// "igemm", "dot", "pixels", "columns", "channelwise" (or "auto"), and back: an unknown name
// is an invalid-argument error that starts with `op_name` and names the
// value and the choices.
const char* kernel_name(KernelKind kernel);
Status kernel_from_name(const std::string& op_name, const std::string& name, KernelKind* kernel);

}  // namespace ctw
