#include "operator/kernel_choice.h"

#include <algorithm>

namespace ctw {
namespace {

// For 1-4 output channels: input-channel lanes from this many input
// channels on, pixel lanes below. With few input channels a dot product is
// short and padded to the vector width while pixel lanes stay full, and the
// pixel tiles reuse each input load across 2-4 output channels; the
// crossovers were measured with bench/sweep-narrow.mjs (one thread, 3x3
// stride-2 and 5x5 stride-3 layers), where the two kernels differ by 10-20%
// either way near them.
constexpr int64_t kDotMinInputChannels[kNarrowMaxChannels] = {8, 24, 32, 24};

// For 1-4 output channels and a filter of one row (1-D, or 1 x k) whose
// width is a multiple of the stride: output-column lanes when a macro
// pixel's values (stride x output channels) fill two vectors and a filter
// row's K (taps per phase x input channels) is at least kColumnsMinK. There
// the stride's columns fill the lanes that 1-4 channels leave empty, and
// each value is stored once, in place; with several filter rows (2-D
// filters) or a K of two, the other kernels were as fast or faster when
// measured (bench/sweep-narrow.mjs).
constexpr int64_t kColumnsMinValues = 8;
constexpr int64_t kColumnsMinK = 4;

// The columns kernel: every (width phase, tap of the phase) pair is a real tap.
bool width_filter_folds(const ConvTransposePlan& plan) {
  return plan.stride[2] >= 2 && plan.dilation[2] == 1 && plan.filter_size[2] % plan.stride[2] == 0;
}

}  // namespace

KernelKind choose_kernel(const ConvTransposePlan& plan) {
  // Groups: igemm's lanes hold one group's output channels and its K is
  // the group's input channels times the taps. With one input channel per
  // group (depthwise and its multipliers) or at most 4 output channels per
  // group, its tiles would be mostly empty or its K a few taps long; the
  // channel-lane kernel keeps every lane busy there.
  if (plan.groups > 1) {
    return plan.group_input_channels() == 1 || plan.group_output_channels() <= kNarrowMaxChannels
               ? KernelKind::kChannelwise
               : KernelKind::kIgemm;
  }
  if (plan.output_channels > kNarrowMaxChannels) return KernelKind::kIgemm;
  if (width_filter_folds(plan) && plan.filter_size[0] * plan.filter_size[1] == 1 &&
      plan.stride[2] * plan.output_channels >= kColumnsMinValues &&
      plan.filter_size[2] / plan.stride[2] * plan.input_channels >= kColumnsMinK) {
    return KernelKind::kColumns;
  }
  const int64_t at_least = kDotMinInputChannels[std::max<int64_t>(plan.output_channels, 1) - 1];
  return plan.input_channels >= at_least ? KernelKind::kDot : KernelKind::kPixels;
}

bool kernel_serves(KernelKind kernel, const ConvTransposePlan& plan) {
  switch (kernel) {
    case KernelKind::kAuto:
    case KernelKind::kIgemm:
    case KernelKind::kChannelwise: return true;
    case KernelKind::kColumns: return plan.groups == 1 && width_filter_folds(plan);
    default: return plan.groups == 1 && plan.output_channels <= kNarrowMaxChannels;
  }
}

Status check_kernel(const std::string& op_name, KernelKind kernel, const ConvTransposePlan& plan) {
  if (kernel_serves(kernel, plan)) return Status::Ok();
  const std::string prefix = op_name_or_default(op_name) + ": kernel='" + kernel_name(kernel) + "' serves ";
  if (plan.groups != 1) {
    return Status::InvalidArgument(prefix + "groups=1 only ('igemm' and 'channelwise' serve groups); here groups=" +
                                   std::to_string(plan.groups));
  }
  if (kernel == KernelKind::kColumns) {
    return Status::InvalidArgument(
        prefix + "filters whose width is a multiple of the width stride (stride at least 2, dilation 1); here width " +
        std::to_string(plan.filter_size[2]) + ", stride " + std::to_string(plan.stride[2]) + ", dilation " +
        std::to_string(plan.dilation[2]));
  }
  return Status::InvalidArgument(prefix + "1 to 4 output channels; the filters have " +
                                 std::to_string(plan.output_channels));
}

const char* kernel_name(KernelKind kernel) {
  switch (kernel) {
    case KernelKind::kAuto: return "auto";
    case KernelKind::kIgemm: return "igemm";
    case KernelKind::kDot: return "dot";
    case KernelKind::kPixels: return "pixels";
    case KernelKind::kColumns: return "columns";
    case KernelKind::kChannelwise: return "channelwise";
  }
  return "unknown";
}

Status kernel_from_name(const std::string& op_name, const std::string& name, KernelKind* kernel) {
  for (KernelKind k : {KernelKind::kAuto, KernelKind::kIgemm, KernelKind::kDot, KernelKind::kPixels,
                       KernelKind::kColumns, KernelKind::kChannelwise}) {
    if (name == kernel_name(k)) {
      *kernel = k;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(op_name_or_default(op_name) + ": kernel='" + name +
                                 "' is not one of 'auto', 'igemm', 'dot', 'pixels', 'columns', 'channelwise'");
}

}  // namespace ctw
