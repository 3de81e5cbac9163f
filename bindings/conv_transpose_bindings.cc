// Embind glue: translates JS argument objects into the core's
// ConvTransposeArgs and raw heap addresses into pointers. No rule of the op
// lives here (see src/plan.cc); errors come back as strings for the JS
// wrapper to throw, because exceptions are off in this build.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../src/conv_transpose.h"

namespace {

using emscripten::val;

// The numeric arguments arrive as one Float64Array (one bulk copy instead
// of a JS round trip per field), laid out by encodeArgs in js/src/args.ts:
//   [len, input_shape...] [len, filter_shape...] [len, output_shape...]
//   [len or -1, strides...] [len or -1, dilations...] [padding_is_list]
//   [len, explicit_paddings...] [input_dtype] [filter_dtype]
class NumberReader {
 public:
  explicit NumberReader(const val& numbers) : v_(emscripten::convertJSArrayToNumberVector<double>(numbers)) {}
  double next() { return i_ < v_.size() ? v_[i_++] : 0; }
  std::vector<int64_t> list() {
    const int64_t n = static_cast<int64_t>(next());
    std::vector<int64_t> out;
    for (int64_t k = 0; k < n; ++k) out.push_back(static_cast<int64_t>(next()));
    return out;
  }
  std::optional<std::vector<int64_t>> optional_list() {
    if (i_ < v_.size() && v_[i_] < 0) {
      ++i_;
      return std::nullopt;
    }
    return list();
  }

 private:
  std::vector<double> v_;
  size_t i_ = 0;
};

// Room left in wasm memory for one call, with a margin for the allocator and stack.
uint64_t memory_budget() {
  const uint64_t max = emscripten_get_heap_max();
  const uint64_t used = static_cast<uint64_t>(mallinfo().uordblks) + (16u << 20);
  return max > used ? max - used : 1;
}

std::unique_ptr<ctw::ThreadPool>& pool() {
  static std::unique_ptr<ctw::ThreadPool> instance;
  return instance;
}

// A JS function as the pool's side task for one call (none without a pool
// or when undefined); cleared on leaving the scope whether or not it ran.
class SideTask {
 public:
  explicit SideTask(const val& fn) : fn_(fn) {
    if (pool() && !fn_.isUndefined()) {
      pool()->set_side_task([](void* fn) { (*static_cast<val*>(fn))(); }, &fn_);
    }
  }
  ~SideTask() {
    if (pool()) pool()->clear_side_task();
  }
  SideTask(const SideTask&) = delete;
  SideTask& operator=(const SideTask&) = delete;

 private:
  val fn_;
};

ctw::ConvTransposeArgs core_args(const std::string& name, const std::string& padding, const std::string& data_format,
                                const val& numbers) {
  ctw::ConvTransposeArgs args;
  NumberReader r(numbers);
  args.name = name;
  args.padding = padding;
  args.data_format = data_format;
  args.input_shape = r.list();
  args.filter_shape = r.list();
  args.output_shape = r.list();
  args.strides = r.optional_list();
  args.dilations = r.optional_list();
  args.padding_is_list = r.next() != 0;
  args.explicit_paddings = r.list();
  args.input_dtype = static_cast<ctw::DType>(static_cast<int>(r.next()));
  args.filter_dtype = static_cast<ctw::DType>(static_cast<int>(r.next()));
  args.memory_budget_bytes = memory_budget();
  return args;
}

// Filters planned and packed once, for many runs (createConvTranspose).
// kernel: "auto" (the core's choice) or a fast kernel's name, forced.
class PreparedFilters {
 public:
  PreparedFilters(std::string name, std::string padding, std::string data_format, val numbers, std::string kernel) {
    ctw::ConvTransposeArgs args = core_args(name, padding, data_format, numbers);
    args.input_dtype = args.filter_dtype;
    status_ = ctw::plan_filters(args, &plan_);
    if (status_.ok()) status_ = ctw::fast_kernel_from_name(name, kernel, &kernel_);
    if (status_.ok()) status_ = ctw::fast_kernel_check(name, kernel_, plan_);
  }
  std::string error() const { return status_.message(); }
  double filterElements() const { return static_cast<double>(plan_.filter_elements); }
  std::string pack(uintptr_t filters) {
    if (!status_.ok()) return status_.message();
    packed_ = ctw::pack_filters(plan_, reinterpret_cast<const void*>(filters), &status_, kernel_, pool().get());
    return status_.message();
  }
  std::string kernel() const { return packed_ ? ctw::packed_kernel_name(*packed_) : ""; }
  const ctw::PackedFilters* packed() const { return packed_.get(); }

 private:
  ctw::ConvTransposePlan plan_;
  ctw::Status status_;
  ctw::FastKernel kernel_ = ctw::FastKernel::kAuto;
  ctw::PackedFiltersPtr packed_;
};

// One planned call: JS asks for the sizes, allocates, then runs.
class PlannedCall {
 public:
  PlannedCall(std::string name, std::string padding, std::string data_format, val numbers) {
    status_ = ctw::plan_conv_transpose(core_args(name, padding, data_format, numbers), &plan_);
  }

  std::string error() const { return status_.message(); }
  double inputElements() const { return static_cast<double>(plan_.input_elements); }
  double filterElements() const { return static_cast<double>(plan_.filter_elements); }
  double outputElements() const { return static_cast<double>(plan_.output_elements); }

  // side: a JS function (must not throw) run on this thread while the
  // workers start the call's first parallel loop, or undefined; it does not
  // run when the call has no such loop (see ThreadPool::set_side_task).
  std::string run(uintptr_t input, uintptr_t filters, uintptr_t output, val side) {
    if (!status_.ok()) return status_.message();
    SideTask task(side);
    const ctw::Status s = ctw::conv_transpose(plan_, reinterpret_cast<const void*>(input),
                                              reinterpret_cast<const void*>(filters),
                                              reinterpret_cast<void*>(output), pool().get());
    return s.message();
  }

  std::string runPrepared(const PreparedFilters& prepared, uintptr_t input, uintptr_t output, val side) {
    if (!status_.ok()) return status_.message();
    if (!prepared.packed()) return "conv_transpose: the prepared filters were not packed";
    SideTask task(side);
    const ctw::Status s = ctw::conv_transpose_fast(plan_, *prepared.packed(), reinterpret_cast<const void*>(input),
                                                   reinterpret_cast<void*>(output), pool().get());
    return s.message();
  }

 private:
  ctw::ConvTransposePlan plan_;
  ctw::Status status_;
};

void set_num_threads(int threads) {
  if (threads < 1) threads = 1;
  if (pool() && pool()->threads() == threads) return;
  pool().reset();
  if (threads > 1) pool().reset(new ctw::ThreadPool(threads));
}

int num_threads() { return pool() ? pool()->threads() : 1; }

// Bytes of wasm memory, and bytes the allocator has handed out and not had
// back: what leak checks and memory reports read.
val heap_stats() {
  val out = val::object();
  out.set("heapBytes", static_cast<double>(emscripten_get_heap_size()));
  out.set("usedBytes", static_cast<double>(mallinfo().uordblks));
  out.set("maxHeapBytes", static_cast<double>(emscripten_get_heap_max()));
  return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(conv_transpose_wasm) {
  emscripten::class_<PlannedCall>("PlannedCall")
      .constructor<std::string, std::string, std::string, val>()
      .function("error", &PlannedCall::error)
      .function("inputElements", &PlannedCall::inputElements)
      .function("filterElements", &PlannedCall::filterElements)
      .function("outputElements", &PlannedCall::outputElements)
      .function("run", &PlannedCall::run)
      .function("runPrepared", &PlannedCall::runPrepared);
  emscripten::class_<PreparedFilters>("PreparedFilters")
      .constructor<std::string, std::string, std::string, val, std::string>()
      .function("error", &PreparedFilters::error)
      .function("filterElements", &PreparedFilters::filterElements)
      .function("pack", &PreparedFilters::pack)
      .function("kernel", &PreparedFilters::kernel);
  emscripten::function("setNumThreads", &set_num_threads);
  emscripten::function("numThreads", &num_threads);
  emscripten::function("heapStats", &heap_stats);
}
