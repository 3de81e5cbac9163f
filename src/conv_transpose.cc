#include "conv_transpose.h"

namespace ctw {

Status conv_transpose(const ConvTransposePlan& plan, const void* input, const void* filters, void* output,
                      ThreadPool* pool) {
  Status status;
  PackedFiltersPtr packed = pack_filters(plan, filters, &status, FastKernel::kAuto, pool);
  if (!packed) return status;
  return conv_transpose_fast(plan, *packed, input, output, pool);
}

}  // namespace ctw
