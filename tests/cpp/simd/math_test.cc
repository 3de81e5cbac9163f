// The float vector functions of simd/math.h against the C library in double:
// relative error within a few float ulps (u = 2^-24) over their whole range,
// NaN kept, overflow to Inf and underflow to 0.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "simd/math.h"

namespace {

using ctw::Vec;

// Max of |f(x) - ref(x)| / (u * max(|ref(x)|, floor)) over x in [lo, hi].
double worst_ulps(const std::function<Vec<float>(Vec<float>)>& f, double (*ref)(double), double lo, double hi,
                  double floor = 1e-30) {
  const double u = std::ldexp(1.0, -24);
  double worst = 0;
  const int steps = 200000;
  for (int i = 0; i <= steps; i += 4) {
    Vec<float> x;
    for (int l = 0; l < 4; ++l) x[l] = static_cast<float>(lo + (hi - lo) * (i + l) / steps);
    const Vec<float> y = f(x);
    for (int l = 0; l < 4; ++l) {
      const double want = ref(static_cast<double>(x[l]));
      const double err = std::fabs(static_cast<double>(y[l]) - want) / (u * std::max(std::fabs(want), floor));
      worst = std::max(worst, err);
    }
  }
  return worst;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(SimdMath, ExpWithinFourUlps) {
  EXPECT_LE(worst_ulps(ctw::exp_vec, [](double x) { return std::exp(x); }, -87, 88), 4);
  EXPECT_LE(worst_ulps(ctw::exp_vec, [](double x) { return std::exp(x); }, -1, 1), 4);
}

TEST(SimdMath, Expm1WithinEightUlpsAlsoNearZero) {
  EXPECT_LE(worst_ulps(ctw::expm1_vec, [](double x) { return std::expm1(x); }, -20, 20), 8);
  EXPECT_LE(worst_ulps(ctw::expm1_vec, [](double x) { return std::expm1(x); }, -0.3, 0.3), 8);
  EXPECT_LE(worst_ulps(ctw::expm1_vec, [](double x) { return std::expm1(x); }, -1e-6, 1e-6), 8);
}

TEST(SimdMath, SigmoidAndTanhWithinEightUlps) {
  EXPECT_LE(worst_ulps(ctw::sigmoid_vec, sigmoid_ref, -80, 30), 8);
  EXPECT_LE(worst_ulps(ctw::tanh_vec, [](double x) { return std::tanh(x); }, -12, 12), 8);
  EXPECT_LE(worst_ulps(ctw::tanh_vec, [](double x) { return std::tanh(x); }, -0.3, 0.3), 8);
  EXPECT_LE(worst_ulps(ctw::tanh_vec, [](double x) { return std::tanh(x); }, -1e-5, 1e-5), 8);
}

// erfc: the fit's own 2 ulps (1.2e-7), exp's 4, the polynomial's and the
// division's few, and the float exponent -x^2 - 1.27 + p(t), whose
// roundings move the result by up to about 2 x^2 ulps (an absolute error e in
// the exponent is a relative error e in the result): within 2 x^2 + 16
// ulps; measured 20 for |x| <= 3 (erfc down to 2e-5, where gelu's value still
// matters; checked against 24) and 124 at |x| = 9 (erfc 4e-37); 2 - erfc for x < 0.
TEST(SimdMath, ErfcWithinItsBounds) {
  EXPECT_LE(worst_ulps(ctw::erfc_vec, [](double x) { return std::erfc(x); }, -3, 3), 24);
  const double u = std::ldexp(1.0, -24);
  for (int i = -9000; i <= 9000; i += 4) {
    Vec<float> x;
    for (int l = 0; l < 4; ++l) x[l] = static_cast<float>((i + l) / 1000.0);
    const Vec<float> y = ctw::erfc_vec(x);
    for (int l = 0; l < 4; ++l) {
      const double xd = x[l], want = std::erfc(xd);
      ASSERT_LE(std::fabs(y[l] - want), (2 * xd * xd + 16) * u * want) << "x=" << xd;
    }
  }
  const Vec<float> e = ctw::erfc_vec(Vec<float>{std::nanf(""), INFINITY, -INFINITY, 0.f});
  EXPECT_TRUE(std::isnan(e[0]));
  EXPECT_EQ(e[1], 0.f);
  EXPECT_EQ(e[2], 2.f);
  EXPECT_EQ(e[3], 1.f);
}

TEST(SimdMath, SpecialValues) {
  const float inf = INFINITY;
  const Vec<float> x = {std::nanf(""), inf, -inf, 200.f};
  const Vec<float> e = ctw::exp_vec(x);
  EXPECT_TRUE(std::isnan(e[0]));
  EXPECT_EQ(e[1], inf);
  EXPECT_EQ(e[2], 0.f);
  EXPECT_EQ(e[3], inf);
  const Vec<float> s = ctw::sigmoid_vec(x);
  EXPECT_TRUE(std::isnan(s[0]));
  EXPECT_EQ(s[1], 1.f);
  EXPECT_EQ(s[2], 0.f);
  const Vec<float> t = ctw::tanh_vec(x);
  EXPECT_TRUE(std::isnan(t[0]));
  EXPECT_EQ(t[1], 1.f);
  EXPECT_EQ(t[2], -1.f);
  // Subnormal results come out, not 0.
  const Vec<float> small = ctw::exp_vec(Vec<float>{-100.f, -103.f, -88.f, -87.f});
  for (int l = 0; l < 4; ++l) EXPECT_GT(small[l], 0.f) << l;
}

}  // namespace
