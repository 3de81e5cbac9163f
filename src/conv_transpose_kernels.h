// The kernels that compute a planned transposed convolution.
//
// Both read only the plan (plan.h) and raw tensor memory in the plan's
// dtype and data_format:
//   - conv_transpose_reference: the definition, written plainly; any rank,
//     layout, stride, dilation and padding; accumulates in double. Tests and
//     the fuzzer hold the fast kernel to it.
//   - the fast kernel (fast_kernel.cc): stride phases, packed filters and a
//     register-blocked SIMD micro-kernel (see igemm_microkernel.h), run on a
//     thread pool. Its filter packing is a separate step so that a prepared
//     operator can pay it once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plan.h"
#include "status.h"
#include "thread_pool.h"

namespace ctw {

void conv_transpose_reference(const ConvTransposePlan& plan, const void* input, const void* filters,
                              void* output);

// The fast kernels, by where their vector lanes go. kAuto lets the core
// choose by the channel counts (what the library does); the others force
// one, so that tests can hold every kernel to the reference on any shape.
enum class FastKernel {
  kAuto,
  kIgemm,   // output channels in lanes: any output channel count
  kDot,     // input channels in lanes: 1 to 4 output channels
  kPixels,  // output pixels in lanes: 1 to 4 output channels
  kColumns, // consecutive output columns (all width phases) in lanes: width
            // kernel a multiple of the width stride, width dilation 1
};

// The igemm kernel's K block: (tap, input channel) products per micro-kernel
// run. A tap with more input channels is cut into slices, and a phase with
// more taps x channels into blocks, that add to the output (igemm_kernel.cc).
constexpr int64_t kIgemmKBlock = 4096;

// The dot kernel sets up at most this many runs of taps once per output row
// for the tiles inside the input; rows with more take the edge path for every
// tile (dot_kernel.cc).
constexpr int kDotMaxRowRuns = 16;

// The pixel kernel's planar copy widens 16-bit channels-last input this many
// elements (whole pixels) at a time into a stack buffer, then transposes that
// into the channels' rows; pixels with more channels are widened one element
// at a time (input_layout.h).
constexpr int64_t kPlanarWidenBlock = 1024;

// What kAuto picks for this plan (never kAuto), and whether a kernel can serve it.
FastKernel fast_kernel_for(const ConvTransposePlan& plan);
bool fast_kernel_serves(FastKernel kernel, const ConvTransposePlan& plan);
// Ok when `kernel` can serve the plan, else an error that starts with
// `op_name` (empty: "conv_transpose") and names the kernel, the rule and the
// plan's values that break it.
Status fast_kernel_check(const std::string& op_name, FastKernel kernel, const ConvTransposePlan& plan);
// "igemm", "dot", "pixels", "columns" (or "auto"), and back: an unknown name is an
// error that starts with `op_name` (empty: "conv_transpose") and names the
// value and the choices.
const char* fast_kernel_name(FastKernel kernel);
Status fast_kernel_from_name(const std::string& op_name, const std::string& name, FastKernel* kernel);

// Filters packed for a fast kernel. Depends only on the filters, the
// stride and the dilation (not on input or output sizes), so a prepared
// operator keeps it across calls whose shapes differ.
class PackedFilters;
struct PackedFiltersDeleter {
  void operator()(PackedFilters* p) const;
};
using PackedFiltersPtr = std::unique_ptr<PackedFilters, PackedFiltersDeleter>;

// Bytes the fast kernel allocates for this plan besides the caller's tensors
// (packed filters, relaid or converted input, a float32 output for 16-bit
// types, per-thread indirection). Used by the planner's memory budget.
uint64_t fast_kernel_scratch_bytes(const ConvTransposePlan& plan);

// Packs `filters` (plan.dtype, shape kernel + [out_channels, in_channels])
// for `kernel`, on the pool's threads when one is given. Returns null (and
// sets *status) when memory runs out or a forced kernel cannot serve the plan.
PackedFiltersPtr pack_filters(const ConvTransposePlan& plan, const void* filters, Status* status,
                              FastKernel kernel = FastKernel::kAuto, ThreadPool* pool = nullptr);

// The kernel `packed` was packed for ("igemm", "dot", "pixels" or "columns").
const char* packed_kernel_name(const PackedFilters& packed);

// True when `packed` was made for a plan with these kernel, channel, stride,
// dilation and dtype values, so it can serve `plan`.
bool packed_filters_fit(const PackedFilters& packed, const ConvTransposePlan& plan);

Status conv_transpose_fast(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input,
                           void* output, ThreadPool* pool);

}  // namespace ctw
