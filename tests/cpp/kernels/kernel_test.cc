// The fast kernels, run as the library runs them (ctw::conv_transpose, the
// one-call form, and ConvTransposeOp create / pack / reshape / run with the
// kernel chosen or forced), against the reference kernel
// (ctw::conv_transpose_reference), and both against an independent
// gather-form sum written here:
//
//   out[n, o, co] = sum over taps k and input channels ci such that, per
//                   spatial dim j, t_j = o_j + pad_before_j - k_j * d_j is
//                   >= 0, divisible by s_j and t_j / s_j < input size
//                   of x[n, t / s, ci] * w[k, co, ci]
//
// (the reference scatters from inputs; this gathers per output, so the two
// share no index arithmetic). The gather also gives, per output element, the
// number of contributing terms n and S = sum |x * w|, which set the bounds:
//
//   float32:  |fast - ref| <= gamma(n + 2) * S + 1e-30, gamma(m) = m u / (1 - m u),
//             u = 2^-24. Any order of float32 summation of n products is within
//             gamma(n) * S of the exact sum (Higham, Accuracy and Stability of
//             Numerical Algorithms, 2nd ed., eq. 3.5); the reference is exact
//             to double precision, then rounded once to float32 (u * S more).
//             This is tighter than 1e-5 * S whenever n < ~160, and rigorous.
//   float64:  1e-12 * S: both sides accumulate in double, each within
//             gamma(n + 1) (u = 2^-53) of exact, and 2 * gamma(n + 1) < 1e-12
//             for the n < 4000 used here (the bound switches to 2 * gamma
//             beyond that).
//   float16 / bfloat16 (compared decoded): gamma(n + 2) * S (float32
//             accumulation; the 16-bit products are exact in float32) plus one
//             16-bit ulp at the larger result: both sides round a float32
//             value to 16 bits (the reference goes double -> float32 -> 16 bit,
//             see kernels/reference.cc), each within half an ulp.
//
// Output elements that no (tap, input) pair reaches (n == 0: phases a kernel
// smaller than the stride never touches, borders cut off by padding) must be
// exactly 0. Outputs are pre-filled with NaN, so an element the kernel never
// writes shows up. Every fast run is repeated with no pool and with pools of 1,
// 2 and 3 threads; the results must be bit-identical, since each output
// element is computed by one work item in an order that does not depend on the
// thread running it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/reference.h"
#include "operator/conv_transpose_op.h"
#include "operator/kernel_choice.h"
#include "runtime/input_layout.h"
#include "runtime/thread_pool.h"
#include "semantics/dtype.h"
#include "semantics/plan.h"
#include "test_util.h"

namespace {

using ctw::ConvTransposeArgs;
using ctw::ConvTransposePlan;
using ctw::DType;
using ctw_test::IsOk;
using ctw_test::Rng;
using V = std::vector<int64_t>;

const DType kAllTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};

ctw::ThreadPool* pool_of(int threads) {
  static std::unique_ptr<ctw::ThreadPool> pools[4];
  if (!pools[threads]) pools[threads].reset(new ctw::ThreadPool(threads));
  return pools[threads].get();
}

// ---------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------

// One transposed convolution, described per spatial dim (n entries each).
struct Spec {
  int n = 1;
  bool channels_first = false;
  DType dtype = DType::kFloat32;
  int64_t batch = 1, cin = 1, cout = 1;
  V in, k, s, d;
  std::string padding = "VALID";  // SAME, VALID or EXPLICIT
  V pad_before, pad_after;        // EXPLICIT only
  V out;                          // empty: the smallest legal size per dim

  std::string describe() const {
    std::ostringstream o;
    o << n << "-D " << (channels_first ? "channels-first" : "channels-last") << " " << ctw::dtype_name(dtype)
      << " batch " << batch << " cin " << cin << " cout " << cout << " in " << ctw_test::list_str(in) << " k "
      << ctw_test::list_str(k) << " s " << ctw_test::list_str(s) << " d " << ctw_test::list_str(d) << " "
      << padding;
    if (padding == "EXPLICIT") o << " " << ctw_test::list_str(pad_before) << "/" << ctw_test::list_str(pad_after);
    o << " out " << ctw_test::list_str(out);
    return o.str();
  }
};

// Legal output sizes of one dim, from TF's rule (see plan_test.cc):
// SAME [(i-1)s+1, is]; VALID [(i-1)s+eff, +s-1]; EXPLICIT that minus the pads.
// Input size 0 is not generated here.
void legal_range(const Spec& sp, int j, int64_t* lo, int64_t* hi) {
  const int64_t i = sp.in[j], s = sp.s[j], eff = (sp.k[j] - 1) * sp.d[j] + 1;
  if (sp.padding == "SAME") {
    *lo = (i - 1) * s + 1;
    *hi = i * s;
  } else {
    const int64_t pads = sp.padding == "EXPLICIT" ? sp.pad_before[j] + sp.pad_after[j] : 0;
    *lo = (i - 1) * s + eff - pads;
    *hi = *lo + s - 1;
    if (*lo < 0) *lo = 0;
  }
}

ConvTransposeArgs to_args(const Spec& sp, Rng* rng = nullptr) {
  ConvTransposeArgs a;
  a.input_shape = ctw_test::join_shape(sp.batch, sp.in, sp.cin, sp.channels_first);
  a.filter_shape = sp.k;
  a.filter_shape.push_back(sp.cout);
  a.filter_shape.push_back(sp.cin);
  a.output_shape = ctw_test::join_shape(sp.batch, sp.out, sp.cout, sp.channels_first);
  // strides / dilations: the N form, or (randomly) the N+2 or int forms.
  auto form = [&](const V& v) {
    const int choice = rng ? static_cast<int>(rng->range(0, 2)) : 0;
    bool all_same = true;
    for (int64_t x : v) all_same = all_same && x == v[0];
    if (choice == 1 && all_same) return V{v[0]};
    if (choice == 2) return ctw_test::join_shape(1, v, 1, sp.channels_first);
    return v;
  };
  a.strides = form(sp.s);
  a.dilations = form(sp.d);
  if (sp.padding == "EXPLICIT") {
    a.padding_is_list = true;
    a.explicit_paddings = {0, 0};
    for (int j = 0; j < sp.n; ++j) {
      a.explicit_paddings.push_back(sp.pad_before[j]);
      a.explicit_paddings.push_back(sp.pad_after[j]);
    }
    a.explicit_paddings.push_back(0);
    a.explicit_paddings.push_back(0);
    // The batch pair is first and the channel pair second in channels-first order.
    if (sp.channels_first) {
      std::vector<int64_t> p = {0, 0, 0, 0};
      p.insert(p.end(), a.explicit_paddings.begin() + 2, a.explicit_paddings.end() - 2);
      a.explicit_paddings = p;
    }
  } else {
    a.padding = sp.padding;
  }
  a.data_format = ctw_test::data_format_for(sp.n, sp.channels_first);
  a.input_dtype = a.filter_dtype = sp.dtype;
  return a;
}

size_t dsize(DType t) { return ctw::dtype_size(t); }

void store(DType t, std::vector<uint8_t>& buf, size_t i, double v) {
  switch (t) {
    case DType::kFloat32: {
      const float f = static_cast<float>(v);
      std::memcpy(&buf[i * 4], &f, 4);
      break;
    }
    case DType::kFloat64: std::memcpy(&buf[i * 8], &v, 8); break;
    case DType::kFloat16: {
      const uint16_t h = ctw::float_to_float16(static_cast<float>(v));
      std::memcpy(&buf[i * 2], &h, 2);
      break;
    }
    case DType::kBFloat16: {
      const uint16_t h = ctw::float_to_bfloat16(static_cast<float>(v));
      std::memcpy(&buf[i * 2], &h, 2);
      break;
    }
  }
}

double load(DType t, const std::vector<uint8_t>& buf, size_t i) {
  switch (t) {
    case DType::kFloat32: {
      float f;
      std::memcpy(&f, &buf[i * 4], 4);
      return f;
    }
    case DType::kFloat64: {
      double v;
      std::memcpy(&v, &buf[i * 8], 8);
      return v;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      uint16_t h;
      std::memcpy(&h, &buf[i * 2], 2);
      return t == DType::kFloat16 ? ctw::float16_to_float(h) : ctw::bfloat16_to_float(h);
    }
  }
  return 0;
}

std::vector<uint8_t> random_tensor(DType t, int64_t elements, Rng& rng) {
  std::vector<uint8_t> buf(static_cast<size_t>(elements) * dsize(t));
  for (int64_t i = 0; i < elements; ++i) store(t, buf, static_cast<size_t>(i), rng.signed_unit());
  return buf;
}

std::vector<uint8_t> nan_tensor(DType t, int64_t elements) {
  std::vector<uint8_t> buf(static_cast<size_t>(elements) * dsize(t));
  for (int64_t i = 0; i < elements; ++i) store(t, buf, static_cast<size_t>(i), std::nan(""));
  return buf;
}

struct Problem {
  Spec spec;
  ConvTransposeArgs args;
  ConvTransposePlan plan;
  std::vector<uint8_t> input, filters;
};

// Plans `sp` (which must be legal) and fills random data.
::testing::AssertionResult make_problem(const Spec& sp, Rng& rng, Problem* pr, bool random_forms = true) {
  pr->spec = sp;
  pr->args = to_args(sp, random_forms ? &rng : nullptr);
  const ctw::Status s = ctw::plan_conv_transpose(pr->args, &pr->plan);
  if (!s.ok()) return ::testing::AssertionFailure() << sp.describe() << ": " << s.message();
  pr->input = random_tensor(sp.dtype, pr->plan.input_elements, rng);
  pr->filters = random_tensor(sp.dtype, pr->plan.filter_elements, rng);
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// The independent gather form
// ---------------------------------------------------------------------------

struct Expected {
  std::vector<double> value, abs_sum;
  std::vector<int64_t> terms;
};

int64_t flat_index(bool channels_first, const std::array<int64_t, 3>& size, int64_t channels, int64_t n,
                   const std::array<int64_t, 3>& pos, int64_t c) {
  const int64_t plane = size[0] * size[1] * size[2];
  const int64_t sp = (pos[0] * size[1] + pos[1]) * size[2] + pos[2];
  return channels_first ? (n * channels + c) * plane + sp : (n * plane + sp) * channels + c;
}

Expected gather(const Problem& pr) {
  const ConvTransposePlan& p = pr.plan;
  const DType t = p.dtype;
  std::vector<double> x(static_cast<size_t>(p.input_elements)), w(static_cast<size_t>(p.filter_elements));
  for (size_t i = 0; i < x.size(); ++i) x[i] = load(t, pr.input, i);
  for (size_t i = 0; i < w.size(); ++i) w[i] = load(t, pr.filters, i);
  Expected e;
  e.value.assign(static_cast<size_t>(p.output_elements), 0.0);
  e.abs_sum.assign(e.value.size(), 0.0);
  e.terms.assign(e.value.size(), 0);
  const int64_t cin = p.input_channels, cout = p.output_channels;
  std::array<int64_t, 3> o, i;
  for (int64_t n = 0; n < p.batch; ++n)
    for (o[0] = 0; o[0] < p.output_size[0]; ++o[0])
      for (o[1] = 0; o[1] < p.output_size[1]; ++o[1])
        for (o[2] = 0; o[2] < p.output_size[2]; ++o[2])
          for (int64_t co = 0; co < cout; ++co) {
            double sum = 0, abs_sum = 0;
            int64_t terms = 0;
            for (int64_t kd = 0; kd < p.filter_size[0]; ++kd)
              for (int64_t kh = 0; kh < p.filter_size[1]; ++kh)
                for (int64_t kw = 0; kw < p.filter_size[2]; ++kw) {
                  const std::array<int64_t, 3> k = {kd, kh, kw};
                  bool hit = true;
                  for (int j = 0; j < 3 && hit; ++j) {
                    const int64_t tj = o[j] + p.pad_before[j] - k[j] * p.dilation[j];
                    hit = tj >= 0 && tj % p.stride[j] == 0 && tj / p.stride[j] < p.input_size[j];
                    if (hit) i[j] = tj / p.stride[j];
                  }
                  if (!hit) continue;
                  const int64_t tap = (kd * p.filter_size[1] + kh) * p.filter_size[2] + kw;
                  for (int64_t ci = 0; ci < cin; ++ci) {
                    const double xw = x[static_cast<size_t>(flat_index(p.channels_first, p.input_size, cin, n, i, ci))] *
                                      w[static_cast<size_t>((tap * cout + co) * cin + ci)];
                    sum += xw;
                    abs_sum += std::fabs(xw);
                    ++terms;
                  }
                }
            const size_t at = static_cast<size_t>(flat_index(p.channels_first, p.output_size, cout, n, o, co));
            e.value[at] = sum;
            e.abs_sum[at] = abs_sum;
            e.terms[at] = terms;
          }
  return e;
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

double gamma_u(double m, double u) { return m * u / (1 - m * u); }

// One ulp of a 16-bit format at magnitude |v| (rounded to that format first).
double ulp16(DType t, double v) {
  const float a = static_cast<float>(std::fabs(v));
  const bool half = t == DType::kFloat16;
  const uint16_t h = half ? ctw::float_to_float16(a) : ctw::float_to_bfloat16(a);
  const uint16_t inf = half ? 0x7c00 : 0x7f80;
  auto dec = [&](uint16_t b) { return static_cast<double>(half ? ctw::float16_to_float(b) : ctw::bfloat16_to_float(b)); };
  if (h >= inf) return dec(static_cast<uint16_t>(inf - 1)) - dec(static_cast<uint16_t>(inf - 2));
  if (h + 1 == inf) return dec(h) - dec(static_cast<uint16_t>(h - 1));
  return dec(static_cast<uint16_t>(h + 1)) - dec(h);
}

double tolerance(DType t, int64_t terms, double abs_sum, double a, double b) {
  const double u32 = std::ldexp(1.0, -24);
  switch (t) {
    case DType::kFloat32: return gamma_u(static_cast<double>(terms + 2), u32) * abs_sum + 1e-30;
    case DType::kFloat64:
      return std::max(1e-12, 2 * gamma_u(static_cast<double>(terms + 1), std::ldexp(1.0, -53))) * abs_sum + 1e-300;
    default:
      return gamma_u(static_cast<double>(terms + 2), u32) * abs_sum +
             ulp16(t, std::max(std::fabs(a), std::fabs(b))) + 1e-30;
  }
}

// Compares `got` (a tensor in the plan's dtype) with `want`: either another
// tensor in the plan's dtype or, when want_exact is given, exact values.
::testing::AssertionResult outputs_close(const Problem& pr, const Expected& e, const std::vector<uint8_t>& got,
                                 const std::vector<uint8_t>* want, const std::string& what) {
  const ConvTransposePlan& p = pr.plan;
  int bad = 0;
  std::ostringstream report;
  for (int64_t i = 0; i < p.output_elements; ++i) {
    const size_t at = static_cast<size_t>(i);
    const double g = load(p.dtype, got, at);
    const double w = want ? load(p.dtype, *want, at) : e.value[at];
    const int64_t terms = e.terms[at];
    bool ok;
    double tol = 0;
    if (std::isnan(g) || std::isnan(w)) {
      ok = false;
    } else if (terms == 0) {
      ok = g == 0 && w == 0;
    } else {
      tol = tolerance(p.dtype, terms, e.abs_sum[at], g, w);
      ok = std::fabs(g - w) <= tol;
    }
    if (!ok && ++bad <= 5) {
      report << "\n  element " << i << ": got " << g << ", want " << w << " (|diff| " << std::fabs(g - w) << ", tol "
             << tol << ", terms " << terms << ", sum|x*w| " << e.abs_sum[at] << ")";
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << p.output_elements
                                       << " elements out of tolerance for " << pr.spec.describe() << report.str();
}


// An operator for the problem's filters with `kernel` (chosen or forced),
// packed on `pool`.
std::unique_ptr<ctw::ConvTransposeOp> make_op(const Problem& pr, const std::vector<uint8_t>& filters,
                                              ctw::KernelKind kernel, ctw::ThreadPool* pool, ctw::Status* status) {
  std::unique_ptr<ctw::ConvTransposeOp> op;
  *status = ctw::ConvTransposeOp::create(ctw::filter_args(pr.args), kernel, &op);
  if (status->ok()) *status = op->pack(filters.data(), pool);
  return status->ok() ? std::move(op) : nullptr;
}

// Reshapes `op` for the problem's shapes and runs it on `pool`.
ctw::Status run_op(ctw::ConvTransposeOp& op, const Problem& pr, void* output, ctw::ThreadPool* pool) {
  const ctw::Status s = op.reshape(pr.args.input_shape, pr.args.output_shape, pr.args.input_dtype, 0,
                                   ctw::thread_count(pool));
  return s.ok() ? op.run(pr.input.data(), output, pool) : s;
}

// The fast kernels that can serve a plan: the automatic choice, then each
// kernel forced (every narrow plan runs dot and pixels too; a width kernel that
// is a multiple of the width stride, columns).
std::vector<ctw::KernelKind> kernels_for(const ConvTransposePlan& p) {
  std::vector<ctw::KernelKind> out = {ctw::KernelKind::kAuto};
  for (ctw::KernelKind k : {ctw::KernelKind::kIgemm, ctw::KernelKind::kDot, ctw::KernelKind::kPixels, ctw::KernelKind::kColumns}) {
    if (ctw::kernel_serves(k, p)) out.push_back(k);
  }
  return out;
}

// Runs the reference and `kernel` (no pool and pools of 1-3 threads; for
// kAuto the one-call entry point too) and checks them.
void check_kernel(const Problem& pr, const Expected& e, const std::vector<uint8_t>& ref, ctw::KernelKind kernel) {
  const ConvTransposePlan& p = pr.plan;
  SCOPED_TRACE(std::string("kernel ") + ctw::kernel_name(kernel == ctw::KernelKind::kAuto ? ctw::choose_kernel(p) : kernel) +
               (kernel == ctw::KernelKind::kAuto ? " (chosen)" : " (forced)"));
  ctw::Status st;
  std::unique_ptr<ctw::ConvTransposeOp> op = make_op(pr, pr.filters, kernel, nullptr, &st);
  ASSERT_TRUE(op != nullptr) << st.message();
  ASSERT_EQ(op->kernel(), kernel == ctw::KernelKind::kAuto ? ctw::choose_kernel(p) : kernel);

  std::vector<uint8_t> first = nan_tensor(p.dtype, p.output_elements);
  if (kernel == ctw::KernelKind::kAuto) {
    // No pool: the one-call entry point.
    ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, pr.input.data(), pr.filters.data(), first.data(), nullptr)));
  } else {
    ASSERT_TRUE(IsOk(run_op(*op, pr, first.data(), nullptr)));
  }
  ASSERT_TRUE(outputs_close(pr, e, first, &ref, "fast (no pool) vs reference"));

  // Pools of 1, 2 and 3 threads: filters packed once, the operator reshaped
  // for each thread count and reused; the same bits.
  for (int threads = 1; threads <= 3; ++threads) {
    std::vector<uint8_t> out = nan_tensor(p.dtype, p.output_elements);
    ASSERT_TRUE(IsOk(run_op(*op, pr, out.data(), pool_of(threads))));
    ASSERT_TRUE(out == first) << "pool of " << threads << " threads gave other bits than no pool";
  }
  if (kernel == ctw::KernelKind::kAuto) {
    // The one-call form with a pool too.
    std::vector<uint8_t> out = nan_tensor(p.dtype, p.output_elements);
    ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, pr.input.data(), pr.filters.data(), out.data(), pool_of(2))));
    ASSERT_TRUE(out == first) << "conv_transpose with a pool of 2 differs from no pool";
  }
}

// Runs the reference and every fast kernel that can serve the plan, and checks them.
void check_problem(const Problem& pr) {
  const ConvTransposePlan& p = pr.plan;
  SCOPED_TRACE(pr.spec.describe());
  const Expected e = gather(pr);
  std::vector<uint8_t> ref = nan_tensor(p.dtype, p.output_elements);
  ctw::conv_transpose_reference(p, pr.input.data(), pr.filters.data(), ref.data());
  ASSERT_TRUE(outputs_close(pr, e, ref, nullptr, "reference vs gather"));
  for (ctw::KernelKind k : kernels_for(p)) {
    check_kernel(pr, e, ref, k);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void check_spec(const Spec& sp, uint64_t seed) {
  Rng rng(seed);
  Problem pr;
  ASSERT_TRUE(make_problem(sp, rng, &pr, false));
  check_problem(pr);
}

// Fills sp.out with the smallest legal size per dim (or a random legal one).
void choose_output(Spec* sp, Rng* rng = nullptr) {
  sp->out.resize(static_cast<size_t>(sp->n));
  for (int j = 0; j < sp->n; ++j) {
    int64_t lo, hi;
    legal_range(*sp, j, &lo, &hi);
    sp->out[j] = rng ? rng->range(lo, hi) : lo;
  }
}

Spec make_spec(int n, bool cf, DType t, int64_t batch, int64_t cin, int64_t cout, V in, V k, V s, V d,
               const std::string& padding, V out = {}) {
  Spec sp;
  sp.n = n;
  sp.channels_first = cf;
  sp.dtype = t;
  sp.batch = batch;
  sp.cin = cin;
  sp.cout = cout;
  sp.in = in;
  sp.k = k;
  sp.s = s;
  sp.d = d;
  sp.padding = padding;
  sp.pad_before.assign(static_cast<size_t>(n), 0);  // EXPLICIT callers set them, then choose_output again
  sp.pad_after.assign(static_cast<size_t>(n), 0);
  sp.out = out;
  if (sp.out.empty()) choose_output(&sp);
  return sp;
}

// ---------------------------------------------------------------------------
// Random plans
// ---------------------------------------------------------------------------

int64_t prod(const V& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// The fast kernels run single-threaded below 32768 multiply-adds
// (kMinMacsForThreads), so `large` cases sit above that for the pools to be used.
constexpr int64_t kThreadingMacs = 32768;

int64_t macs_of(const Spec& sp) { return sp.batch * prod(sp.in) * prod(sp.k) * sp.cin * sp.cout; }

Spec random_spec(Rng& rng, int n, DType t, bool large) {
  static const std::vector<int64_t> kChannels = {1, 3, 4, 5, 8, 9, 17};
  const int64_t max_in = n == 1 ? (large ? 48 : 16) : n == 2 ? 8 : 4;
  const int64_t max_k = n == 1 ? 6 : n == 2 ? 4 : 3;
  for (;;) {
    Spec sp;
    sp.n = n;
    sp.dtype = t;
    sp.channels_first = rng.coin();
    sp.batch = rng.range(1, 3);
    sp.cin = rng.pick(kChannels);
    sp.cout = rng.pick(kChannels);
    const int mode = static_cast<int>(rng.range(0, 2));
    sp.padding = mode == 0 ? "SAME" : mode == 1 ? "VALID" : "EXPLICIT";
    bool ok = true;
    for (int j = 0; j < n; ++j) {
      sp.in.push_back(rng.range(1, max_in));
      sp.k.push_back(rng.range(1, max_k));
      sp.s.push_back(rng.range(1, 4));
      sp.d.push_back(rng.range(1, 3));
      sp.pad_before.push_back(mode == 2 ? rng.range(0, 3) : 0);
      sp.pad_after.push_back(mode == 2 ? rng.range(0, 3) : 0);
      int64_t lo, hi;
      legal_range(sp, j, &lo, &hi);
      ok = ok && hi >= 0;
    }
    if (!ok) continue;
    choose_output(&sp, &rng);
    // Keep the multiply-adds (reference and gather alike) small.
    const int64_t macs = macs_of(sp);
    if (large ? macs < 2 * kThreadingMacs || macs > 150000 : macs > 40000) continue;
    return sp;
  }
}

class RandomPlans : public ::testing::TestWithParam<std::tuple<DType, int>> {};

TEST_P(RandomPlans, FastMatchesReference) {
  const DType t = std::get<0>(GetParam());
  const int n = std::get<1>(GetParam());
  Rng rng(1000 + 10 * static_cast<int>(t) + n);
  for (int c = 0; c < 50; ++c) {
    const Spec sp = random_spec(rng, n, t, c % 3 == 0);
    Problem pr;
    ASSERT_TRUE(make_problem(sp, rng, &pr));
    check_problem(pr);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernel, RandomPlans,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes), ::testing::Values(1, 2, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<DType, int>>& info) {
                           return std::string(ctw::dtype_name(std::get<0>(info.param))) + "_N" +
                                  std::to_string(std::get<1>(info.param));
                         });

// ---------------------------------------------------------------------------
// Targeted shapes
// ---------------------------------------------------------------------------

// Input channels beyond the igemm kernel's K block: one tap's channels are
// cut into several K slices that accumulate into the output.
TEST(Kernel, InputChannelsBeyondKBlock) {
  const int64_t kb = ctw::kIgemmKBlock;
  // Cin kb + 44 and Cout 70: two K slices, 9 (float32) or 18 (float64) NR blocks.
  check_spec(make_spec(2, false, DType::kFloat32, 1, kb + 44, 70, {4, 5}, {3, 3}, {2, 2}, {1, 1}, "SAME"), 1);
  check_spec(make_spec(2, true, DType::kFloat64, 1, kb + 44, 70, {3, 4}, {2, 3}, {1, 2}, {1, 1}, "VALID"), 2);
  check_spec(make_spec(1, false, DType::kBFloat16, 2, kb + 44, 9, {9}, {3}, {2}, {2}, "SAME"), 3);
  check_spec(make_spec(1, true, DType::kFloat16, 1, kb + 44, 5, {7}, {4}, {3}, {1}, "VALID"), 4);
  // At and around the K block size, and two full blocks.
  for (int64_t cin : {kb - 1, kb, kb + 1, 2 * kb, 2 * kb + 1}) {
    check_spec(make_spec(1, cin % 2 == 1, DType::kFloat32, 1, cin, 9, {6}, {3}, {2}, {1}, "SAME"), 10 + cin);
  }
  // Whole taps of fewer channels that fill a K block unevenly (3 taps of kb / 2 + 1).
  check_spec(make_spec(1, false, DType::kFloat32, 1, kb / 2 + 1, 3, {5}, {3}, {1}, {1}, "SAME"), 20);
}

// Output channels in several NR blocks and several channel-block work items,
// with a partial last block.
TEST(Kernel, OutputChannelBlocks) {
  for (DType t : kAllTypes) {
    for (int64_t cout : {7, 8, 9, 17, 63, 64, 65, 70, 129}) {
      check_spec(make_spec(2, cout % 2 == 0, t, 1, 3, cout, {3, 4}, {2, 2}, {2, 1}, {1, 1}, "SAME"),
                 100 + cout);
    }
  }
}

// More output pixels per phase than one work item takes (64).
TEST(Kernel, ManyPixelsSeveralWorkItems) {
  for (DType t : kAllTypes) {
    check_spec(make_spec(2, false, t, 3, 4, 5, {20, 20}, {3, 3}, {1, 1}, {1, 1}, "SAME"), 200);
    check_spec(make_spec(2, true, t, 2, 3, 9, {12, 13}, {3, 2}, {2, 2}, {1, 1}, "VALID"), 201);
    check_spec(make_spec(3, false, t, 1, 2, 3, {5, 6, 6}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, "SAME"), 202);
    check_spec(make_spec(1, true, t, 2, 5, 4, {300}, {5}, {3}, {1}, "SAME"), 203);
  }
}

// Kernels smaller than the stride: phases no tap reaches must be exactly 0.
TEST(Kernel, KernelSmallerThanStrideGivesExactZeros) {
  for (DType t : kAllTypes) {
    const std::vector<Spec> specs = {
        make_spec(1, false, t, 2, 3, 4, {7}, {1}, {3}, {1}, "VALID"),
        make_spec(1, true, t, 1, 3, 4, {7}, {2}, {4}, {1}, "SAME"),
        make_spec(2, false, t, 1, 5, 3, {4, 5}, {1, 2}, {3, 4}, {1, 1}, "SAME", {12, 20}),
        make_spec(2, true, t, 2, 4, 9, {5, 3}, {2, 1}, {3, 2}, {1, 1}, "VALID", {15, 6}),
        make_spec(3, false, t, 1, 3, 2, {2, 3, 3}, {1, 2, 1}, {2, 3, 4}, {1, 1, 1}, "SAME", {4, 9, 12}),
    };
    for (const Spec& sp : specs) {
      Rng rng(300);
      Problem pr;
      ASSERT_TRUE(make_problem(sp, rng, &pr, false));
      const Expected e = gather(pr);
      int64_t zeros = 0;
      for (int64_t x : e.terms) zeros += x == 0;
      EXPECT_GT(zeros, 0) << "the case should have unreached outputs: " << sp.describe();
      check_problem(pr);
    }
  }
  // Explicit padding that crops past the reached outputs, with a dilation.
  Spec sp = make_spec(1, false, DType::kFloat32, 1, 2, 3, {5}, {2}, {4}, {3}, "EXPLICIT");
  sp.pad_before = {2};
  sp.pad_after = {1};
  choose_output(&sp);
  check_spec(sp, 301);
}

// A dilation that is a multiple of the stride puts every tap in one phase.
TEST(Kernel, DilationMultipleOfStride) {
  for (DType t : kAllTypes) {
    check_spec(make_spec(1, false, t, 1, 3, 5, {6}, {3}, {2}, {2}, "VALID"), 400);
    check_spec(make_spec(2, true, t, 2, 4, 3, {4, 4}, {3, 2}, {3, 2}, {3, 2}, "SAME"), 401);
    check_spec(make_spec(2, false, t, 1, 2, 2, {3, 3}, {2, 3}, {2, 2}, {4, 3}, "VALID"), 402);
  }
}

// More taps x channels in one phase than one K block takes: the taps are
// cut into blocks that accumulate.
TEST(Kernel, ManyTapsTapBlocks) {
  const int64_t kb = ctw::kIgemmKBlock;
  // 343 taps (7 x 7 x 7), 1600 taps (40 x 40) or kb + 44 taps of 1 channel, over one K block.
  check_spec(make_spec(3, false, DType::kFloat32, 1, kb / 343 + 1, 3, {3, 3, 3}, {7, 7, 7}, {1, 1, 1}, {1, 1, 1}, "VALID"), 500);
  check_spec(make_spec(3, true, DType::kFloat64, 1, kb / 343 + 2, 5, {2, 3, 2}, {7, 7, 7}, {1, 1, 1}, {1, 1, 1}, "SAME"), 501);
  check_spec(make_spec(1, false, DType::kFloat16, 1, 1, 2, {10}, {kb + 44}, {1}, {1}, "VALID"), 502);
  check_spec(make_spec(2, false, DType::kBFloat16, 1, kb / 1600 + 1, 4, {4, 4}, {40, 40}, {1, 1}, {1, 1}, "SAME"), 503);
}

// Large explicit padding (crop) and SAME with an even kernel.
TEST(Kernel, ExplicitPaddingCrops) {
  for (DType t : kAllTypes) {
    Spec sp = make_spec(2, t == DType::kFloat64, t, 2, 3, 4, {5, 6}, {4, 3}, {2, 3}, {1, 2}, "EXPLICIT");
    sp.pad_before = {3, 0};
    sp.pad_after = {1, 4};
    choose_output(&sp);
    check_spec(sp, 600);
    Spec three = make_spec(3, true, t, 1, 2, 3, {3, 2, 4}, {2, 3, 2}, {2, 1, 3}, {2, 1, 1}, "EXPLICIT");
    three.pad_before = {1, 2, 0};
    three.pad_after = {2, 0, 1};
    choose_output(&three);
    check_spec(three, 601);
  }
}

// 1 to 4 output channels: two kernels besides the channel-lane igemm, each
// run on every narrow plan (check_problem forces each kernel in turn):
//   - input channels in lanes (dot_kernel.cc): channels padded to the vector
//     width (a copy of the input when they are not a multiple of it, or the
//     input is channels first or 16-bit), tiles of a few pixels whose rows
//     start and end inside or outside each tap's reach;
//   - pixels in lanes (pixel_kernel.cc): zero-padded planar rows, tiles
//     masked at the edges of each tap's reach.
// Work items own stretches of output rows (at least 512 columns) across phases.
TEST(Kernel, NarrowOutputChannels) {
  for (DType t : kAllTypes) {
    for (int64_t cout = 1; cout <= 4; ++cout) {
      for (int64_t cin : {1, 3, 4, 5, 17, 64}) {
        const uint64_t seed = 2000 + 100 * static_cast<uint64_t>(t) + 10 * static_cast<uint64_t>(cout) +
                              static_cast<uint64_t>(cin);
        std::vector<Spec> specs = {
            // Several width segments (1100 > 2 * 512) in one phase.
            make_spec(1, false, t, 1, cin, cout, {1100}, {4}, {1}, {1}, "SAME"),
            // Stride and dilation, channels first, widths not a multiple of any tile.
            make_spec(1, true, t, 2, cin, cout, {61}, {5}, {3}, {2}, "VALID"),
            make_spec(2, false, t, 2, cin, cout, {7, 11}, {3, 3}, {2, 2}, {1, 1}, "SAME"),
            make_spec(2, true, t, 1, cin, cout, {5, 9}, {5, 4}, {3, 2}, {1, 2}, "VALID"),
            make_spec(3, cin % 2 == 0, t, 1, cin, cout, {2, 3, 4}, {2, 2, 3}, {2, 1, 3}, {1, 2, 1}, "SAME"),
            // Kernel smaller than the stride; a long 1-D filter with stride 8 (signal interpolation).
            make_spec(2, false, t, 1, cin, cout, {4, 5}, {1, 2}, {3, 4}, {1, 1}, "VALID"),
            make_spec(1, cout % 2 == 0, t, 1, cin, cout, {90}, {32}, {8}, {1}, "SAME"),
            // kDotMaxRowRuns and one more runs of width taps per phase row: the
            // dot kernel sets up at most that many once per row for its inner
            // tiles (more: every tile takes the edge path).
            make_spec(2, false, t, 1, cin, cout, {18, 13}, {ctw::kDotMaxRowRuns, 3}, {1, 2}, {1, 1}, "SAME"),
            make_spec(2, false, t, 1, cin, cout, {18, 13}, {ctw::kDotMaxRowRuns + 1, 5}, {1, 2}, {1, 1}, "VALID"),
        };
        Spec three = make_spec(3, cout % 2 == 1, t, 1, cin, cout, {3, 4, 5}, {2, 3, 2}, {1, 2, 3}, {1, 1, 2}, "EXPLICIT");
        three.pad_before = {0, 2, 1};
        three.pad_after = {1, 1, 3};
        choose_output(&three);
        specs.push_back(three);
        for (size_t i = 0; i < specs.size(); ++i) {
          check_spec(specs[i], seed + i);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

// The pixel kernel's planar copy of a channels-last input: 16-bit values are
// widened up to kPlanarWidenBlock elements (whole pixels) at a time, and
// element by element when a pixel has more channels than a block holds.
// Widths of several blocks (with 7 channels the last block short), blocks
// of one pixel, and more channels than a block.
TEST(Kernel, PlanarCopyOfChannelsLastInput) {
  const int64_t block = ctw::kPlanarWidenBlock;
  for (DType t : kAllTypes) {
    for (int64_t cin : {int64_t{7}, block / 2 + 1, block, block + 3}) {
      const int64_t width = 2 * block / cin + 3;  // more pixels than two blocks hold
      const uint64_t seed = 7000 + 10 * static_cast<uint64_t>(t) + static_cast<uint64_t>(cin);
      check_spec(make_spec(1, false, t, 1, cin, 2, {width}, {3}, {2}, {1}, "SAME"), seed);
      if (HasFatalFailure()) return;
      check_spec(make_spec(2, false, t, 2, cin, 1, {2, width}, {2, 2}, {1, 3}, {1, 1}, "VALID"), seed + 1);
      if (HasFatalFailure()) return;
    }
  }
}

// Width kernels a multiple of the width stride: the output-column kernel
// (kernels/columns.cc), run on each plan with every other kernel that serves
// it. Macro pixels (s output columns) whose input window passes an end of
// the input row (the edge path), padding that is not a multiple of the
// stride (macro pixels cut by the output's ends), inputs narrower than a
// window, filter rows (kd, kh) not evenly spaced (3-D), several blocks of
// (column, channel) values, channels first.
TEST(Kernel, ColumnsKernel) {
  for (DType t : kAllTypes) {
    const uint64_t seed = 3300 + 100 * static_cast<uint64_t>(t);
    std::vector<Spec> specs = {
        // A signal interpolation filter: 64 taps, stride 8, SAME pads 28 on the left.
        make_spec(1, false, t, 1, 1, 1, {300}, {64}, {8}, {1}, "SAME"),
        make_spec(1, true, t, 2, 3, 2, {50}, {16}, {4}, {1}, "VALID"),
        // Windows of 8 macro taps on a 3-pixel input.
        make_spec(1, false, t, 1, 2, 1, {3}, {32}, {4}, {1}, "SAME"),
        make_spec(2, false, t, 1, 64, 3, {9, 13}, {4, 4}, {2, 2}, {1, 1}, "SAME"),
        make_spec(2, true, t, 2, 5, 4, {6, 7}, {3, 4}, {2, 2}, {2, 1}, "SAME"),
        // Nine output channels: 18 values per macro pixel, several blocks.
        make_spec(2, false, t, 1, 4, 9, {5, 6}, {4, 4}, {2, 2}, {1, 1}, "VALID"),
        make_spec(3, false, t, 1, 5, 2, {3, 4, 5}, {3, 3, 4}, {2, 2, 2}, {1, 1, 1}, "SAME"),
    };
    Spec explicit_pads = make_spec(2, t == DType::kFloat16, t, 1, 3, 2, {4, 9}, {2, 6}, {1, 3}, {1, 1}, "EXPLICIT");
    explicit_pads.pad_before = {0, 4};
    explicit_pads.pad_after = {1, 5};
    choose_output(&explicit_pads);
    specs.push_back(explicit_pads);
    for (size_t i = 0; i < specs.size(); ++i) {
      Rng rng(seed + i);
      Problem pr;
      ASSERT_TRUE(make_problem(specs[i], rng, &pr, false));
      ASSERT_TRUE(ctw::kernel_serves(ctw::KernelKind::kColumns, pr.plan)) << specs[i].describe();
      check_problem(pr);
      if (HasFatalFailure()) return;
    }
  }
  // A kernel width that is not a multiple of the stride, or dilated, is refused by name.
  for (const Spec& sp : {make_spec(1, false, DType::kFloat32, 1, 2, 1, {10}, {5}, {2}, {1}, "SAME"),
                         make_spec(1, false, DType::kFloat32, 1, 2, 1, {10}, {4}, {2}, {2}, "SAME"),
                         make_spec(1, false, DType::kFloat32, 1, 2, 1, {10}, {4}, {1}, {1}, "SAME")}) {
    Rng rng(3390);
    Problem pr;
    ASSERT_TRUE(make_problem(sp, rng, &pr, false));
    std::unique_ptr<ctw::ConvTransposeOp> op;
    EXPECT_TRUE(ctw_test::IsErrorWith(
        ctw::ConvTransposeOp::create(ctw::filter_args(pr.args), ctw::KernelKind::kColumns, &op),
        {"kernel='columns' serves filters whose width is a multiple of the width stride"}));
    EXPECT_EQ(op, nullptr);
  }
}

// The automatic choice: output-channel lanes above 4 output channels; below,
// pixel lanes from few input channels and input-channel lanes from many. A
// forced narrow kernel refuses a wide output.
TEST(Kernel, KernelChoice) {
  auto plan_for = [](int64_t cin, int64_t cout) {
    Rng rng(3000);
    Problem pr;
    EXPECT_TRUE(make_problem(make_spec(2, false, DType::kFloat32, 1, cin, cout, {3, 3}, {2, 2}, {2, 2}, {1, 1}, "SAME"),
                             rng, &pr, false));
    return pr;
  };
  for (int64_t cout = 1; cout <= 4; ++cout) {
    EXPECT_EQ(ctw::choose_kernel(plan_for(1, cout).plan), ctw::KernelKind::kPixels) << cout;
    EXPECT_EQ(ctw::choose_kernel(plan_for(3, cout).plan), ctw::KernelKind::kPixels) << cout;
    EXPECT_EQ(ctw::choose_kernel(plan_for(64, cout).plan), ctw::KernelKind::kDot) << cout;
  }
  for (int64_t cin : {1, 3, 64}) EXPECT_EQ(ctw::choose_kernel(plan_for(cin, 5).plan), ctw::KernelKind::kIgemm);
  // A 1-D filter whose width is a multiple of its stride: output-column lanes
  // when stride x output channels fill two vectors and K = taps per phase x
  // input channels is at least 4; 2-D filters keep the other kernels.
  auto plan_1d = [](int64_t cin, int64_t cout, int64_t k, int64_t s) {
    Rng rng(3001);
    Problem pr;
    EXPECT_TRUE(make_problem(make_spec(1, false, DType::kFloat32, 1, cin, cout, {40}, {k}, {s}, {1}, "SAME"), rng, &pr, false));
    return pr;
  };
  EXPECT_EQ(ctw::choose_kernel(plan_1d(1, 1, 64, 8).plan), ctw::KernelKind::kColumns);
  EXPECT_EQ(ctw::choose_kernel(plan_1d(64, 1, 16, 8).plan), ctw::KernelKind::kColumns);
  EXPECT_EQ(ctw::choose_kernel(plan_1d(17, 2, 8, 4).plan), ctw::KernelKind::kColumns);
  EXPECT_NE(ctw::choose_kernel(plan_1d(1, 1, 16, 8).plan), ctw::KernelKind::kColumns);  // K = 2
  EXPECT_NE(ctw::choose_kernel(plan_1d(1, 1, 32, 4).plan), ctw::KernelKind::kColumns);  // 4 values
  EXPECT_NE(ctw::choose_kernel(plan_1d(1, 1, 20, 8).plan), ctw::KernelKind::kColumns);  // 20 % 8 != 0
  EXPECT_EQ(ctw::choose_kernel(plan_1d(64, 9, 16, 8).plan), ctw::KernelKind::kIgemm);
  {
    Rng rng(3002);
    Problem pr;
    ASSERT_TRUE(make_problem(make_spec(2, false, DType::kFloat32, 1, 64, 4, {8, 8}, {4, 4}, {2, 2}, {1, 1}, "SAME"), rng, &pr, false));
    EXPECT_EQ(ctw::choose_kernel(pr.plan), ctw::KernelKind::kDot);
  }
  const Problem wide = plan_for(8, 5);
  for (ctw::KernelKind k : {ctw::KernelKind::kDot, ctw::KernelKind::kPixels}) {
    std::unique_ptr<ctw::ConvTransposeOp> op;
    EXPECT_TRUE(ctw_test::IsErrorWith(ctw::ConvTransposeOp::create(ctw::filter_args(wide.args), k, &op),
                                      {"serves 1 to 4 output channels; the filters have 5"}));
  }
}

// Inputs large enough that the copy into the kernel's layout is split into
// several work items on the pool (channels first, 16-bit, padded channels).
TEST(Kernel, InputCopiedOnThePool) {
  check_spec(make_spec(2, true, DType::kFloat32, 2, 6, 9, {40, 48}, {3, 3}, {2, 2}, {1, 1}, "SAME"), 3100);
  check_spec(make_spec(2, false, DType::kFloat16, 1, 12, 3, {50, 40}, {2, 2}, {2, 2}, {1, 1}, "VALID"), 3101);
  check_spec(make_spec(2, true, DType::kBFloat16, 1, 2, 2, {60, 70}, {3, 3}, {1, 1}, {1, 1}, "SAME"), 3102);
  check_spec(make_spec(1, false, DType::kFloat64, 3, 5, 1, {4000}, {4}, {2}, {1}, "SAME"), 3103);
}

// Non-finite weights in the corner taps: outputs that no such tap reaches
// (borders cut off by SAME padding among them) must stay finite and close
// to the gather; outputs it reaches get TensorFlow's Inf / NaN. A kernel
// that multiplied padding by the weight (0 * Inf) would put NaN at the borders.
TEST(Kernel, NonFiniteWeightsStayOutOfUnreachedOutputs) {
  struct Window {
    int64_t k, s;
  };
  // Kernels wider than the stride, so that the corner taps fall outside the
  // input for the outputs near every edge.
  const Window windows[] = {{3, 1}, {5, 2}, {4, 3}, {4, 2}};  // {4, 2}: the columns kernel too
  for (DType t : kAllTypes) {
    for (int64_t cin : {2, 5, 8}) {  // every kernel that serves the plan runs (padded channels and not)
      for (int64_t cout : {1, 3, 4, 6}) {
        for (const Window& win : windows) {
          const bool cf = (cin + cout + win.k) % 2 == 1;
          const Spec sp = make_spec(2, cf, t, 1, cin, cout, {6, 9}, {win.k, win.k}, {win.s, win.s}, {1, 1}, "SAME");
          Rng rng(3200 + static_cast<uint64_t>(cin * 100 + cout * 10 + win.k));
          Problem pr;
          ASSERT_TRUE(make_problem(sp, rng, &pr, false));
          // +Inf at the first tap, -Inf at the last, for output channel 0 and input channel 0.
          const int64_t last_tap = win.k * win.k - 1;
          store(t, pr.filters, 0, INFINITY);
          store(t, pr.filters, static_cast<size_t>(last_tap * cout * cin), -INFINITY);
          const ConvTransposePlan& p = pr.plan;
          std::vector<uint8_t> ref = nan_tensor(t, p.output_elements);
          ctw::conv_transpose_reference(p, pr.input.data(), pr.filters.data(), ref.data());
          for (ctw::KernelKind kernel : kernels_for(p)) {
            ctw::Status st;
            std::unique_ptr<ctw::ConvTransposeOp> op = make_op(pr, pr.filters, kernel, nullptr, &st);
            ASSERT_TRUE(op != nullptr) << st.message();
            std::vector<uint8_t> got = nan_tensor(t, p.output_elements);
            ASSERT_TRUE(IsOk(run_op(*op, pr, got.data(), pool_of(2))));
            int finite = 0, infinite = 0, bad = 0;
            for (size_t i = 0; i < static_cast<size_t>(p.output_elements); ++i) {
              const double r = load(t, ref, i), g = load(t, got, i);
              if (std::isnan(r)) {
                bad += !std::isnan(g);
              } else if (std::isinf(r)) {
                ++infinite;
                bad += g != r;
              } else {
                ++finite;
                bad += !std::isfinite(g) || std::fabs(g - r) > 1e-2 * (1 + std::fabs(r));
              }
            }
            EXPECT_EQ(bad, 0) << sp.describe() << " (kernel " << ctw::kernel_name(kernel) << ")";
            EXPECT_GT(finite, 0);
            EXPECT_GT(infinite, 0) << "the planted infinities should reach some outputs";
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Zero sizes
// ---------------------------------------------------------------------------

void expect_all_zero(DType t, const std::vector<uint8_t>& out, const std::string& what) {
  const size_t n = out.size() / dsize(t);
  int bad = 0;
  for (size_t i = 0; i < n; ++i) bad += load(t, out, i) != 0;  // NaN != 0 too
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << n << " elements are not 0";
}

TEST(Kernel, ZeroBatchOrOutputChannels) {
  for (DType t : kAllTypes) {
    for (bool cf : {false, true}) {
      ConvTransposePlan p;
      // Batch 0.
      ConvTransposeArgs a = to_args(make_spec(2, cf, t, 0, 3, 4, {3, 3}, {3, 3}, {2, 2}, {1, 1}, "SAME"));
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.output_elements, 0);
      std::vector<uint8_t> filters(static_cast<size_t>(p.filter_elements) * dsize(t), 0);
      uint8_t sentinel[16] = {0};
      EXPECT_TRUE(IsOk(ctw::conv_transpose("", p, sentinel, filters.data(), sentinel, pool_of(2))));
      ctw::conv_transpose_reference(p, sentinel, filters.data(), sentinel);
      // Output channels 0.
      a = to_args(make_spec(2, cf, t, 2, 3, 0, {3, 3}, {3, 3}, {2, 2}, {1, 1}, "SAME"));
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.output_elements, 0);
      std::vector<uint8_t> input(static_cast<size_t>(p.input_elements) * dsize(t), 0);
      EXPECT_TRUE(IsOk(ctw::conv_transpose("", p, input.data(), sentinel, sentinel, nullptr)));
    }
  }
}

TEST(Kernel, ZeroInputChannelsGiveZeros) {
  for (DType t : kAllTypes)
  for (int64_t cout : {2, 5}) {  // the narrow and the wide kernel
    for (bool cf : {false, true}) {
      ConvTransposePlan p;
      ConvTransposeArgs a = to_args(make_spec(2, cf, t, 2, 0, cout, {4, 3}, {3, 2}, {2, 2}, {1, 1}, "VALID"));
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.input_elements, 0);
      ASSERT_EQ(p.filter_elements, 0);
      ASSERT_GT(p.output_elements, 0);
      // Zero-element tensors given as valid (non-null) pointers.
      uint8_t dummy[16] = {0};
      for (int threads = 0; threads <= 3; ++threads) {
        std::vector<uint8_t> out = nan_tensor(t, p.output_elements);
        ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, dummy, dummy, out.data(), threads ? pool_of(threads) : nullptr)));
        expect_all_zero(t, out, std::string("cin 0, ") + ctw::dtype_name(t) + (cf ? " NCHW" : " NHWC"));
      }
      std::vector<uint8_t> ref = nan_tensor(t, p.output_elements);
      ctw::conv_transpose_reference(p, dummy, dummy, ref.data());
      expect_all_zero(t, ref, "reference, cin 0");
    }
  }
}

// A spatial input size of 0 is legal (VALID, k 5, s 2: output 2..4, see
// plan_test.cc) and nothing reaches the output.
TEST(Kernel, ZeroInputWidthGivesZeros) {
  for (DType t : kAllTypes)
  for (int64_t cout : {4, 7}) {  // the narrow and the wide kernel
    for (bool cf : {false, true}) {
      ConvTransposeArgs a = to_args(make_spec(1, cf, t, 2, 3, cout, {0}, {5}, {2}, {1}, "VALID", {3}));
      ConvTransposePlan p;
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      ASSERT_EQ(p.input_elements, 0);
      Rng rng(7);
      std::vector<uint8_t> filters = random_tensor(t, p.filter_elements, rng);
      uint8_t dummy[16] = {0};
      std::vector<uint8_t> out = nan_tensor(t, p.output_elements);
      ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, dummy, filters.data(), out.data(), pool_of(3))));
      expect_all_zero(t, out, "input width 0");
    }
  }
}

// A zero-element input may arrive as a null pointer (an empty buffer); the
// kernel must not read it and must not report that as a failure.
TEST(Kernel, ZeroElementInputAsNullPointer) {
  for (DType t : kAllTypes)
  for (int64_t cout : {3, 6}) {  // the narrow and the wide kernel
    for (bool cf : {false, true}) {
      ConvTransposeArgs a = to_args(make_spec(2, cf, t, 1, 0, cout, {3, 3}, {2, 2}, {2, 2}, {1, 1}, "SAME"));
      ConvTransposePlan p;
      ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(a, &p)));
      std::vector<uint8_t> out = nan_tensor(t, p.output_elements);
      EXPECT_TRUE(IsOk(ctw::conv_transpose("", p, nullptr, nullptr, out.data(), nullptr)))
          << ctw::dtype_name(t) << (cf ? " channels first" : " channels last") << ", " << cout << " output channels";
      expect_all_zero(t, out, "null zero-element input");
    }
  }
}

// Strides far larger than the tensors are legal (SAME, input 1: output 1);
// the work and memory must follow the tensors, not the product of the strides.
TEST(Kernel, TinyProblemWithHugeStrides) {
  const int64_t s = int64_t{1} << 20;  // up to 2^60 stride phases in 3-D
  for (DType t : kAllTypes)
    for (int64_t cout : {1, 5})  // the narrow and the wide kernel
      for (int n = 1; n <= 3; ++n) {
        const V ones(static_cast<size_t>(n), 1), strides(static_cast<size_t>(n), s);
        // SAME, input 1: output 1 (in [1, s]); VALID, input 1, kernel 2: output in [2, s + 1].
        Spec same = make_spec(n, cout == 1, t, 2, 3, cout, ones, ones, strides, ones, "SAME", ones);
        check_spec(same, 950 + n);
        Spec valid = make_spec(n, false, t, 1, 2, cout, ones, V(static_cast<size_t>(n), 2), strides, ones, "VALID",
                               V(static_cast<size_t>(n), 2));
        check_spec(valid, 960 + n);
        ConvTransposePlan p;
        ASSERT_TRUE(IsOk(ctw::plan_conv_transpose(to_args(same), &p)));
        EXPECT_LT(ctw::one_call_bytes(p, 3).total(), uint64_t{1} << 24) << same.describe();
      }
}

// ---------------------------------------------------------------------------
// Packed filters across plans
// ---------------------------------------------------------------------------

TEST(Kernel, PackedFiltersReusedAcrossPlans) {
  for (DType t : kAllTypes)
  for (int64_t cout : {6, 2}) {  // the wide (igemm) and the narrow kernel
    // Same filters (3x3, 4 -> cout channels), strides (2, 3), dilations (1, 2)
    // and data format for one operator; different batch, input/output sizes.
    const std::vector<Spec> specs = {
        make_spec(2, false, t, 1, 4, cout, {5, 6}, {3, 3}, {2, 3}, {1, 2}, "SAME"),
        make_spec(2, false, t, 2, 4, cout, {3, 9}, {3, 3}, {2, 3}, {1, 2}, "SAME"),
        make_spec(2, false, t, 3, 4, cout, {7, 2}, {3, 3}, {2, 3}, {1, 2}, "SAME", {13, 5}),
        make_spec(2, false, t, 2, 4, cout, {30, 40}, {3, 3}, {2, 3}, {1, 2}, "SAME"),  // threaded
        make_spec(2, false, t, 1, 4, cout, {5, 6}, {3, 3}, {2, 3}, {1, 2}, "SAME"),     // the first shapes again
    };
    Rng rng(700);
    Problem first;
    ASSERT_TRUE(make_problem(specs[0], rng, &first, false));
    ctw::Status st;
    std::unique_ptr<ctw::ConvTransposeOp> op = make_op(first, first.filters, ctw::KernelKind::kAuto, nullptr, &st);
    ASSERT_TRUE(op != nullptr) << st.message();
    for (size_t i = 0; i < specs.size(); ++i) {
      Problem pr;
      ASSERT_TRUE(make_problem(specs[i], rng, &pr, false));
      pr.filters = first.filters;  // the same filters
      const Expected e = gather(pr);
      std::vector<uint8_t> ref = nan_tensor(t, pr.plan.output_elements);
      ctw::conv_transpose_reference(pr.plan, pr.input.data(), pr.filters.data(), ref.data());
      for (int threads = 0; threads <= 2; ++threads) {
        std::vector<uint8_t> out = nan_tensor(t, pr.plan.output_elements);
        ASSERT_TRUE(IsOk(run_op(*op, pr, out.data(), threads ? pool_of(threads) : nullptr)));
        EXPECT_EQ(op->plan().output_shape, pr.args.output_shape);
        EXPECT_TRUE(outputs_close(pr, e, out, &ref, "operator reshaped for new shapes vs reference"));
      }
    }
  }
}

// An operator's reshape plans with its own filters and window options, so a
// call whose shapes do not fit them (other input channels, another dtype,
// an output size the stride does not allow) fails with the rule's message,
// and the operator still runs its next good call.
TEST(Kernel, ReshapeChecksShapesAgainstTheOperatorsFilters) {
  Rng rng(800);
  const Spec base = make_spec(2, false, DType::kFloat32, 1, 4, 6, {5, 6}, {3, 3}, {2, 3}, {1, 2}, "SAME");
  Problem pr;
  ASSERT_TRUE(make_problem(base, rng, &pr, false));
  ctw::Status st;
  std::unique_ptr<ctw::ConvTransposeOp> op = make_op(pr, pr.filters, ctw::KernelKind::kAuto, nullptr, &st);
  ASSERT_TRUE(op != nullptr) << st.message();
  EXPECT_TRUE(ctw_test::IsErrorWith(op->reshape({1, 5, 6, 5}, {1, 10, 18, 6}, DType::kFloat32, 0, 1),
                                    {"input channels", "[1, 5, 6, 5]"}));
  EXPECT_TRUE(ctw_test::IsErrorWith(op->reshape({1, 5, 6, 4}, {1, 10, 18, 6}, DType::kFloat64, 0, 1),
                                    {"dtype", "float64", "float32"}));
  EXPECT_TRUE(ctw_test::IsErrorWith(op->reshape({1, 5, 6, 4}, {1, 12, 18, 6}, DType::kFloat32, 0, 1),
                                    {"output_shape", "[1, 12, 18, 6]"}));
  std::vector<uint8_t> out(static_cast<size_t>(pr.plan.output_elements) * dsize(DType::kFloat32));
  EXPECT_TRUE(ctw_test::IsErrorWith(op->run(pr.input.data(), out.data(), nullptr), {"reshape"}, "conv_transpose: ",
                                    ctw::StatusCode::kInternal))
      << "a run after a failed reshape";
  const Expected e = gather(pr);
  std::vector<uint8_t> ref = nan_tensor(DType::kFloat32, pr.plan.output_elements);
  ctw::conv_transpose_reference(pr.plan, pr.input.data(), pr.filters.data(), ref.data());
  ASSERT_TRUE(IsOk(run_op(*op, pr, out.data(), pool_of(2))));
  EXPECT_TRUE(outputs_close(pr, e, out, &ref, "after failed reshapes"));
}

}  // namespace
