#include "operator/conv_transpose_op.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <sstream>
#include <utility>

#include "kernels/phases.h"
#include "operator/kernel_choice.h"

namespace ctw {
namespace {

uint64_t saturated(long double bytes) { return bytes > 1.8e19L ? UINT64_MAX / 4 : static_cast<uint64_t>(bytes); }

// A run's input and output, and the kernel's scratch on `threads` threads.
CallBytes run_bytes(const ConvTransposePlan& plan, const ScratchSizes& scratch, int threads) {
  CallBytes b;
  b.tensors = saturated(static_cast<long double>(dtype_size(plan.dtype)) *
                        (static_cast<long double>(plan.input_elements) + plan.output_elements));
  b.scratch = saturated(static_cast<long double>(scratch.per_thread) * threads + scratch.shared + scratch.per_run);
  return b;
}

// Whether a plan needs a kernel at all: no output, or no input channels
// (every output element an empty sum, zero), needs none.
bool computes(const ConvTransposePlan& plan) { return plan.output_elements > 0 && plan.input_channels > 0; }

}  // namespace

Status ConvTransposeOp::init(const std::string& name, const ConvTransposePlan& filter_plan, KernelKind kernel) {
  const Status s = check_kernel(name, kernel, filter_plan);
  if (!s.ok()) return s;
  name_ = name;
  filter_plan_ = filter_plan;
  kind_ = kernel == KernelKind::kAuto ? choose_kernel(filter_plan) : kernel;
  return Status::Ok();
}

Status ConvTransposeOp::create(const FilterArgs& args, KernelKind kernel, std::unique_ptr<ConvTransposeOp>* op) {
  ConvTransposePlan filter_plan;
  Status s = plan_filters(args, &filter_plan);
  if (!s.ok()) return s;
  std::unique_ptr<ConvTransposeOp> created(new (std::nothrow) ConvTransposeOp);
  if (!created) return Status::OutOfMemory(op_name_or_default(args.name) + ": out of memory creating the operator");
  s = created->init(args.name, filter_plan, kernel);
  if (!s.ok()) return s;
  created->filter_args_ = args;
  *op = std::move(created);
  return Status::Ok();
}

Status ConvTransposeOp::pack(const void* filters, const double* bias, ThreadPool* pool) {
  const std::string name = op_name_or_default(name_);
  if (packed_) return Status::Internal(name + ": the operator's filters were packed already");
  std::unique_ptr<PackedFilters> packed(new (std::nothrow) PackedFilters);
  if (!packed) return Status::OutOfMemory(name + ": out of memory packing filters");
  if (filter_plan_.epilogue.bias) {
    const int64_t cout = filter_plan_.output_channels;
    // A bias of no values (no output channels) may come as no pointer.
    if (!bias && cout > 0) return Status::Internal(name + ": the arguments have a bias but pack() was given none");
    packed->bias = std::malloc(static_cast<size_t>(std::max<int64_t>(cout, 1)) * compute_bytes(filter_plan_.dtype));
    if (!packed->bias) return Status::OutOfMemory(name + ": out of memory for the bias");
    with_compute_type(filter_plan_.dtype, [&](auto c) {
      using T = decltype(c);
      for (int64_t i = 0; i < cout; ++i) static_cast<T*>(packed->bias)[i] = static_cast<T>(bias[i]);
    });
  }
  group_taps(filter_plan_, packed.get());
  if (filters_outlive_ && reads_filters_in_place(kind_, filter_plan_)) {
    packed->data = const_cast<void*>(filters);
    packed->owns_data = false;
  } else if (!packed->groups.empty()) {
    const int64_t elements =
        with_kernel(kind_, [&](auto k) { return decltype(k)::packed_elements(filter_plan_); });
    if (!allocate_packed_data(filter_plan_, elements, packed.get())) {
      return Status::OutOfMemory(name + ": out of memory packing filters");
    }
    with_kernel(kind_, [&](auto k) { decltype(k)::pack(filter_plan_, filters, packed.get(), pool); });
  }
  packed_ = std::move(packed);
  return Status::Ok();
}

Status ConvTransposeOp::reshape(const std::vector<int64_t>& input_shape, const std::vector<int64_t>& output_shape,
                                DType input_dtype, uint64_t memory_budget_bytes, int threads) {
  if (reshaped_for(input_shape, output_shape, input_dtype, threads)) return Status::Ok();
  reshaped_ = false;  // a failed reshape leaves nothing to run
  ConvTransposePlan plan;
  const ConvTransposeArgs args = call_args(filter_args_, input_shape, output_shape, input_dtype);
  Status s = plan_conv_transpose(args, &plan);
  if (!s.ok()) return s;
  s = reshape_plan(plan, &args, memory_budget_bytes, threads);
  if (!s.ok()) return s;
  input_shape_ = input_shape;
  output_shape_ = output_shape;
  input_dtype_ = input_dtype;
  return Status::Ok();
}

Status ConvTransposeOp::reshape_plan(const ConvTransposePlan& plan, const ConvTransposeArgs* args,
                                     uint64_t memory_budget_bytes, int threads) {
  const std::string name = op_name_or_default(name_);
  reshaped_ = false;
  if (!packed_) return Status::Internal(name + ": reshape before the filters were packed");
  const PackedFilters& pk = *packed_;
  if (pk.dtype != plan.dtype || pk.filter_size != plan.filter_size || pk.stride != plan.stride ||
      pk.dilation != plan.dilation || pk.input_channels != plan.input_channels ||
      pk.output_channels != plan.output_channels) {
    return Status::Internal(name + ": a plan for other filters, strides or dilations than the operator's");
  }
  kernel_plan_ = KernelPlan();
  kernel_plan_.plan = plan;
  kernel_plan_.packed = &pk;
  scratch_sizes_ = ScratchSizes();
  if (computes(plan)) {
    scratch_sizes_ = with_kernel(
        kind_, [&](auto k) { return decltype(k)::reshape(plan, pk.max_taps, &kernel_plan_); });
  }
  Status s;
  if (args && memory_budget_bytes != 0) {
    s = check_memory_budget(*args, run_bytes(plan, scratch_sizes_, threads), memory_budget_bytes);
    if (!s.ok()) return s;
  }
  s = allocate_scratch(threads);
  if (!s.ok()) return s;
  reshaped_ = true;
  return Status::Ok();
}

Status ConvTransposeOp::allocate_scratch(int threads) {
  std::free(scratch_.shared);
  scratch_.shared = nullptr;
  scratch_.threads.release();
  scratch_threads_ = 0;
  if (computes(kernel_plan_.plan)) {
    scratch_.shared = std::calloc(std::max<size_t>(scratch_sizes_.shared, 1), 1);
    if (!scratch_.shared || !scratch_.threads.allocate(scratch_sizes_.per_thread, threads)) {
      return Status::OutOfMemory(op_name_or_default(name_) + ": out of memory for the " + kernel_name(kind_) +
                                 " kernel's scratch");
    }
  }
  scratch_threads_ = threads;
  return Status::Ok();
}

Status ConvTransposeOp::run(const void* input, void* output, ThreadPool* pool) {
  if (!reshaped_) return Status::Internal(op_name_or_default(name_) + ": run before a successful reshape");
  const ConvTransposePlan& p = kernel_plan_.plan;
  if (p.output_elements == 0) return Status::Ok();
  if (p.input_channels == 0) {  // every output element is an empty sum
    zero_output(p, output, packed_->bias);
    return Status::Ok();
  }
  if (plan_macs(p) < kMinMacsForThreads) pool = nullptr;
  // The pool grew since reshape (its thread count is the caller's to change).
  if (thread_count(pool) > scratch_threads_) {
    const Status s = allocate_scratch(thread_count(pool));
    if (!s.ok()) {
      reshaped_ = false;
      return s;
    }
  }
  const bool ran = with_kernel(
      kind_, [&](auto k) { return decltype(k)::run(kernel_plan_, scratch_, input, output, pool); });
  if (!ran) {
    return Status::OutOfMemory(op_name_or_default(name_) + ": out of memory copying the input into the " +
                               kernel_name(kind_) + " kernel's layout");
  }
  return Status::Ok();
}

CallBytes one_call_bytes(const ConvTransposePlan& plan, int threads) {
  const KernelKind kind = choose_one_call_kernel(plan);
  ScratchSizes scratch;
  int64_t packed = 0;
  if (computes(plan)) {
    // Before packing, a phase's taps are at most all of the filters' taps.
    const int max_taps = static_cast<int>(std::min<int64_t>(plan.filter_spatial(), 1 << 30));
    scratch = with_kernel(kind, [&](auto k) { return decltype(k)::reshape(plan, max_taps, nullptr); });
    if (!reads_filters_in_place(kind, plan)) {
      packed = with_kernel(kind, [&](auto k) { return decltype(k)::packed_elements(plan); });
    }
  }
  CallBytes b = run_bytes(plan, scratch, threads);
  b.tensors = saturated(b.tensors + static_cast<long double>(plan.filter_elements) * dtype_size(plan.dtype));
  b.scratch = saturated(b.scratch + static_cast<long double>(packed) * compute_bytes(plan.dtype));
  return b;
}

Status check_memory_budget(const ConvTransposeArgs& args, const CallBytes& bytes, uint64_t memory_budget_bytes) {
  if (memory_budget_bytes == 0 || bytes.total() <= memory_budget_bytes) return Status::Ok();
  std::ostringstream m;
  m.precision(4);
  m << op_name_or_default(args.name) << ": this call needs " << static_cast<double>(bytes.total()) / (1 << 20)
    << " MiB (input " << list_string(args.input_shape) << ", filters " << list_string(args.filter_shape)
    << ", output " << list_string(args.output_shape) << " as " << dtype_name(args.input_dtype) << ", plus "
    << static_cast<double>(bytes.scratch) / (1 << 20) << " MiB of scratch), more than the "
    << static_cast<double>(memory_budget_bytes) / (1 << 20) << " MiB that WebAssembly memory can hold";
  return Status::OutOfMemory(m.str());
}

Status conv_transpose(const std::string& name, const ConvTransposePlan& plan, const void* input,
                      const void* filters, void* output, ThreadPool* pool, const double* bias) {
  // The operator lives on the stack for the one call.
  ConvTransposeOp op;
  op.filters_outlive_ = true;
  Status s = op.init(name, plan, choose_one_call_kernel(plan));
  if (s.ok()) s = op.pack(filters, bias, pool);
  if (s.ok()) s = op.reshape_plan(plan, nullptr, 0, thread_count(pool));
  if (s.ok()) s = op.run(input, output, pool);
  return s;
}

}  // namespace ctw
