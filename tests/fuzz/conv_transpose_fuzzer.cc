// libFuzzer target for the core: the planner on arbitrary arguments, and the
// fast kernel against the reference kernel on every small call it accepts.
//
// Build and run: scripts/fuzz.sh [seconds] (clang++ -fsanitize=fuzzer,address,undefined).
// Seed inputs: tests/fuzz/corpus/, written by tests/fuzz/make_corpus.py, which
// mirrors the byte layout decoded below; keep the two in step.
//
// What one input does:
//   1. Decodes a ConvTransposeArgs. Two layouts, chosen by the first byte:
//      - structured (first byte < 0x80): a call that is legal by construction
//        (N = 1..3, either layout, SAME / VALID / explicit padding, every
//        int / N / N+2 form of strides and dilations, any dtype, an output
//        size picked from the legal range), then optionally one field
//        replaced by a hostile value (negative, 0, 2^31, 2^32, 2^53, 2^63-1,
//        a dim added or dropped, another dtype, padding string or format);
//      - raw (first byte >= 0x80): ranks 0-6 for input, filters and output,
//        dims from small, negative and huge values, strides and dilations
//        absent or lists of length 0-6 with any values, padding strings
//        (SAME, VALID, same, EXPLICIT, ...) or explicit lists of any length,
//        any data_format string, any pair of dtypes, any memory budget.
//      Then, in both layouts, the layer options (bytes after the seed, so
//      that an input without them is a plain TensorFlow call): an activation
//      with its parameters (alpha, clamp bounds; NaN / Inf among them), a
//      bias, and channel groups: structured inputs draw a divisor of both
//      channel counts (and pass the filters' grouped shape); raw ones any
//      value, and a bias of the right or of a hostile length.
//   2. plan_conv_transpose must return (UBSan and ASan watch for overflow and
//      bad reads on the way). On error, the message must start with the op's
//      name and ": ". On success: element counts must equal the shapes'
//      products and stay below 2^53, and plan_filters on the same arguments
//      must succeed and agree on the filter half of the plan.
//   3. When the plan is OK and small (input + filters + output <= 20k
//      elements, <= 2M multiply-adds, <= 2M (input pixel, tap) pairs, the
//      planner's scratch estimate <= 64 MiB; strides may be anything), fills
//      the tensors with
//      seeded random values (sometimes with NaN / +Inf / -Inf planted in the
//      input or the filters) and runs
//        a) ctw::conv_transpose with a ThreadPool of 2,
//        b) ctw::conv_transpose with no pool,
//        c) the operator (create, pack, reshape, run; pool of 2), and each
//           other kernel that serves the plan, forced,
//      and ctw::conv_transpose_reference, with the bias (values the dtype
//      holds) and the epilogue. a, b and c must be bit-identical (NaN ==
//      NaN): one work item computes each output in a fixed order. Each must
//      match the reference:
//        - reference NaN: got NaN; reference +-Inf: got the same Inf
//          (TensorFlow's propagation: a NaN term, +Inf with -Inf, or Inf * 0
//          make NaN; only +Inf terms with finite others make +Inf);
//        - reference finite: got finite and
//            |got - ref| <= gamma(n + 4) * S + u * |ref| + (n + 1) * tiny
//                           (+ one 16-bit ulp at max(|got|, |ref|) for float16
//                            and bfloat16)
//          with S = sum |x * w| over the output's terms (the reference kernel
//          run in float64 on |x| and |w|), n = kernel taps * input channels
//          (a bound on the terms per output), gamma(m) = m u / (1 - m u),
//          u = 2^-24 for float32 / float16 / bfloat16 (float32 accumulation)
//          and 2^-53 (twice, both sides accumulate) for float64; tiny is the
//          smallest subnormal of the accumulation type (underflow of products).
//          With an epilogue, S comes from an identity-epilogue run, and the
//          sum's bound B (the first and last terms above) is carried through
//          the activation as tests/cpp/kernels/problem.h does:
//            L * (B + u' (|sum| + |bias|)) + 9 u' |ref| (+ the 16-bit ulp)
//          with sum = the double reference's sum plus the bias, L the
//          activation's Lipschitz constant, u' = 2^-24 (2^-52 for float64)
//          for the bias addition and the activation's evaluation.
//      A violation prints the arguments and the element, then aborts, so
//      libFuzzer keeps the input as a crash.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../cpp/kernels/epilogue_bound.h"  // the bound shared with the kernel tests
#include "kernels/reference.h"
#include "operator/conv_transpose_op.h"
#include "operator/kernel_choice.h"
#include "runtime/thread_pool.h"
#include "semantics/dtype.h"
#include "semantics/plan.h"

namespace {

using ctw::ConvTransposeArgs;
using ctw::ConvTransposePlan;
using ctw::DType;
using V = std::vector<int64_t>;

// Limits for running the kernels on an accepted plan.
constexpr long double kMaxElements = 20000;    // input + filters + output
constexpr long double kMaxMacs = 2e6;          // batch * input pixels * taps * cin * cout
constexpr long double kMaxPixelTaps = 2e6;     // batch * input pixels * taps (the reference's loop with cin = 0)
constexpr long double kMaxOutputPixels = 2e6;  // batch * output pixels
// The planner's own estimate of the kernel's scratch: calls over it are not
// run (the narrow kernel's padded rows grow with the dilated kernel's extent,
// e.g. ~2^31 * 8 bytes for dilation 2^31 on a 3-pixel input). An allocation
// beyond the estimate still shows: -malloc_limit_mb in scripts/fuzz.sh.
constexpr uint64_t kMaxScratchBytes = uint64_t{64} << 20;

// ---------------------------------------------------------------------------
// Input decoding: bytes front to back; past the end every read gives 0.
// ---------------------------------------------------------------------------

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{u8()} << (8 * i);
    return v;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
// Values that break careless size arithmetic. make_corpus.py has a copy.
const int64_t kHostile[] = {
    kMin,          kMax,          -1,
    -2,            0,             int64_t{1} << 31,
    (int64_t{1} << 31) - 1,       int64_t{1} << 32,
    (int64_t{1} << 32) + 1,       (int64_t{1} << 53) - 1,
    int64_t{1} << 53,             (int64_t{1} << 53) + 1,
    int64_t{1} << 62,             3037000499,   // floor(sqrt(2^63))
    3037000500,    46341,         65536,
    int64_t{1} << 20,             int64_t{1} << 40,
    -(int64_t{1} << 31),          kMax / 2,     kMax - 1,
    100000,        16777217,      kMin + 1};
constexpr size_t kHostileCount = sizeof(kHostile) / sizeof(kHostile[0]);

// One byte: < 200 gives a small int in [-1, 7]; else a hostile value.
int64_t any_int(Reader& r) {
  const uint8_t tag = r.u8();
  if (tag < 200) return static_cast<int64_t>(tag % 9) - 1;
  return kHostile[(tag - 200) % kHostileCount];
}

const char* const kPaddingStrings[] = {"SAME", "VALID", "same", "EXPLICIT", "", "Same", "valid", "SAME "};
const char* const kDataFormats[] = {"",      "NWC",   "NCW",         "NHWC", "NCHW",  "NDHWC",
                                    "NCDHW", "nhwc",  "NCHW_VECT_C", "HWNC", "NWHC", "NCDWH"};
const char* const kNames[] = {"", "conv2d_transpose", "layer/x"};

const char* channels_last_format(int n) { return n == 1 ? "NWC" : n == 2 ? "NHWC" : "NDHWC"; }
const char* channels_first_format(int n) { return n == 1 ? "NCW" : n == 2 ? "NCHW" : "NCDHW"; }

struct Decoded {
  ConvTransposeArgs args;
  uint64_t memory_budget_bytes = 0;  // for the operator's budget check; 0: none
  bool plant_nonfinite = false;
  uint64_t seed = 0;
};

// Activation parameters: alpha and the clamp bounds, valid and not.
const double kParams[] = {0.01, 0.2, 1.0, 1.7, -0.5, 3.0, 0.0, -1.0, 0.25, 6.0, -INFINITY, INFINITY, NAN};
constexpr size_t kParamCount = sizeof(kParams) / sizeof(kParams[0]);
const ctw::Activation kActivations[] = {
    ctw::Activation::kLinear, ctw::Activation::kRelu,    ctw::Activation::kClamp, ctw::Activation::kLeakyRelu,
    ctw::Activation::kElu,    ctw::Activation::kSigmoid, ctw::Activation::kTanh,  ctw::Activation::kGelu,
    ctw::Activation::kSilu};

// The epilogue: a byte (bits 0-3 the activation mod 9, bit 4 a bias), then
// alpha, the clamp's lower and upper bound.
void decode_epilogue(Reader& r, ctw::EpilogueArgs* e) {
  const uint8_t layer = r.u8();
  e->activation = kActivations[(layer & 15) % 9];
  e->bias = layer & 16;
  e->alpha = kParams[r.u8() % kParamCount];
  e->lo = kParams[r.u8() % kParamCount];
  e->hi = kParams[r.u8() % kParamCount];
}

// Legal output sizes of one dim (TensorFlow's rule), as [lo, hi]; lo > hi if none.
void legal_range(int64_t in, int64_t k, int64_t s, int64_t d, int pad_kind, int64_t before, int64_t after,
                 int64_t* lo, int64_t* hi) {
  const int64_t eff = (k - 1) * d + 1;
  if (pad_kind == 0) {  // SAME: ceil(out / s) == in
    *lo = in == 0 ? 0 : (in - 1) * s + 1;
    *hi = in * s;
    return;
  }
  const int64_t pads = pad_kind == 2 ? before + after : 0;
  // (out + pads - eff + s) / s == in, C++ truncation; search a small window.
  *lo = 1;
  *hi = 0;
  const int64_t center = (in - 1) * s + eff - pads;
  for (int64_t out = std::max<int64_t>(0, center - 2 * s); out <= center + 2 * s; ++out) {
    if ((out + pads - eff + s) / s == in) {
      if (*lo > *hi) *lo = out;
      *hi = out;
    }
  }
}

void decode_structured(Reader& r, Decoded* out) {
  ConvTransposeArgs& a = out->args;
  const uint8_t flags = r.u8();
  const int n = 1 + (flags & 3) % 3;
  const bool channels_first = flags & 4;
  const bool format_given = (flags & 8) || channels_first;
  const DType dtype = static_cast<DType>((flags >> 4) & 3);
  const bool named = flags & 64;
  out->plant_nonfinite = flags & 128;
  const int64_t batch = r.u8() % 4;
  const int64_t cin = r.u8() % 7;
  const int64_t cout = r.u8() % 7;
  const int sform = r.u8() % 4;  // 0 absent, 1 int, 2 N values, 3 N+2 values
  const int dform = r.u8() % 4;
  const int pad_kind = r.u8() % 3;  // 0 SAME, 1 VALID, 2 explicit
  V in(n), k(n), s(n), d(n), o(n), pb(n), pa(n);
  for (int i = 0; i < n; ++i) {
    in[i] = r.u8() % 7;
    k[i] = 1 + r.u8() % 5;
    s[i] = 1 + r.u8() % 4;
    d[i] = 1 + r.u8() % 3;
    const uint8_t pick = r.u8();
    pb[i] = r.u8() % 4;
    pa[i] = r.u8() % 4;
    if (sform == 0) s[i] = 1;
    if (sform == 1) s[i] = s[0];
    if (dform == 0) d[i] = 1;
    if (dform == 1) d[i] = d[0];
    if (pad_kind != 2) pb[i] = pa[i] = 0;
    int64_t lo, hi;
    legal_range(in[i], k[i], s[i], d[i], pad_kind, pb[i], pa[i], &lo, &hi);
    o[i] = lo <= hi ? lo + pick % (hi - lo + 1) : pick % 8;  // none legal: an error case
  }
  auto join = [&](int64_t b, const V& sp, int64_t c) {
    V v{b};
    if (channels_first) v.push_back(c);
    v.insert(v.end(), sp.begin(), sp.end());
    if (!channels_first) v.push_back(c);
    return v;
  };
  a.name = named ? kNames[1 + (flags >> 5) % 2] : "";
  a.input_shape = join(batch, in, cin);
  a.output_shape = join(batch, o, cout);
  a.filter_shape = k;
  a.filter_shape.push_back(cout);
  a.filter_shape.push_back(cin);
  auto window = [&](int form, const V& v) -> std::optional<V> {
    if (form == 0) return std::nullopt;
    if (form == 1) return V{v[0]};
    if (form == 2) return v;
    return join(1, v, 1);
  };
  a.strides = window(sform, s);
  a.dilations = window(dform, d);
  if (pad_kind == 2) {
    a.padding_is_list = true;
    V pairs = join(0, V(n, 0), 0);
    a.explicit_paddings.assign(2 * pairs.size(), 0);
    const int spatial0 = channels_first ? 2 : 1;
    for (int i = 0; i < n; ++i) {
      a.explicit_paddings[2 * (spatial0 + i)] = pb[i];
      a.explicit_paddings[2 * (spatial0 + i) + 1] = pa[i];
    }
  } else {
    a.padding = pad_kind == 0 ? "SAME" : "VALID";
  }
  a.data_format = format_given ? (channels_first ? channels_first_format(n) : channels_last_format(n)) : "";
  a.input_dtype = a.filter_dtype = dtype;

  // The memory budget: 0 (none) mostly, else 2^b bytes.
  const uint8_t budget = r.u8();
  out->memory_budget_bytes = budget < 128 ? 0 : uint64_t{1} << (budget % 40);

  // One hostile mutation, when the byte asks for it.
  const uint8_t mutate = r.u8();
  if (mutate >= 160) {
    const uint8_t field = r.u8();
    const uint8_t where = r.u8();
    const int64_t value = any_int(r);
    auto set_in = [&](V& v) {
      if (!v.empty()) v[where % v.size()] = value;
    };
    switch (field % 10) {
      case 0: set_in(a.input_shape); break;
      case 1: set_in(a.filter_shape); break;
      case 2: set_in(a.output_shape); break;
      case 3:
        if (!a.strides) a.strides = V{};
        if (where & 128) a.strides->push_back(value); else set_in(*a.strides);
        break;
      case 4:
        if (!a.dilations) a.dilations = V{};
        if (where & 128) a.dilations->push_back(value); else set_in(*a.dilations);
        break;
      case 5:
        if (a.padding_is_list) set_in(a.explicit_paddings); else a.padding = kPaddingStrings[where % 8];
        break;
      case 6: a.filter_dtype = static_cast<DType>(where % 4); break;
      case 7: a.data_format = kDataFormats[where % 12]; break;
      case 8: {  // add or drop a dim of one shape
        V& v = where % 3 == 0 ? a.input_shape : where % 3 == 1 ? a.filter_shape : a.output_shape;
        if (where & 128) v.push_back(value); else if (!v.empty()) v.pop_back();
        break;
      }
      case 9: a.input_dtype = static_cast<DType>(where % 4); break;
    }
  }
  out->seed = r.u64();

  // The layer options: groups a common divisor of the channel counts (a
  // divisor of 0 being any), with the filters' grouped shape.
  decode_epilogue(r, &a.epilogue);
  const uint8_t pick = r.u8();
  V divisors;
  for (int64_t g = 1; g <= 6; ++g) {
    if (cin % g == 0 && cout % g == 0) divisors.push_back(g);
  }
  a.groups = divisors[pick % divisors.size()];
  a.bias_length = a.epilogue.bias ? cout : 0;
  if (a.groups > 1 && a.filter_shape.size() == static_cast<size_t>(n) + 2 && a.filter_shape[n] == cout) {
    a.filter_shape[n] = cout / a.groups;
  }
}

void decode_raw(Reader& r, Decoded* out) {
  ConvTransposeArgs& a = out->args;
  const uint8_t types = r.u8();
  a.input_dtype = static_cast<DType>(types & 3);
  a.filter_dtype = static_cast<DType>((types >> 2) & 3);
  out->plant_nonfinite = types & 16;
  a.name = kNames[r.u8() % 3];
  for (V* shape : {&a.input_shape, &a.filter_shape, &a.output_shape}) {
    const int rank = r.u8() % 7;
    for (int i = 0; i < rank; ++i) shape->push_back(any_int(r));
  }
  for (std::optional<V>* w : {&a.strides, &a.dilations}) {
    const uint8_t len = r.u8();
    if (len == 0) continue;  // not given
    *w = V{};
    for (int i = 0; i < (len - 1) % 7; ++i) (*w)->push_back(any_int(r));
  }
  const uint8_t pad = r.u8();
  if (pad & 128) {
    a.padding_is_list = true;
    const int pairs = pad % 7;
    for (int i = 0; i < 2 * pairs; ++i) a.explicit_paddings.push_back(any_int(r));
    if (pad & 64) a.padding = kPaddingStrings[pad % 8];  // a string that should be ignored
  } else {
    a.padding = kPaddingStrings[pad % 8];
  }
  a.data_format = kDataFormats[r.u8() % 12];
  const uint8_t budget = r.u8();
  out->memory_budget_bytes = budget < 128 ? 0 : uint64_t{1} << (budget % 64);
  out->seed = r.u64();

  // The layer options: groups 1 for a 0 byte, else any value; a bias of
  // the filters' output channels (when that product fits) or of any length.
  decode_epilogue(r, &a.epilogue);
  const uint8_t groups = r.u8();
  a.groups = groups == 0 ? 1 : any_int(r);
  const uint8_t length = r.u8();
  int64_t channels = 0;
  if (a.filter_shape.size() >= 2 &&
      __builtin_mul_overflow(a.groups, a.filter_shape[a.filter_shape.size() - 2], &channels)) {
    channels = 0;
  }
  if (a.epilogue.bias) a.bias_length = length < 128 ? channels : any_int(r);
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

std::string list_str(const V& v) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << v[i];
  o << "]";
  return o.str();
}

std::string describe(const ConvTransposeArgs& a) {
  std::ostringstream o;
  o << "name='" << a.name << "' input_shape=" << list_str(a.input_shape) << " filter_shape=" << list_str(a.filter_shape)
    << " output_shape=" << list_str(a.output_shape)
    << " strides=" << (a.strides ? list_str(*a.strides) : "None")
    << " dilations=" << (a.dilations ? list_str(*a.dilations) : "None");
  if (a.padding_is_list) o << " padding=" << list_str(a.explicit_paddings) << " (list)";
  else o << " padding='" << a.padding << "'";
  o << " data_format='" << a.data_format << "' dtypes=" << ctw::dtype_name(a.input_dtype) << "/"
    << ctw::dtype_name(a.filter_dtype) << " groups=" << a.groups
    << " activation=" << ctw::activation_name(a.epilogue.activation) << " alpha=" << a.epilogue.alpha
    << " clamp=[" << a.epilogue.lo << ", " << a.epilogue.hi << "]";
  if (a.epilogue.bias) o << " bias_length=" << a.bias_length;
  return o.str();
}

[[noreturn]] void fail(const ConvTransposeArgs& a, const std::string& what) {
  std::fprintf(stderr, "\nconv_transpose_fuzzer: %s\n  args: %s\n", what.c_str(), describe(a).c_str());
  std::fflush(stderr);
  std::abort();
}

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * (2.0 / 9007199254740992.0) - 1.0; }  // [-1, 1)
};

// A tensor of `count` elements of `dtype`, kept as raw bytes.
struct Buffer {
  DType dtype;
  std::vector<uint8_t> bytes;
  Buffer(DType t, int64_t count) : dtype(t), bytes(std::max<size_t>(1, static_cast<size_t>(count) * ctw::dtype_size(t))) {}
  void* data() { return bytes.data(); }
  const void* data() const { return bytes.data(); }
  double get(int64_t i) const {
    switch (dtype) {
      case DType::kFloat32: { float f; std::memcpy(&f, &bytes[i * 4], 4); return f; }
      case DType::kFloat64: { double f; std::memcpy(&f, &bytes[i * 8], 8); return f; }
      case DType::kFloat16: { uint16_t h; std::memcpy(&h, &bytes[i * 2], 2); return ctw::float16_to_float(h); }
      case DType::kBFloat16: { uint16_t h; std::memcpy(&h, &bytes[i * 2], 2); return ctw::bfloat16_to_float(h); }
    }
    return 0;
  }
  void set(int64_t i, double v) {
    switch (dtype) {
      case DType::kFloat32: { float f = static_cast<float>(v); std::memcpy(&bytes[i * 4], &f, 4); break; }
      case DType::kFloat64: std::memcpy(&bytes[i * 8], &v, 8); break;
      case DType::kFloat16: { uint16_t h = ctw::float_to_float16(static_cast<float>(v)); std::memcpy(&bytes[i * 2], &h, 2); break; }
      case DType::kBFloat16: { uint16_t h = ctw::float_to_bfloat16(static_cast<float>(v)); std::memcpy(&bytes[i * 2], &h, 2); break; }
    }
  }
  // Bit pattern of element i, for exact comparison (all NaNs equal).
  uint64_t bits(int64_t i) const {
    const size_t w = ctw::dtype_size(dtype);
    if (std::isnan(get(i))) return ~uint64_t{0};
    uint64_t b = 0;
    std::memcpy(&b, &bytes[i * w], w);
    return b;
  }
};

// Values in [-scale, scale), a few exact zeros; float16 stays at scale 1 so
// that sums of <= 20k terms cannot reach its 65504 limit.
void fill(Buffer& b, int64_t count, Rng& rng, double scale) {
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t pick = rng.next() % 16;
    b.set(i, pick == 0 ? 0.0 : rng.unit() * scale);
  }
}

void plant_nonfinite(Buffer& b, int64_t count, Rng& rng) {
  if (count == 0) return;
  const int planted = 1 + static_cast<int>(rng.next() % 3);
  for (int j = 0; j < planted; ++j) {
    const int64_t at = static_cast<int64_t>(rng.next() % static_cast<uint64_t>(count));
    const uint64_t kind = rng.next() % 3;
    b.set(at, kind == 0 ? std::nan("") : kind == 1 ? INFINITY : -INFINITY);
  }
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

long double product(const std::array<int64_t, 3>& v) {
  return static_cast<long double>(v[0]) * v[1] * v[2];
}

long double exact_product(const V& v) {
  long double p = 1;
  for (int64_t x : v) p *= static_cast<long double>(x);
  return p;
}

double gamma(double m, double u) { return m * u / (1 - m * u); }

// One 16-bit ulp at |v| (float16: 10 fraction bits, smallest exponent -14;
// bfloat16: 7 fraction bits, smallest exponent -126).
double ulp16(DType t, double v) {
  const int frac = t == DType::kFloat16 ? 10 : 7;
  const int emin = t == DType::kFloat16 ? -14 : -126;
  int e = v == 0 ? emin : std::ilogb(v);
  if (e < emin) e = emin;
  return std::ldexp(1.0, e - frac);
}

ctw::ThreadPool* pool2() {
  static ctw::ThreadPool* pool = new ctw::ThreadPool(2);
  return pool;
}


// An operator for the call's filters with `kernel`, packed, reshaped for its
// shapes on 2 threads and run into `out`.
ctw::Status run_operator(const ConvTransposeArgs& a, ctw::KernelKind kernel, const void* x, const void* w,
                         const double* bias, void* out) {
  std::unique_ptr<ctw::ConvTransposeOp> op;
  ctw::Status s = ctw::ConvTransposeOp::create(ctw::filter_args(a), kernel, &op);
  if (s.ok()) s = op->pack(w, bias, pool2());
  if (s.ok()) s = op->reshape(a.input_shape, a.output_shape, a.input_dtype, 0, 2);
  if (s.ok()) s = op->run(x, out, pool2());
  return s;
}

void check_plan_invariants(const ConvTransposeArgs& a, const ConvTransposePlan& plan) {
  constexpr long double kSafe = 9007199254740991.0L;
  const long double in = exact_product(a.input_shape), f = exact_product(a.filter_shape),
                    o = exact_product(a.output_shape);
  if (in != plan.input_elements || f != plan.filter_elements || o != plan.output_elements ||
      in > kSafe || f > kSafe || o > kSafe) {
    fail(a, "accepted plan with element counts that are not the shapes' products below 2^53: input " +
                std::to_string(plan.input_elements) + ", filters " + std::to_string(plan.filter_elements) +
                ", output " + std::to_string(plan.output_elements));
  }
  ConvTransposePlan fp;
  const ctw::Status s = ctw::plan_filters(ctw::filter_args(a), &fp);
  if (!s.ok()) fail(a, "plan_conv_transpose accepted the call but plan_filters rejected it: " + s.message());
  if (fp.filter_size != plan.filter_size || fp.stride != plan.stride || fp.dilation != plan.dilation ||
      fp.input_channels != plan.input_channels || fp.output_channels != plan.output_channels ||
      fp.filter_elements != plan.filter_elements || fp.dtype != plan.dtype || fp.groups != plan.groups ||
      fp.channels_first != plan.channels_first || fp.spatial_rank != plan.spatial_rank) {
    fail(a, "plan_filters disagrees with plan_conv_transpose on the filter half of the plan");
  }
}

bool small_enough(const ConvTransposePlan& p) {
  const long double taps = product(p.filter_size);
  const long double in_px = static_cast<long double>(p.batch) * product(p.input_size);
  const long double out_px = static_cast<long double>(p.batch) * product(p.output_size);
  const long double elements = static_cast<long double>(p.input_elements) + p.filter_elements + p.output_elements;
  return elements <= kMaxElements && in_px * taps <= kMaxPixelTaps &&
         in_px * taps * p.input_channels * p.output_channels <= kMaxMacs && out_px <= kMaxOutputPixels &&
         taps <= kMaxElements && ctw::one_call_bytes(p, 2).total() <= kMaxScratchBytes;
}

void run_and_compare(const Decoded& d, const ConvTransposePlan& plan) {
  const ConvTransposeArgs& a = d.args;
  const DType t = plan.dtype;
  Rng rng{d.seed};
  const double scale = t == DType::kFloat16 ? 1.0 : std::ldexp(1.0, static_cast<int>(rng.next() % 41) - 20);
  Buffer x(t, plan.input_elements), w(t, plan.filter_elements);
  fill(x, plan.input_elements, rng, scale);
  const double wscale = t == DType::kFloat16 ? 1.0 : 1.0 / scale * std::ldexp(1.0, static_cast<int>(rng.next() % 21) - 10);
  fill(w, plan.filter_elements, rng, wscale);
#ifndef CTW_FUZZ_SKIP_NONFINITE  // -D to look past a known non-finite finding while it is fixed
  const bool plant = d.plant_nonfinite;
#else
  const bool plant = false;
#endif
  if (plant) {
    if (rng.next() & 1) plant_nonfinite(x, plan.input_elements, rng);
    if (rng.next() & 1) plant_nonfinite(w, plan.filter_elements, rng);
  }

  // The bias: values the dtype holds (so that every kernel starts from the
  // same bias), on the products' scale.
  std::vector<double> bias;
  if (plan.epilogue.bias) {
    Buffer b(t, plan.output_channels);
    fill(b, plan.output_channels, rng, scale * wscale);
    for (int64_t c = 0; c < plan.output_channels; ++c) bias.push_back(b.get(c));
  }
  const double* bias_ptr = bias.empty() ? nullptr : bias.data();

  const int64_t out_n = plan.output_elements;
  Buffer ref(t, out_n), fast_pool(t, out_n), fast_inline(t, out_n), prepared(t, out_n);
  // Pre-fill with NaN so that an element the kernel never writes shows up.
  for (Buffer* b : {&fast_pool, &fast_inline, &prepared}) {
    for (int64_t i = 0; i < out_n; ++i) b->set(i, std::nan(""));
  }
  ctw::conv_transpose_reference(plan, x.data(), w.data(), ref.data(), bias_ptr);

  ctw::Status s = ctw::conv_transpose(a.name, plan, x.data(), w.data(), fast_pool.data(), pool2(), bias_ptr);
  if (!s.ok()) fail(a, "conv_transpose (pool of 2) failed on an accepted plan: " + s.message());
  s = ctw::conv_transpose(a.name, plan, x.data(), w.data(), fast_inline.data(), nullptr, bias_ptr);
  if (!s.ok()) fail(a, "conv_transpose (no pool) failed on an accepted plan: " + s.message());
  // The prepared operator forced to the one-call form's kernel (which also
  // knows the input, and reads heavy filters in place): the same bits.
  s = run_operator(a, ctw::choose_one_call_kernel(plan), x.data(), w.data(), bias_ptr, prepared.data());
  if (!s.ok()) fail(a, "the prepared operator (create, pack, reshape, run) failed: " + s.message());
  // Every other fast kernel that can serve the plan (igemm and channelwise
  // always; for one group, 1-4 output channels: dot and pixels; a width
  // kernel that is a multiple of the width stride: columns), forced, is
  // held to the reference below like the chosen one.
  std::vector<std::pair<ctw::KernelKind, Buffer>> others;
  for (ctw::KernelKind k : {ctw::KernelKind::kIgemm, ctw::KernelKind::kDot, ctw::KernelKind::kPixels,
                            ctw::KernelKind::kColumns, ctw::KernelKind::kChannelwise}) {
    if (k == ctw::choose_kernel(plan) || !ctw::kernel_serves(k, plan)) continue;
    others.emplace_back(k, Buffer(t, out_n));
    Buffer& b = others.back().second;
    for (int64_t i = 0; i < out_n; ++i) b.set(i, std::nan(""));
    s = run_operator(a, k, x.data(), w.data(), bias_ptr, b.data());
    if (!s.ok()) fail(a, std::string("the ") + ctw::kernel_name(k) + " kernel failed: " + s.message());
  }

  // S = sum |x * w| per output: the reference in float64 on |x| and |w|,
  // without the epilogue; with one, the sums themselves too (plus the bias).
  ConvTransposePlan plan64 = plan;
  plan64.dtype = DType::kFloat64;
  plan64.epilogue = ctw::EpilogueArgs{};
  std::vector<double> ax(std::max<int64_t>(1, plan.input_elements)), aw(std::max<int64_t>(1, plan.filter_elements)),
      abs_sum(std::max<int64_t>(1, out_n));
  for (int64_t i = 0; i < plan.input_elements; ++i) ax[i] = std::fabs(x.get(i));
  for (int64_t i = 0; i < plan.filter_elements; ++i) aw[i] = std::fabs(w.get(i));
  ctw::conv_transpose_reference(plan64, ax.data(), aw.data(), abs_sum.data());
  const bool epilogue = !plan.epilogue.identity();
  std::vector<double> sum;
  if (epilogue) {
    for (int64_t i = 0; i < plan.input_elements; ++i) ax[i] = x.get(i);
    for (int64_t i = 0; i < plan.filter_elements; ++i) aw[i] = w.get(i);
    sum.resize(abs_sum.size());
    ctw::conv_transpose_reference(plan64, ax.data(), aw.data(), sum.data());
    if (!bias.empty()) {
      for (int64_t i = 0; i < out_n; ++i) sum[i] += bias[plan.output_channel_of(i)];
    }
  }
  const double lip = ctw_test::lipschitz(plan.epilogue);
  const double u_act = t == DType::kFloat64 ? std::ldexp(1.0, -52) : std::ldexp(1.0, -24);

  const bool sixteen = t == DType::kFloat16 || t == DType::kBFloat16;
  const double u = t == DType::kFloat64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
  const double tiny = t == DType::kFloat64 ? std::numeric_limits<double>::denorm_min()
                                           : static_cast<double>(std::numeric_limits<float>::denorm_min());
  const double terms = static_cast<double>(product(plan.filter_size)) * static_cast<double>(plan.group_input_channels());
  const double g = (t == DType::kFloat64 ? 2 : 1) * gamma(terms + 4, u);

  for (int64_t i = 0; i < out_n; ++i) {
    if (fast_pool.bits(i) != fast_inline.bits(i) || fast_pool.bits(i) != prepared.bits(i)) {
      std::ostringstream m;
      m.precision(17);
      m << "fast results differ between runs at output " << i << ": pool of 2 " << fast_pool.get(i) << ", no pool "
        << fast_inline.get(i) << ", prepared " << prepared.get(i);
      fail(a, m.str());
    }
    const double r = ref.get(i);
    auto check = [&](double got, const char* kernel) {
      bool ok;
      double bound = 0;
      if (std::isnan(r)) {
        ok = std::isnan(got);
      } else if (std::isinf(r)) {
        ok = got == r;
      } else {
        bound = g * abs_sum[i] + (terms + 1) * tiny;
        if (epilogue) {
          const double b = bias.empty() ? 0.0 : std::fabs(bias[plan.output_channel_of(i)]);
          bound = lip * (bound + u_act * (std::fabs(sum[i]) + b)) + (ctw_test::evaluation_ulps(plan.epilogue, sum[i]) + 1) * u_act * std::fabs(r);
        } else {
          bound += u * std::fabs(r);
        }
        if (sixteen) bound += ulp16(t, std::max(std::fabs(r), std::fabs(got)));
        ok = std::isfinite(got) && std::fabs(got - r) <= bound;
      }
      if (!ok) {
        std::ostringstream m;
        m.precision(17);
        m << "the " << kernel << " kernel differs from the reference at output " << i << " (of " << out_n
          << "): got " << got << ", reference " << r << ", |diff| " << std::fabs(got - r) << ", bound " << bound
          << ", sum|x*w| " << abs_sum[i] << ", terms <= " << terms;
        if (epilogue) m << ", sum + bias " << sum[i];
        fail(a, m.str());
      }
    };
    check(fast_pool.get(i), ctw::kernel_name(ctw::choose_kernel(plan)));
    for (const auto& other : others) check(other.second.get(i), ctw::kernel_name(other.first));
  }
}

// Counts for the summary printed at exit (how much of the run reached the kernels).
uint64_t g_inputs = 0, g_planned = 0, g_compared = 0, g_compared_nonfinite = 0, g_compared_grouped = 0,
         g_compared_epilogue = 0;

void print_summary() {
  std::fprintf(stderr,
               "conv_transpose_fuzzer: %llu inputs, %llu accepted by the planner, %llu run through the kernels and "
               "compared with the reference (%llu with NaN/Inf planted, %llu with groups, %llu with a bias or an "
               "activation)\n",
               static_cast<unsigned long long>(g_inputs), static_cast<unsigned long long>(g_planned),
               static_cast<unsigned long long>(g_compared), static_cast<unsigned long long>(g_compared_nonfinite),
               static_cast<unsigned long long>(g_compared_grouped), static_cast<unsigned long long>(g_compared_epilogue));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(print_summary);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ++g_inputs;
  Reader r(data, size);
  Decoded d;
  const uint8_t mode = r.u8();
  if (mode < 0x80) decode_structured(r, &d);
  else decode_raw(r, &d);

  // CTW_FUZZ_PRINT=1: print each input's arguments (to triage a crash or timeout artifact).
  static const bool print = std::getenv("CTW_FUZZ_PRINT") != nullptr;
  if (print) std::fprintf(stderr, "conv_transpose_fuzzer: args: %s\n", describe(d.args).c_str());

  ConvTransposePlan plan;
  const ctw::Status s = ctw::plan_conv_transpose(d.args, &plan);
  if (print) std::fprintf(stderr, "conv_transpose_fuzzer: plan: %s\n", s.ok() ? "OK" : s.message().c_str());
  if (!s.ok()) {
    const std::string prefix = (d.args.name.empty() ? std::string("conv_transpose") : d.args.name) + ": ";
    if (s.message().compare(0, prefix.size(), prefix) != 0 || s.message().size() <= prefix.size()) {
      fail(d.args, "error message does not start with the op's name: " + s.message());
    }
    if (s.code() != ctw::StatusCode::kInvalidArgument) fail(d.args, "a rule's error without the invalid-argument code");
    // The prepared form plans from the filters alone: it must not crash either.
    ConvTransposePlan fp;
    (void)ctw::plan_filters(ctw::filter_args(d.args), &fp);
    return 0;
  }
  ++g_planned;
  check_plan_invariants(d.args, plan);
  if (d.memory_budget_bytes != 0) {
    // The operator's budget: a call that does not fit is refused with the
    // out-of-memory code and a message that starts with the op's name.
    const ctw::Status b = ctw::check_memory_budget(d.args, ctw::one_call_bytes(plan, 2), d.memory_budget_bytes);
    if (!b.ok()) {
      const std::string prefix = (d.args.name.empty() ? std::string("conv_transpose") : d.args.name) + ": ";
      if (b.code() != ctw::StatusCode::kOutOfMemory || b.message().compare(0, prefix.size(), prefix) != 0) {
        fail(d.args, "a budget error without the out-of-memory code or the op's name: " + b.message());
      }
      return 0;
    }
  }
  if (small_enough(plan)) {
    run_and_compare(d, plan);
    ++g_compared;
    if (plan.groups > 1) ++g_compared_grouped;
    if (!plan.epilogue.identity()) ++g_compared_epilogue;
#ifndef CTW_FUZZ_SKIP_NONFINITE
    if (d.plant_nonfinite) ++g_compared_nonfinite;
#endif
  }
  return 0;
}
