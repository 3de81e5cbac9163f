// The core's entry points: what a binding (Embind, or a native caller)
// calls. A call is plan -> pack filters -> run; the pieces are exposed so a
// prepared operator can plan and pack once and run many times, as XNNPACK's
// create / reshape / run do.
#pragma once

#include "conv_transpose_kernels.h"
#include "plan.h"
#include "status.h"
#include "thread_pool.h"

namespace ctw {

// The one-call form for a plan made by plan_conv_transpose: packs `filters`
// and runs the fast kernel on `pool` (null: the calling thread only).
Status conv_transpose(const ConvTransposePlan& plan, const void* input, const void* filters, void* output,
                      ThreadPool* pool);

}  // namespace ctw
