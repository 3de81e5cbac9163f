// The kernels: the algorithms that compute a planned transposed
// convolution, and what each of them offers the operator.
//
//   - reference.h: the definition, written plainly; any rank, layout,
//     stride, dilation and padding; accumulates in double. Tests and the
//     fuzzer hold every fast kernel to it.
//   - igemm.cc (IgemmKernel): output channels in vector lanes; each stride
//     phase an indirect GEMM over the input. Any shape.
//   - dot.cc (DotKernel): input channels in vector lanes, for 1 to 4 output
//     channels fed by several input channels.
//   - pixels.cc (PixelsKernel): output pixels in vector lanes, for 1 to 4
//     output channels from few input channels.
//   - columns.cc (ColumnsKernel): a filter row's consecutive output columns
//     (every width phase) in vector lanes, for filters whose width is a
//     multiple of the width stride at width dilation 1.
//   - channelwise.cc (ChannelwiseKernel): input channels in vector lanes,
//     summed per group, for groups with few channels each (depthwise).
//
// Groups and the output epilogue are part of every plan: igemm and
// channelwise run any groups, the narrow kernels one group; every kernel
// applies the epilogue (epilogue.h) where it stores.
//
// Every fast kernel has the same life as the operator that runs it
// (operator/conv_transpose_op.h): pack (once per filters), reshape (once
// per shapes: its work split and the scratch a run needs) and run (no
// planning, no allocation of plan tables; only an input copy where its
// layout needs one). The operator dispatches on KernelKind in one place.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "kernels/packed_filters.h"
#include "kernels/phases.h"
#include "runtime/per_thread.h"
#include "runtime/thread_pool.h"
#include "runtime/work_split.h"
#include "semantics/plan.h"

namespace ctw {

// The fast kernels, by where their vector lanes go. kAuto is a request, not
// a kernel: the operator then chooses by the channel counts and the width
// window (operator/kernel_choice.h).
enum class KernelKind {
  kAuto,
  kIgemm,    // output channels in lanes: any output channel count
  kDot,      // input channels in lanes: 1 to 4 output channels
  kPixels,   // output pixels in lanes: 1 to 4 output channels
  kColumns,  // consecutive output columns (all width phases) in lanes
  kChannelwise,  // input channels in lanes, summed per group: few channels per group
};

// Output-channel lanes would sit mostly empty at or below this many output
// channels: the narrow kernels (dot, pixels, columns) serve 1 to this many.
constexpr int64_t kNarrowMaxChannels = 4;

// The igemm kernel's K block: (tap, input channel) products per micro-kernel
// run. A tap with more input channels is cut into slices, and a phase with
// more taps x channels into blocks, that add to the output (igemm.cc).
constexpr int64_t kIgemmKBlock = 4096;

// The dot kernel sets up at most this many runs of taps once per output row
// for the tiles inside the input; rows with more take the edge path for
// every tile (dot.cc).
constexpr int kDotMaxRowRuns = 16;

// What a run needs besides the tensors and the packed filters.
struct ScratchSizes {
  size_t per_thread = 0;  // bytes of each thread's slice
  size_t shared = 0;      // zeroed bytes that every thread reads
  uint64_t per_run = 0;   // bytes each run allocates and frees (input copies)
};

// What reshape prepares for run: the plan tables of one pair of shapes.
struct KernelPlan {
  ConvTransposePlan plan;
  const PackedFilters* packed = nullptr;
  std::vector<Phase> phases;  // for the kernels that walk output phases
  bool zero_first = false;    // some output pixels lie in no phase: run zeroes the output first
  WorkSplit split;            // the run's items
  // Where the kernel's per-thread arrays start in a thread's slice
  // (runtime/per_thread.h SliceLayout), in the kernel's own order.
  std::array<size_t, 4> slice_offsets{};
};

// The scratch of one reshape, allocated by the operator from ScratchSizes.
struct KernelScratch {
  KernelScratch() = default;
  KernelScratch(const KernelScratch&) = delete;
  KernelScratch& operator=(const KernelScratch&) = delete;
  ~KernelScratch() { std::free(shared); }

  PerThreadBytes threads;  // one slice per thread
  void* shared = nullptr;  // zeroed once; runs only read it
};

// Each fast kernel offers:
//   packed_elements(plan): elements of its packed filters (compute type);
//   pack(plan, filters, packed, pool): fills packed->data from the filters
//     (plan.dtype, shape filter size + [out, in]); packed's tap groups are set;
//   reshape(plan, max_taps, kp): the scratch a run needs, for phases of at
//     most max_taps taps; with kp (packed set), also its phases, work split
//     and slice layout. Without kp it only sizes (the memory budget of a
//     call whose filters are not packed yet).
//   run(kp, scratch, input, output, pool): computes; false when its input
//     copy cannot be allocated.
#define CTW_DECLARE_KERNEL(Name)                                                                         \
  struct Name {                                                                                          \
    static int64_t packed_elements(const ConvTransposePlan& plan);                                       \
    static void pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed,           \
                     ThreadPool* pool);                                                                  \
    static ScratchSizes reshape(const ConvTransposePlan& plan, int max_taps, KernelPlan* kp);            \
    static bool run(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output, \
                    ThreadPool* pool);                                                                   \
  }

CTW_DECLARE_KERNEL(IgemmKernel);    // igemm.cc
CTW_DECLARE_KERNEL(DotKernel);      // dot.cc
CTW_DECLARE_KERNEL(PixelsKernel);   // pixels.cc
CTW_DECLARE_KERNEL(ColumnsKernel);  // columns.cc
CTW_DECLARE_KERNEL(ChannelwiseKernel);  // channelwise.cc

#undef CTW_DECLARE_KERNEL

// Calls f(K{}) with K the kernel of `kind` (never kAuto): the one dispatch
// on the kernel kind.
template <typename F>
decltype(auto) with_kernel(KernelKind kind, F&& f) {
  switch (kind) {
    case KernelKind::kDot: return f(DotKernel{});
    case KernelKind::kPixels: return f(PixelsKernel{});
    case KernelKind::kColumns: return f(ColumnsKernel{});
    case KernelKind::kChannelwise: return f(ChannelwiseKernel{});
    default: return f(IgemmKernel{});
  }
}

// Below this many multiply-adds, waking another thread costs more than it saves.
constexpr double kMinMacsForThreads = 32768;

inline double plan_macs(const ConvTransposePlan& p) {
  return static_cast<double>(p.batch) * p.input_spatial() * p.input_channels * p.output_channels *
         p.filter_spatial();
}

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

}  // namespace ctw
