// Embind glue: translates JS values into the core's argument types
// (semantics/plan.h) and raw heap addresses into pointers, and the core's
// Status into a code and a message for the JS wrapper to throw (exceptions
// are off in this build). No rule of the op lives here.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/madd_choice.h"
#include "operator/conv_transpose_op.h"
#include "operator/kernel_choice.h"

namespace {

using emscripten::val;

// The numeric arguments arrive as one Float64Array (one bulk copy instead
// of a JS round trip per field), laid out by the encoders in js/src/args.ts:
// lists as [len, values...], optional lists as -1 when not given.
class NumberReader {
 public:
  explicit NumberReader(const val& numbers)
      : owned_(emscripten::convertJSArrayToNumberVector<double>(numbers)), v_(owned_.data()), size_(owned_.size()) {}
  // Numbers already in wasm memory (a prepared run's shapes): read in place.
  NumberReader(const double* numbers, size_t count) : v_(numbers), size_(count) {}
  NumberReader(const NumberReader&) = delete;
  NumberReader& operator=(const NumberReader&) = delete;
  double next() { return i_ < size_ ? v_[i_++] : 0; }
  std::vector<int64_t> list() {
    const int64_t n = static_cast<int64_t>(next());
    std::vector<int64_t> out;
    for (int64_t k = 0; k < n; ++k) out.push_back(static_cast<int64_t>(next()));
    return out;
  }
  std::optional<std::vector<int64_t>> optional_list() {
    if (i_ < size_ && v_[i_] < 0) {
      ++i_;
      return std::nullopt;
    }
    return list();
  }

 private:
  std::vector<double> owned_;
  const double* v_;
  size_t size_;
  size_t i_ = 0;
};

// Room left in wasm memory for one call, less a margin for the allocator's
// own overhead: 16 MiB, or half the room when less than 32 MiB is left, so
// that small calls still run in a nearly full memory (an allocation that
// fails after all is reported as out of memory, not a crash).
uint64_t memory_budget() {
  const uint64_t max = emscripten_get_heap_max();
  const uint64_t used = static_cast<uint64_t>(mallinfo().uordblks);
  if (max <= used) return 1;
  const uint64_t room = max - used;
  const uint64_t margin = room < (32u << 20) ? room / 2 : (16u << 20);
  return room - margin > 0 ? room - margin : 1;
}

std::unique_ptr<ctw::ThreadPool>& pool() {
  static std::unique_ptr<ctw::ThreadPool> instance;
  return instance;
}

int num_threads() { return pool() ? pool()->threads() : 1; }

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

// The window options: [strides?] [dilations?] [padding_is_list] [explicit_paddings].
void read_window(NumberReader& r, const std::string& name, const std::string& padding, const std::string& data_format,
                 ctw::WindowArgs* args) {
  args->name = name;
  args->padding = padding;
  args->data_format = data_format;
  args->strides = r.optional_list();
  args->dilations = r.optional_list();
  args->padding_is_list = r.next() != 0;
  args->explicit_paddings = r.list();
}

ctw::DType read_dtype(NumberReader& r) { return static_cast<ctw::DType>(static_cast<int>(r.next())); }

// The options beyond TensorFlow's: [groups] [alpha] [lo] [hi] [has_bias] [bias_length];
// the activation arrives by name.
ctw::Status read_layer(NumberReader& r, const std::string& name, const std::string& activation,
                       ctw::WindowArgs* args) {
  args->groups = static_cast<int64_t>(r.next());
  ctw::EpilogueArgs& e = args->epilogue;
  e.alpha = r.next();
  e.lo = r.next();
  e.hi = r.next();
  e.bias = r.next() != 0;
  args->bias_length = static_cast<int64_t>(r.next());
  return ctw::activation_arg(name, activation, &e.activation);
}

// A Status as the JS wrapper reads it: code() (0 ok, see semantics/status.h) and message().
class StatusHolder {
 public:
  int code() const { return static_cast<int>(status_.code()); }
  std::string message() const { return status_.message(); }

 protected:
  int set(ctw::Status s) {
    status_ = std::move(s);
    return code();
  }
  ctw::Status status_;
};

// A prepared operator (createConvTranspose): created and packed once,
// reshaped when a run's shapes differ from the last run's, run many times.
class PreparedOp : public StatusHolder {
 public:
  // numbers: [filter_shape] window [dtype] layer options; kernel: "auto" or
  // a fast kernel's name, forced; activation: its name.
  PreparedOp(std::string name, std::string padding, std::string data_format, val numbers, std::string kernel,
             std::string activation) {
    NumberReader r(numbers);
    ctw::FilterArgs args;
    args.filter_shape = r.list();
    read_window(r, name, padding, data_format, &args);
    args.dtype = read_dtype(r);
    if (set(read_layer(r, name, activation, &args)) != 0) return;
    ctw::KernelKind kind = ctw::KernelKind::kAuto;
    if (set(ctw::kernel_from_name(name, kernel, &kind)) == 0) set(ctw::ConvTransposeOp::create(args, kind, &op_));
  }
  double filterElements() const { return op_ ? static_cast<double>(op_->filter_elements()) : 0; }
  std::string kernel() const { return op_ ? ctw::kernel_name(op_->kernel()) : ""; }
  // bias: the epilogue's values as doubles, or 0 without a bias.
  int pack(uintptr_t filters, uintptr_t bias) {
    if (!op_) return code();
    const HeldBytes held(&bytes_held_);
    return set(op_->pack(reinterpret_cast<const void*>(filters), reinterpret_cast<const double*>(bias), pool().get()));
  }
  // Bytes of wasm memory this operator holds between runs (packed filters,
  // the scratch of its last shapes), for the out-of-memory message that
  // names what holds memory.
  double bytesHeld() const { return static_cast<double>(bytes_held_ > 0 ? bytes_held_ : 0); }

  // Where JS writes a run's shapes for reshape() (in wasm memory: no JS
  // array crosses per run): [input_shape] [output_shape] [input_dtype].
  uintptr_t shapeNumbers() { return reinterpret_cast<uintptr_t>(shape_numbers_); }
  static constexpr int kShapeNumbers = 2 * (1 + 5) + 1;

  int reshape() {
    NumberReader r(shape_numbers_, kShapeNumbers);
    return reshape_from(r);
  }
  // The same numbers as a JS array, for shapes of any rank.
  int reshapeFrom(val numbers) {
    NumberReader r(numbers);
    return reshape_from(r);
  }

 private:
  int reshape_from(NumberReader& r) {
    if (!op_) return code();
    std::vector<int64_t> input_shape = r.list(), output_shape = r.list();
    const ctw::DType dtype = read_dtype(r);
    // The budget (a walk of the allocator's state) only when the op plans anew.
    if (op_->reshaped_for(input_shape, output_shape, dtype, num_threads())) return set(ctw::Status::Ok());
    const HeldBytes held(&bytes_held_);
    return set(op_->reshape(input_shape, output_shape, dtype, memory_budget(), num_threads()));
  }

 public:
  double inputElements() const { return op_ ? static_cast<double>(op_->plan().input_elements) : 0; }
  double outputElements() const { return op_ ? static_cast<double>(op_->plan().output_elements) : 0; }

  // side: a JS function (must not throw) run on this thread while the
  // workers start the call's first parallel loop, or undefined; it does not
  // run when the call has no such loop (see ThreadPool::set_side_task).
  int run(uintptr_t input, uintptr_t output, val side) {
    if (!op_) return code();
    SideTask task(side);
    return set(op_->run(reinterpret_cast<const void*>(input), reinterpret_cast<void*>(output), pool().get()));
  }

 private:
  // Adds what the allocator handed out (less what it had back) between its
  // construction and destruction to *held: the steps that allocate or free
  // an operator's memory run on this thread, their workers allocate nothing.
  class HeldBytes {
   public:
    explicit HeldBytes(int64_t* held) : held_(held), before_(mallinfo().uordblks) {}
    ~HeldBytes() { *held_ += static_cast<int64_t>(mallinfo().uordblks) - before_; }
    HeldBytes(const HeldBytes&) = delete;
    HeldBytes& operator=(const HeldBytes&) = delete;

   private:
    int64_t* held_;
    int64_t before_;
  };

  std::unique_ptr<ctw::ConvTransposeOp> op_;
  int64_t bytes_held_ = 0;
  double shape_numbers_[kShapeNumbers] = {};
};

// One call of the one-call form: planned (sizes and any error, before JS
// allocates), then run once.
class PlannedCall : public StatusHolder {
 public:
  // numbers: [input_shape] [filter_shape] [output_shape] window [input_dtype] [filter_dtype].
  PlannedCall(std::string name, std::string padding, std::string data_format, val numbers) : name_(name) {
    NumberReader r(numbers);
    ctw::ConvTransposeArgs args;
    args.input_shape = r.list();
    args.filter_shape = r.list();
    args.output_shape = r.list();
    read_window(r, name, padding, data_format, &args);
    args.input_dtype = read_dtype(r);
    args.filter_dtype = read_dtype(r);
    if (set(ctw::plan_conv_transpose(args, &plan_)) == 0) {
      set(ctw::check_memory_budget(args, ctw::one_call_bytes(plan_, num_threads()), memory_budget()));
    }
  }
  double inputElements() const { return static_cast<double>(plan_.input_elements); }
  double filterElements() const { return static_cast<double>(plan_.filter_elements); }
  double outputElements() const { return static_cast<double>(plan_.output_elements); }

  // side: as PreparedOp::run's.
  int run(uintptr_t input, uintptr_t filters, uintptr_t output, val side) {
    SideTask task(side);
    return set(ctw::conv_transpose(name_, plan_, reinterpret_cast<const void*>(input),
                                   reinterpret_cast<const void*>(filters), reinterpret_cast<void*>(output),
                                   pool().get()));
  }

 private:
  std::string name_;
  ctw::ConvTransposePlan plan_;
};

void set_num_threads(int threads) {
  if (threads < 1) threads = 1;
  if (pool() && pool()->threads() == threads) return;
  pool().reset();
  if (threads > 1) pool().reset(new ctw::ThreadPool(threads));
}


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
  emscripten::class_<StatusHolder>("CoreStatus")
      .function("code", &StatusHolder::code)
      .function("message", &StatusHolder::message);
  emscripten::class_<PlannedCall, emscripten::base<StatusHolder>>("PlannedCall")
      .constructor<std::string, std::string, std::string, val>()
      .function("inputElements", &PlannedCall::inputElements)
      .function("filterElements", &PlannedCall::filterElements)
      .function("outputElements", &PlannedCall::outputElements)
      .function("run", &PlannedCall::run);
  emscripten::class_<PreparedOp, emscripten::base<StatusHolder>>("PreparedOp")
      .constructor<std::string, std::string, std::string, val, std::string, std::string>()
      .function("filterElements", &PreparedOp::filterElements)
      .function("kernel", &PreparedOp::kernel)
      .function("pack", &PreparedOp::pack)
      .function("shapeNumbers", &PreparedOp::shapeNumbers)
      .function("reshape", &PreparedOp::reshape)
      .function("reshapeFrom", &PreparedOp::reshapeFrom)
      .function("inputElements", &PreparedOp::inputElements)
      .function("outputElements", &PreparedOp::outputElements)
      .function("bytesHeld", &PreparedOp::bytesHeld)
      .function("run", &PreparedOp::run);
  emscripten::function("setNumThreads", &set_num_threads);
  emscripten::function("igemmFusedMadd", &ctw::igemm_fused_madd);
  emscripten::function("setIgemmFusedMadd", &ctw::set_igemm_fused_madd);
  emscripten::function("numThreads", &num_threads);
  emscripten::function("heapStats", &heap_stats);
}
