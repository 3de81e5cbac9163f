// Elementary functions on float vectors, for the output epilogue's
// activations: exp and the functions built on it (expm1, sigmoid, tanh,
// erfc), each within the ulps its comment states (tests/cpp/simd holds them
// to the C library in double). Written with the
// vector extensions of vec.h, so they run as SIMD128 in wasm and SSE
// natively. NaN in gives NaN out; overflow gives Inf, underflow 0.
#pragma once

#include "simd/vec.h"

namespace ctw {

typedef Vec16<float>::mask MaskF;

// Lane-wise m ? a : b, m from a comparison (all ones or zero per lane).
inline Vec<float> select(MaskF m, Vec<float> a, Vec<float> b) {
  return reinterpret_cast<Vec<float>>((reinterpret_cast<MaskF>(a) & m) | (reinterpret_cast<MaskF>(b) & ~m));
}

inline Vec<float> splat(float x) { return Vec16<float>::splat(x); }
inline MaskF splat_mask(uint32_t bits) {
  const int32_t i = static_cast<int32_t>(bits);
  return MaskF{i, i, i, i};
}

// exp(x): x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, so r is
// exact), exp(r) by a polynomial, times 2^n built in two halves so that results between
// the smallest normal and the largest float, and the subnormals below,
// come out without a range check.
inline Vec<float> exp_vec(Vec<float> x) {
  // Inputs beyond +-150 saturate to Inf and 0 anyway; clamping keeps n an
  // exact small integer. A NaN lane fails both compares and stays NaN.
  x = select(x > splat(150.f), splat(150.f), x);
  x = select(x < splat(-150.f), splat(-150.f), x);
  const Vec<float> magic = splat(12582912.f);  // 1.5 * 2^23: adding it rounds to an integer
  const Vec<float> t = x * splat(1.44269504088896341f) + magic;
  const Vec<float> n = t - magic;
  const Vec<float> r = (x - n * splat(0.693145751953125f)) - n * splat(1.42860682030941723212e-6f);
  // exp(r) = 1 + r + r^2 p(r), p of degree 5 (Cephes' expf coefficients,
  // relative error below 2e-7 on the reduced range).
  Vec<float> p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * (r * r) + r + splat(1.f);
  // n as an integer: the low bits of t hold it (t = magic + n).
  const MaskF ni = reinterpret_cast<MaskF>(t) - reinterpret_cast<MaskF>(magic);
  const MaskF half = ni >> 1;
  const Vec<float> s1 = reinterpret_cast<Vec<float>>((half + 127) << 23);
  const Vec<float> s2 = reinterpret_cast<Vec<float>>((ni - half + 127) << 23);
  return p * s1 * s2;
}

// exp(x) - 1 without the cancellation near 0: the Taylor series to x^8 for
// |x| < 1/4 (remainder below 3e-9 relative), exp(x) - 1 beyond.
inline Vec<float> expm1_vec(Vec<float> x) {
  Vec<float> p = splat(1.f / 40320);
  p = p * x + splat(1.f / 5040);
  p = p * x + splat(1.f / 720);
  p = p * x + splat(1.f / 120);
  p = p * x + splat(1.f / 24);
  p = p * x + splat(1.f / 6);
  p = p * x + splat(0.5f);
  p = p * x * x + x;
  const MaskF small = (x < splat(0.25f)) & (x > splat(-0.25f));
  return select(small, p, exp_vec(x) - splat(1.f));
}

inline Vec<float> sigmoid_vec(Vec<float> x) { return splat(1.f) / (splat(1.f) + exp_vec(-x)); }

// tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)), and the odd Taylor series to
// x^9 for |x| < 1/4, where that form would cancel.
inline Vec<float> tanh_vec(Vec<float> x) {
  const Vec<float> a = reinterpret_cast<Vec<float>>(reinterpret_cast<MaskF>(x) & splat_mask(0x7fffffff));
  const Vec<float> big = splat(1.f) - splat(2.f) / (exp_vec(a + a) + splat(1.f));
  const Vec<float> signed_big =
      reinterpret_cast<Vec<float>>(reinterpret_cast<MaskF>(big) | (reinterpret_cast<MaskF>(x) & splat_mask(0x80000000u)));
  const Vec<float> x2 = x * x;
  Vec<float> p = splat(62.f / 2835);
  p = p * x2 - splat(17.f / 315);
  p = p * x2 + splat(2.f / 15);
  p = p * x2 - splat(1.f / 3);
  p = p * x2 * x + x;
  return select(a < splat(0.25f), p, signed_big);
}

// erfc(x): for a = |x|, t = 1 / (1 + a / 2) and
//   erfc(a) = t exp(-a^2 - 1.26551223 + t (1.00002368 + t (0.37409196 + ...)))
// (the Chebyshev fit of Numerical Recipes' erfcc, relative error below
// 1.2e-7 for every a >= 0), and erfc(-a) = 2 - erfc(a). In float the
// exponent -a^2 carries a relative error of about a^2 u into the result: a
// few ulps up to a = 2, more in the far tail, where erfc is below 1e-17.
inline Vec<float> erfc_vec(Vec<float> x) {
  const Vec<float> a = reinterpret_cast<Vec<float>>(reinterpret_cast<MaskF>(x) & splat_mask(0x7fffffff));
  const Vec<float> t = splat(1.f) / (splat(1.f) + splat(0.5f) * a);
  Vec<float> p = splat(0.17087277f);
  p = p * t + splat(-0.82215223f);
  p = p * t + splat(1.48851587f);
  p = p * t + splat(-1.13520398f);
  p = p * t + splat(0.27886807f);
  p = p * t + splat(-0.18628806f);
  p = p * t + splat(0.09678418f);
  p = p * t + splat(0.37409196f);
  p = p * t + splat(1.00002368f);
  p = p * t + splat(-1.26551223f);
  const Vec<float> r = t * exp_vec(p - a * a);
  return select(x < splat(0.f), splat(2.f) - r, r);
}

}  // namespace ctw
