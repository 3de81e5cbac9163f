// The transposed-convolution operator: the core's entry point for bindings
// and native callers, with XNNPACK's life.
//
//   create   the filter-only arguments checked (semantics/plan.h), the
//            kernel chosen (kernel_choice.h) or a forced one checked;
//   pack     the filters packed once into that kernel's layout;
//   reshape  input and output shapes -> the call's plan (TensorFlow's
//            rules), the kernel's phases, work split and scratch, and the
//            memory budget; kept, and a no-op, while the shapes repeat;
//   run      pointers bound, the work walked on the pool: no validation,
//            no planning, no plan tables allocated (a kernel that needs its
//            input in another layout copies it).
//
// The one-call form, conv_transpose(), is the same create + pack + reshape
// + run over a plan the caller has made, and destroys the operator after.
// Every message starts with the op's name; the Status code says whether the
// arguments broke a rule or memory ran out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "runtime/thread_pool.h"
#include "semantics/plan.h"
#include "semantics/status.h"

namespace ctw {

class ConvTransposeOp {
 public:
  // Checks the filter-only arguments and `kernel` (kAuto: chosen here) for
  // an operator whose filters pack() then takes.
  static Status create(const FilterArgs& args, KernelKind kernel, std::unique_ptr<ConvTransposeOp>* op);

  // The filters (filter_elements() of the dtype, shape filter size +
  // [out_channels / groups, in_channels]) packed for the kernel, on the
  // pool's threads when one is given, and the epilogue's bias (one value per
  // output channel; read only when the arguments have a bias). Once, before
  // the first reshape.
  Status pack(const void* filters, const double* bias, ThreadPool* pool);

  // Plans a call with these shapes (data_format order) and prepares the
  // kernel for it, for runs on up to `threads` threads. memory_budget_bytes:
  // the most the call may hold at once (input, output and scratch; 0: no
  // limit). Redone only when a shape, the dtype or the thread count changes.
  Status reshape(const std::vector<int64_t>& input_shape, const std::vector<int64_t>& output_shape,
                 DType input_dtype, uint64_t memory_budget_bytes, int threads);

  // Whether the last reshape was for these shapes, dtype and up to `threads`
  // threads (then reshape is a no-op).
  bool reshaped_for(const std::vector<int64_t>& input_shape, const std::vector<int64_t>& output_shape,
                    DType input_dtype, int threads) const {
    return reshaped_ && input_shape == input_shape_ && output_shape == output_shape_ && input_dtype == input_dtype_ &&
           threads <= scratch_threads_;
  }

  // Computes the reshaped call: input and output in the plan's dtype and layout.
  Status run(const void* input, void* output, ThreadPool* pool);

  const std::string& name() const { return name_; }
  KernelKind kernel() const { return kind_; }
  int64_t filter_elements() const { return filter_plan_.filter_elements; }
  // The plan of the last successful reshape.
  const ConvTransposePlan& plan() const { return kernel_plan_.plan; }

 private:
  friend Status conv_transpose(const std::string&, const ConvTransposePlan&, const void*, const void*, void*,
                               ThreadPool*, const double*);
  ConvTransposeOp() = default;
  // Sets the name, the filter half of the plan and the kernel (kAuto: chosen).
  Status init(const std::string& name, const ConvTransposePlan& filter_plan, KernelKind kernel);
  // args: the call's arguments, for a budget error (null when there is no budget).
  Status reshape_plan(const ConvTransposePlan& plan, const ConvTransposeArgs* args, uint64_t memory_budget_bytes,
                      int threads);
  Status allocate_scratch(int threads);

  std::string name_;               // as given (empty: "conv_transpose")
  FilterArgs filter_args_;         // for plans of later shapes
  ConvTransposePlan filter_plan_;  // the filter half (plan_filters)
  KernelKind kind_ = KernelKind::kIgemm;
  std::unique_ptr<PackedFilters> packed_;

  // What reshape prepared, and for which shapes.
  bool reshaped_ = false;
  std::vector<int64_t> input_shape_, output_shape_;
  DType input_dtype_ = DType::kFloat32;
  KernelPlan kernel_plan_;
  ScratchSizes scratch_sizes_;
  KernelScratch scratch_;
  int scratch_threads_ = 0;  // the threads scratch_ has slices for
};

// What a call holds in memory at once.
struct CallBytes {
  uint64_t tensors = 0;  // the caller's tensors in wasm memory
  uint64_t scratch = 0;  // the core's: packed filters (one-call form), kernel scratch, input copies
  uint64_t total() const { return tensors + scratch; }
};

// A one-call conv_transpose of `plan`: input, filters and output, and the
// packed filters plus the auto kernel's scratch for `threads` threads.
CallBytes one_call_bytes(const ConvTransposePlan& plan, int threads);

// Ok when `bytes` fit `memory_budget_bytes` (0: no limit), else an
// out-of-memory error that starts with the call's name and gives its shapes
// and sizes.
Status check_memory_budget(const ConvTransposeArgs& args, const CallBytes& bytes, uint64_t memory_budget_bytes);

// The one-call form for a plan made by plan_conv_transpose: create, pack,
// reshape and run an operator with the kernel the plan gets, on `pool`
// (null: the calling thread only). bias: the plan's epilogue's, if it has one.
Status conv_transpose(const std::string& name, const ConvTransposePlan& plan, const void* input,
                      const void* filters, void* output, ThreadPool* pool, const double* bias = nullptr);

}  // namespace ctw
