// Shared by the micro-kernel tests: test values, a double-precision
// reference sum that carries its own error bound, bitwise comparisons, and
// the (element type, output channels) shapes the kernels instantiate.
//
// Bound. Each expected value is a sum of n terms (products x * w and, where
// a kernel adds to an accumulator, the accumulator's first value), computed
// by the kernel in T in some order. Any order of summing n rounded products
// lies within gamma_T(n) * S of the exact sum, S = sum |term| and
// gamma_T(n) = n u / (1 - n u) with u = 2^-24 for float, 2^-53 for double
// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 3.1: each
// term passes through at most one multiply and n - 1 adds). The reference
// sums in double, within gamma_double(n) * S of exact: negligible next to the
// float bound, equal to it for double. So
//
//   |kernel - reference| <= (gamma_T(n) + gamma_double(n)) * S + n * denorm_min(T)
//
// the last term for products that underflow (each within half of T's
// smallest subnormal). The bound is rigorous, and about n^2 * 2^-24 times a
// typical term of the random data (n <= ~100 here), so a dropped or doubled
// term shows.
//
// Exactness. Integer-valued data in [-8, 8] keeps every product and partial
// sum an integer below 2^24, exact in float and double in any order: such
// checks compare for equality (tolerance 0).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "simd/vec.h"
#include "test_util.h"

namespace ctw_test {

// A test value: an integer in [-8, 8] or a real in [-1, 1).
template <typename T>
T draw(Rng& rng, bool integers) {
  return integers ? static_cast<T>(rng.range(-8, 8)) : static_cast<T>(rng.signed_unit());
}

template <typename T>
std::vector<T> draw_vector(Rng& rng, size_t n, bool integers) {
  std::vector<T> v(n);
  for (T& x : v) x = draw<T>(rng, integers);
  return v;
}

// The expected value of one output, in double, with S and n for the bound.
struct RefSum {
  double sum = 0, abs = 0;
  int terms = 0;
  void add(double v) {
    sum += v;
    abs += std::fabs(v);
    ++terms;
  }
  void add_product(double x, double w) { add(x * w); }
};

inline double gamma_bound(int n, double u) { return n * u / (1 - n * u); }

// `actual` within the bound above of `ref` (exact: equal). A non-finite
// reference must be matched in kind: NaN by NaN, an infinity by the same one.
template <typename T>
::testing::AssertionResult MatchesRef(T actual, const RefSum& ref, bool exact) {
  const double a = static_cast<double>(actual);
  if (!std::isfinite(ref.sum)) {
    if (std::isnan(ref.sum) ? std::isnan(a) : a == ref.sum) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << actual << " where the reference is " << ref.sum;
  }
  const double tol = exact ? 0.0
                           : (gamma_bound(ref.terms, std::numeric_limits<T>::epsilon() / 2) +
                              gamma_bound(ref.terms, std::numeric_limits<double>::epsilon() / 2)) *
                                     ref.abs +
                                 ref.terms * static_cast<double>(std::numeric_limits<T>::denorm_min());
  const double err = std::fabs(a - ref.sum);
  if (err <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << actual << " vs reference " << ref.sum << " (" << ref.terms
                                       << " terms): error " << err << " > bound " << tol;
}

// Bit-for-bit equal (tells -0 from +0, and compares NaNs).
template <typename T>
::testing::AssertionResult SameBits(T actual, T expected) {
  if (std::memcmp(&actual, &expected, sizeof(T)) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << actual << " is not bit-identical to " << expected;
}

// Fills every lane of `count` vectors with test values (and copies them to
// `copy`, if given: accumulators' values before a kernel adds to them).
template <typename T>
void draw_lanes(Rng& rng, ctw::Vec<T>* v, size_t count, bool integers, ctw::Vec<T>* copy = nullptr) {
  for (size_t i = 0; i < count; ++i) {
    for (int j = 0; j < ctw::Vec16<T>::kLanes; ++j) v[i][j] = draw<T>(rng, integers);
    if (copy) copy[i] = v[i];
  }
}

// The register budget the dot and pixel tiles are sized by: `rows` x CO
// accumulators, `rows` input vectors and CO weight vectors in the 15 vector
// registers V8 allocates on x64.
inline ::testing::AssertionResult FitsVectorRegisters(int rows, int co) {
  const int used = rows * co + rows + co;
  if (used <= 15) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << rows << " rows x " << co << " channels need " << used << " vectors";
}

// The shapes the dot and pixel kernels instantiate: element type x CO.
template <typename T, int CO>
struct ElemCo {
  typedef T Elem;
  static constexpr int kCO = CO;
};
typedef ::testing::Types<ElemCo<float, 1>, ElemCo<float, 2>, ElemCo<float, 3>, ElemCo<float, 4>, ElemCo<double, 1>,
                         ElemCo<double, 2>, ElemCo<double, 3>, ElemCo<double, 4>>
    ElemCoTypes;
struct ElemCoNames {
  template <typename S>
  static std::string GetName(int) {
    return std::string(std::is_same<typename S::Elem, float>::value ? "float" : "double") + "_CO" +
           std::to_string(S::kCO);
  }
};

struct ElemNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same<T, float>::value ? "float" : "double";
  }
};

}  // namespace ctw_test
