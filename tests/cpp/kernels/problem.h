// Shared by the kernel tests: problems described per spatial dim, random
// data, an independent gather-form sum with per-output error bounds, and
// check_problem, which runs the reference and every fast kernel that can
// serve a plan (chosen and forced, through the operator, on 0-3 threads)
// and holds them to the gather and to each other.
//
// The fast kernels are run as the library runs them (ctw::conv_transpose, the
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
// With groups, output channel co sums only its group's input channels
// (co / (cout / groups) picks the group) and reads filters [k, co mod
// (cout / groups), ci]. With an epilogue the expected value is
// y = act(sum + bias[co]) in double, and the bound on the sum carries
// through the activation's Lipschitz constant L (relu, clamp: 1; leakyRelu,
// elu: max(1, |alpha|); sigmoid 1/4; tanh 1; gelu 1.13; silu 1.1):
//     |fast - ref| <= L * (bound above + u * (|sum| + |bias|)) + E u |y|
//                     (+ one 16-bit ulp),
// the u terms for the float32 bias addition and the activation's own
// evaluation (simd/math.h: exp within 4 ulps; sigmoid, tanh and expm1
// within E = 8; gelu's erfc within E = sum^2 + 16, epilogue_bound.h),
// u = 2^-24 (2^-52 for float64, which evaluates the definitions in double).
//
// Output elements that no (tap, input) pair reaches (n == 0: phases a kernel
// smaller than the stride never touches, borders cut off by padding) must be
// exactly 0 (without an epilogue; with one, act(bias) within 8 u). Outputs are pre-filled with NaN, so an element the kernel never
// writes shows up. Every fast run is repeated with no pool and with pools of 1,
// 2 and 3 threads; the results must be bit-identical, since each output
// element is computed by one work item in an order that does not depend on the
// thread running it.
#pragma once

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

#include "kernels/epilogue_bound.h"
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
  int64_t groups = 1;             // cin and cout are multiples of it
  ctw::EpilogueArgs epilogue;

  std::string describe() const {
    std::ostringstream o;
    o << n << "-D " << (channels_first ? "channels-first" : "channels-last") << " " << ctw::dtype_name(dtype)
      << " batch " << batch << " cin " << cin << " cout " << cout << " in " << ctw_test::list_str(in) << " k "
      << ctw_test::list_str(k) << " s " << ctw_test::list_str(s) << " d " << ctw_test::list_str(d) << " "
      << padding;
    if (padding == "EXPLICIT") o << " " << ctw_test::list_str(pad_before) << "/" << ctw_test::list_str(pad_after);
    o << " out " << ctw_test::list_str(out);
    if (groups != 1) o << " groups " << groups;
    if (!epilogue.identity()) {
      o << " epilogue " << ctw::activation_name(epilogue.activation) << (epilogue.bias ? " + bias" : "");
    }
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
  a.filter_shape.push_back(sp.cout / sp.groups);
  a.filter_shape.push_back(sp.cin);
  a.groups = sp.groups;
  a.epilogue = sp.epilogue;
  a.bias_length = sp.epilogue.bias ? sp.cout : 0;
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
  std::vector<double> bias;  // the epilogue's, when it has one
};

// Plans `sp` (which must be legal) and fills random data.
::testing::AssertionResult make_problem(const Spec& sp, Rng& rng, Problem* pr, bool random_forms = true) {
  pr->spec = sp;
  pr->args = to_args(sp, random_forms ? &rng : nullptr);
  const ctw::Status s = ctw::plan_conv_transpose(pr->args, &pr->plan);
  if (!s.ok()) return ::testing::AssertionFailure() << sp.describe() << ": " << s.message();
  pr->input = random_tensor(sp.dtype, pr->plan.input_elements, rng);
  pr->filters = random_tensor(sp.dtype, pr->plan.filter_elements, rng);
  pr->bias.clear();
  if (sp.epilogue.bias) {
    // Values the dtype holds exactly, so that every kernel starts from the same bias.
    const std::vector<uint8_t> b = random_tensor(sp.dtype, sp.cout, rng);
    for (int64_t c = 0; c < sp.cout; ++c) pr->bias.push_back(load(sp.dtype, b, static_cast<size_t>(c)));
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// The independent gather form
// ---------------------------------------------------------------------------

struct Expected {
  std::vector<double> value, abs_sum;  // value: after the epilogue; abs_sum: of the sum's terms
  std::vector<double> sum;             // before the epilogue (bias added)
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
  e.sum.assign(e.value.size(), 0.0);
  const int64_t cin = p.input_channels, cout = p.output_channels;
  const int64_t cin_g = cin / pr.spec.groups, cout_g = cout / pr.spec.groups;
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
                  const int64_t g = co / cout_g;
                  for (int64_t ci = g * cin_g; ci < (g + 1) * cin_g; ++ci) {
                    const double xw = x[static_cast<size_t>(flat_index(p.channels_first, p.input_size, cin, n, i, ci))] *
                                      w[static_cast<size_t>((tap * cout_g + co % cout_g) * cin + ci)];
                    sum += xw;
                    abs_sum += std::fabs(xw);
                    ++terms;
                  }
                }
            const size_t at = static_cast<size_t>(flat_index(p.channels_first, p.output_size, cout, n, o, co));
            if (pr.spec.epilogue.bias) sum += pr.bias[static_cast<size_t>(co)];
            e.sum[at] = sum;
            e.value[at] = ctw::activate(pr.spec.epilogue, sum);
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

// The bound for element `at` of a problem with an epilogue, from the sum's bound.
double epilogue_tolerance(const Problem& pr, const Expected& e, size_t at, double sum_tol, double a, double b) {
  const DType t = pr.plan.dtype;
  const double u = t == DType::kFloat64 ? std::ldexp(1.0, -52) : std::ldexp(1.0, -24);
  const double bias =
      pr.spec.epilogue.bias ? std::fabs(pr.bias[static_cast<size_t>(pr.plan.output_channel_of(static_cast<int64_t>(at)))])
                            : 0.0;
  double tol = ctw_test::lipschitz(pr.spec.epilogue) * (sum_tol + u * (std::fabs(e.sum[at]) + bias)) +
               ctw_test::evaluation_ulps(pr.spec.epilogue, e.sum[at]) * u * std::fabs(e.value[at]) + 1e-30;
  if (t == DType::kFloat16 || t == DType::kBFloat16) tol += ulp16(t, std::max(std::fabs(a), std::fabs(b)));
  return tol;
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
    const bool epilogue = !pr.spec.epilogue.identity();
    if (std::isnan(g) || std::isnan(w)) {
      ok = false;
    } else if (terms == 0 && !epilogue) {
      ok = g == 0 && w == 0;
    } else {
      tol = terms == 0 ? 0 : tolerance(p.dtype, terms, e.abs_sum[at], g, w);
      if (epilogue) tol = epilogue_tolerance(pr, e, at, tol, g, w);
      // Equal values are close whatever the bound (equal infinities too).
      ok = g == w || std::fabs(g - w) <= tol;
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
  if (status->ok()) *status = op->pack(filters.data(), pr.bias.empty() ? nullptr : pr.bias.data(), pool);
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
  for (ctw::KernelKind k : {ctw::KernelKind::kIgemm, ctw::KernelKind::kDot, ctw::KernelKind::kPixels,
                            ctw::KernelKind::kColumns, ctw::KernelKind::kChannelwise}) {
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
  ASSERT_TRUE(IsOk(run_op(*op, pr, first.data(), nullptr)));
  ASSERT_TRUE(outputs_close(pr, e, first, &ref, "fast (no pool) vs reference"));

  // Pools of 1, 2 and 3 threads: filters packed once, the operator reshaped
  // for each thread count and reused; the same bits.
  for (int threads = 1; threads <= 3; ++threads) {
    std::vector<uint8_t> out = nan_tensor(p.dtype, p.output_elements);
    ASSERT_TRUE(IsOk(run_op(*op, pr, out.data(), pool_of(threads))));
    ASSERT_TRUE(out == first) << "pool of " << threads << " threads gave other bits than no pool";
  }
  if (kernel == ctw::KernelKind::kAuto) {
    // The one-call form (which may choose another kernel: it also knows the
    // input), without and with a pool: close to the reference, the same bits.
    SCOPED_TRACE(std::string("one-call kernel ") + ctw::kernel_name(ctw::choose_one_call_kernel(p)));
    const double* bias = pr.bias.empty() ? nullptr : pr.bias.data();
    std::vector<uint8_t> one = nan_tensor(p.dtype, p.output_elements);
    ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, pr.input.data(), pr.filters.data(), one.data(), nullptr, bias)));
    ASSERT_TRUE(outputs_close(pr, e, one, &ref, "one-call (no pool) vs reference"));
    std::vector<uint8_t> out = nan_tensor(p.dtype, p.output_elements);
    ASSERT_TRUE(IsOk(ctw::conv_transpose("", p, pr.input.data(), pr.filters.data(), out.data(), pool_of(2), bias)));
    ASSERT_TRUE(out == one) << "conv_transpose with a pool of 2 differs from no pool";
  }
}

// Runs the reference and every fast kernel that can serve the plan, and checks them.
void check_problem(const Problem& pr) {
  const ConvTransposePlan& p = pr.plan;
  SCOPED_TRACE(pr.spec.describe());
  const Expected e = gather(pr);
  std::vector<uint8_t> ref = nan_tensor(p.dtype, p.output_elements);
  ctw::conv_transpose_reference(p, pr.input.data(), pr.filters.data(), ref.data(),
                                pr.bias.empty() ? nullptr : pr.bias.data());
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

// Random padding form and window per dim (sizes in [1, max_in], filters in
// [1, max_k], strides [1, max_s], dilations [1, max_d], explicit pads
// [0, max_pad]) and a random legal output size; false when some dim has no
// legal output size (then draw again).
bool random_window(Spec* sp, Rng& rng, int64_t max_in, int64_t max_k, int64_t max_s, int64_t max_d,
                   int64_t max_pad) {
  const int mode = static_cast<int>(rng.range(0, 2));
  sp->padding = mode == 0 ? "SAME" : mode == 1 ? "VALID" : "EXPLICIT";
  for (int j = 0; j < sp->n; ++j) {
    sp->in.push_back(rng.range(1, max_in));
    sp->k.push_back(rng.range(1, max_k));
    sp->s.push_back(rng.range(1, max_s));
    sp->d.push_back(rng.range(1, max_d));
    sp->pad_before.push_back(mode == 2 ? rng.range(0, max_pad) : 0);
    sp->pad_after.push_back(mode == 2 ? rng.range(0, max_pad) : 0);
    int64_t lo, hi;
    legal_range(*sp, j, &lo, &hi);
    if (hi < 0) return false;
  }
  choose_output(sp, &rng);
  return true;
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


}  // namespace
