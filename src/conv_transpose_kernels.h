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
#include <vector>

#include "plan.h"
#include "status.h"
#include "thread_pool.h"

namespace ctw {

void conv_transpose_reference(const ConvTransposePlan& plan, const void* input, const void* filters,
                              void* output);

// Filters packed for the fast kernel. Depends only on the filters, the
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

// Packs `filters` (plan.dtype, shape kernel + [out_channels, in_channels]).
// Returns null (and sets *status) only when memory runs out.
PackedFiltersPtr pack_filters(const ConvTransposePlan& plan, const void* filters, Status* status);

// True when `packed` was made for a plan with these kernel, channel, stride,
// dilation and dtype values, so it can serve `plan`.
bool packed_filters_fit(const PackedFilters& packed, const ConvTransposePlan& plan);

// Which fast kernel serves this plan: "igemm" (output channels in vector
// lanes), "dot" (input channels in lanes) or "pixels" (output pixels in
// lanes). For tests and diagnostics.
const char* fast_kernel_name(const ConvTransposePlan& plan);

Status conv_transpose_fast(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input,
                           void* output, ThreadPool* pool);

}  // namespace ctw
