// Embind glue: translates JS argument objects into the core's
// ConvTransposeArgs and raw heap addresses into pointers. No rule of the op
// lives here (see src/plan.cc); errors come back as strings for the JS
// wrapper to throw, because exceptions are off in this build.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "../src/conv_transpose.h"

namespace {

using emscripten::val;

std::vector<int64_t> int_list(const val& v) {
  std::vector<int64_t> out;
  if (v.isUndefined() || v.isNull()) return out;
  const unsigned n = v["length"].as<unsigned>();
  out.reserve(n);
  for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<int64_t>(v[i].as<double>()));
  return out;
}

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

ctw::ConvTransposeArgs core_args(const val& a) {
  ctw::ConvTransposeArgs args;
  args.name = a["name"].as<std::string>();
  args.input_shape = int_list(a["inputShape"]);
  args.filter_shape = int_list(a["filterShape"]);
  args.output_shape = int_list(a["outputShape"]);
  if (!a["strides"].isNull()) args.strides = int_list(a["strides"]);
  if (!a["dilations"].isNull()) args.dilations = int_list(a["dilations"]);
  args.padding = a["padding"].as<std::string>();
  args.padding_is_list = a["paddingIsList"].as<bool>();
  args.explicit_paddings = int_list(a["explicitPaddings"]);
  args.data_format = a["dataFormat"].as<std::string>();
  args.input_dtype = static_cast<ctw::DType>(a["inputDtype"].as<int>());
  args.filter_dtype = static_cast<ctw::DType>(a["filterDtype"].as<int>());
  args.memory_budget_bytes = memory_budget();
  return args;
}

// Filters planned and packed once, for many runs (createConvTranspose).
class PreparedFilters {
 public:
  explicit PreparedFilters(val a) {
    ctw::ConvTransposeArgs args = core_args(a);
    args.input_dtype = args.filter_dtype;
    status_ = ctw::plan_filters(args, &plan_);
  }
  std::string error() const { return status_.message(); }
  double filterElements() const { return static_cast<double>(plan_.filter_elements); }
  std::string pack(uintptr_t filters) {
    if (!status_.ok()) return status_.message();
    packed_ = ctw::pack_filters(plan_, reinterpret_cast<const void*>(filters), &status_);
    return status_.message();
  }
  const ctw::PackedFilters* packed() const { return packed_.get(); }

 private:
  ctw::ConvTransposePlan plan_;
  ctw::Status status_;
  ctw::PackedFiltersPtr packed_;
};

// One planned call: JS asks for the sizes, allocates, then runs.
class PlannedCall {
 public:
  explicit PlannedCall(val a) { status_ = ctw::plan_conv_transpose(core_args(a), &plan_); }

  std::string error() const { return status_.message(); }
  double inputElements() const { return static_cast<double>(plan_.input_elements); }
  double filterElements() const { return static_cast<double>(plan_.filter_elements); }
  double outputElements() const { return static_cast<double>(plan_.output_elements); }

  std::string run(uintptr_t input, uintptr_t filters, uintptr_t output) {
    if (!status_.ok()) return status_.message();
    const ctw::Status s = ctw::conv_transpose(plan_, reinterpret_cast<const void*>(input),
                                              reinterpret_cast<const void*>(filters),
                                              reinterpret_cast<void*>(output), pool().get());
    return s.message();
  }

  std::string runPrepared(const PreparedFilters& prepared, uintptr_t input, uintptr_t output) {
    if (!status_.ok()) return status_.message();
    if (!prepared.packed()) return "conv_transpose: the prepared filters were not packed";
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

}  // namespace

EMSCRIPTEN_BINDINGS(conv_transpose_wasm) {
  emscripten::class_<PlannedCall>("PlannedCall")
      .constructor<val>()
      .function("error", &PlannedCall::error)
      .function("inputElements", &PlannedCall::inputElements)
      .function("filterElements", &PlannedCall::filterElements)
      .function("outputElements", &PlannedCall::outputElements)
      .function("run", &PlannedCall::run)
      .function("runPrepared", &PlannedCall::runPrepared);
  emscripten::class_<PreparedFilters>("PreparedFilters")
      .constructor<val>()
      .function("error", &PreparedFilters::error)
      .function("filterElements", &PreparedFilters::filterElements)
      .function("pack", &PreparedFilters::pack);
  emscripten::function("setNumThreads", &set_num_threads);
  emscripten::function("numThreads", &num_threads);
}
