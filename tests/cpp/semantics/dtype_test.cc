// float16 / bfloat16 conversions (src/dtype.h) against independent
// implementations:
//   - decoding: a field-by-field decoder written with ldexp, and for float16
//     also GCC's _Float16 type (x86-64, GCC 12+: libgcc's conversions);
//   - encoding: a rounding oracle that finds the two representable 16-bit
//     values around x (from the independent decoder's table) and picks the
//     nearer, the even one on a tie; overflow follows IEEE 754's rule that
//     rounds as if the exponent range were unbounded (the virtual value
//     2^(emax+1) after the largest finite one, whose pattern is even).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "semantics/dtype.h"
#include "simd/half_vec.h"
#include "runtime/input_layout.h"
#include "test_util.h"

namespace {

using ctw::bfloat16_to_float;
using ctw::float16_to_float;
using ctw::float_to_bfloat16;
using ctw::float_to_float16;

uint32_t fbits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bitsf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A 16-bit binary float format: 1 sign bit, `exp_bits` exponent bits, the rest mantissa.
struct Format {
  const char* name;
  int exp_bits;
  int mant_bits;
  int bias;
  uint16_t (*encode)(float);
  float (*decode)(uint16_t);
};
const Format kHalf = {"float16", 5, 10, 15, float_to_float16, float16_to_float};
const Format kBf16 = {"bfloat16", 8, 7, 127, float_to_bfloat16, bfloat16_to_float};

uint16_t inf_bits(const Format& f) { return static_cast<uint16_t>(((1u << f.exp_bits) - 1) << f.mant_bits); }

// Independent decoder: value of a pattern from its fields, in double.
double decode_fields(const Format& f, uint16_t h) {
  const int sign = h >> 15;
  const int e = (h >> f.mant_bits) & ((1 << f.exp_bits) - 1);
  const int m = h & ((1 << f.mant_bits) - 1);
  double v;
  if (e == (1 << f.exp_bits) - 1) {
    v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(static_cast<double>(m), 1 - f.bias - f.mant_bits);
  } else {
    v = std::ldexp(static_cast<double>((1 << f.mant_bits) + m), e - f.bias - f.mant_bits);
  }
  return sign ? -v : v;
}

// Positive finite values of a format, by pattern (patterns 0 .. inf-1 are increasing).
std::vector<double> positive_table(const Format& f) {
  std::vector<double> t;
  for (uint32_t h = 0; h < inf_bits(f); ++h) t.push_back(decode_fields(f, static_cast<uint16_t>(h)));
  return t;
}

// Rounding oracle: the pattern nearest to x (ties to the even pattern).
uint16_t round_oracle(const Format& f, const std::vector<double>& table, float x) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return sign | inf_bits(f);
  // Largest pattern with value <= a.
  const size_t lo = static_cast<size_t>(std::upper_bound(table.begin(), table.end(), a) - table.begin()) - 1;
  const double vlo = table[lo];
  if (vlo == a) return static_cast<uint16_t>(sign | lo);
  const size_t hi = lo + 1;  // may be the inf pattern: then the virtual 2^(emax+1)
  const double vhi = hi < table.size() ? table[hi] : std::ldexp(1.0, (1 << f.exp_bits) - 1 - f.bias);
  const double dlo = a - vlo, dhi = vhi - a;  // exact: both operands are close doubles
  size_t pick;
  if (dlo < dhi) {
    pick = lo;
  } else if (dhi < dlo) {
    pick = hi;
  } else {
    pick = (lo & 1) ? hi : lo;
  }
  return static_cast<uint16_t>(sign | pick);
}

bool is_nan_pattern(const Format& f, uint16_t h) {
  return (h & inf_bits(f)) == inf_bits(f) && (h & ((1u << f.mant_bits) - 1)) != 0;
}

// Collects mismatches, printing only the first few.
struct Mismatches {
  int count = 0;
  void add(const std::string& what) {
    if (++count <= 10) ADD_FAILURE() << what;
  }
  ~Mismatches() { EXPECT_EQ(count, 0) << "mismatches in total"; }
};

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

void check_decode_all(const Format& f) {
  Mismatches bad;
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t b = static_cast<uint16_t>(h);
    const float got = f.decode(b);
    const double want = decode_fields(f, b);
    if (std::isnan(want)) {
      if (!std::isnan(got) || std::signbit(got) != ((h & 0x8000) != 0))
        bad.add(std::string(f.name) + " decode " + hex(h) + ": want NaN with the same sign, got " + std::to_string(got));
      continue;
    }
    // The decoded value must be exact in float32 and keep the sign of zero.
    if (static_cast<double>(got) != want || std::signbit(got) != std::signbit(want)) {
      bad.add(std::string(f.name) + " decode " + hex(h) + ": want " + std::to_string(want) + ", got " +
              std::to_string(got));
    }
  }
}

TEST(Float16Decode, AllPatternsMatchFieldDecoder) { check_decode_all(kHalf); }
TEST(BFloat16Decode, AllPatternsMatchFieldDecoder) { check_decode_all(kBf16); }

#if defined(__x86_64__) && defined(__FLT16_MAX__)
TEST(Float16Decode, AllPatternsMatchFloat16Type) {
  Mismatches bad;
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t b = static_cast<uint16_t>(h);
    _Float16 x;
    std::memcpy(&x, &b, 2);
    const float want = static_cast<float>(x);
    const float got = float16_to_float(b);
    if (std::isnan(want)) {
      if (!std::isnan(got) || std::signbit(got) != std::signbit(want)) bad.add("decode NaN " + hex(h));
      continue;
    }
    if (fbits(got) != fbits(want)) bad.add("decode " + hex(h) + ": want " + hex(fbits(want)) + ", got " + hex(fbits(got)));
  }
}
#endif

// The kernels widen 16-bit inputs eight (then four) at a time with vector
// integer operations (input_layout.h); every pattern must decode to the same
// bits as the scalar decoder, NaN payloads and signed zeros included. The
// span is three longer than the patterns, so the scalar tail runs too; then
// the same patterns again in spans of four, through the four-lane step.
void check_vector_decode_all(ctw::DType dtype, float (*scalar)(uint16_t)) {
  std::vector<uint16_t> patterns(65536 + 3);
  for (size_t i = 0; i < patterns.size(); ++i) patterns[i] = static_cast<uint16_t>(i * 40503u);  // a permutation, then 3 more
  for (uint32_t h = 0; h < 65536; ++h) patterns[h] = static_cast<uint16_t>(h);
  std::vector<float> got(patterns.size());
  std::vector<float> got4(patterns.size());
  ctw::input_detail::convert_span(patterns.data(), got.data(), static_cast<int64_t>(patterns.size()), dtype,
                                  [&](uint16_t v) { return scalar(v); });
  for (size_t i = 0; i + 4 <= patterns.size(); i += 4) {
    ctw::input_detail::convert_span(patterns.data() + i, got4.data() + i, 4, dtype, [&](uint16_t v) { return scalar(v); });
  }
  Mismatches bad;
  for (size_t i = 0; i < patterns.size(); ++i) {
    const uint32_t want = fbits(scalar(patterns[i]));
    if (fbits(got[i]) != want) bad.add("vector decode " + hex(patterns[i]) + ": want " + hex(want) + ", got " + hex(fbits(got[i])));
    if (i < patterns.size() / 4 * 4 && fbits(got4[i]) != want) {
      bad.add("four-lane decode " + hex(patterns[i]) + ": want " + hex(want) + ", got " + hex(fbits(got4[i])));
    }
  }
}

TEST(Float16Decode, VectorWideningMatchesScalarForEveryPattern) {
  check_vector_decode_all(ctw::DType::kFloat16, float16_to_float);
}
TEST(BFloat16Decode, VectorWideningMatchesScalarForEveryPattern) {
  check_vector_decode_all(ctw::DType::kBFloat16, bfloat16_to_float);
}

TEST(Float16Decode, KnownValues) {
  EXPECT_EQ(float16_to_float(0x3c00), 1.0f);
  EXPECT_EQ(float16_to_float(0xc000), -2.0f);
  EXPECT_EQ(float16_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(float16_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(float16_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(float16_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(fbits(float16_to_float(0x8000)), 0x80000000u);  // -0
  EXPECT_EQ(float16_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(float16_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(float16_to_float(0x7e00)));
  EXPECT_TRUE(std::isnan(float16_to_float(0x7c01)));
}

TEST(BFloat16Decode, KnownValues) {
  EXPECT_EQ(bfloat16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16_to_float(0xc000), -2.0f);
  EXPECT_EQ(bfloat16_to_float(0x7f7f), std::ldexp(255.0f, 120));  // largest finite: (2 - 2^-7) * 2^127
  EXPECT_EQ(bfloat16_to_float(0x0001), std::ldexp(1.0f, -133));   // smallest subnormal
  EXPECT_EQ(fbits(bfloat16_to_float(0x8000)), 0x80000000u);
  EXPECT_EQ(bfloat16_to_float(0x7f80), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bfloat16_to_float(0x7fc0)));
  EXPECT_TRUE(std::isnan(bfloat16_to_float(0xff81)));
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

// Every float whose upper 19 bits take every value, with low 13 bits from a
// set that holds exact ties, values just around ties and random bits. The low
// 13 bits are those float16's normal range drops (bfloat16 drops 16: its ties
// at bit 15 come from the enumerated upper bits with low bits 0, and the
// low-bit set supplies just-above/below). Subnormal float16 results drop more
// bits, whose ties come from the enumeration too.
std::vector<uint32_t> low_bit_samples(ctw_test::Rng& rng) {
  std::vector<uint32_t> v = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff};
  for (int i = 0; i < 2; ++i) v.push_back(static_cast<uint32_t>(rng.next() & 0x1fff));
  return v;
}

void check_encode_sampled(const Format& f, uint64_t seed) {
  const std::vector<double> table = positive_table(f);
  ctw_test::Rng rng(seed);
  const std::vector<uint32_t> lows = low_bit_samples(rng);
  Mismatches bad;
  for (uint32_t upper = 0; upper < (1u << 19); ++upper) {
    for (uint32_t low : lows) {
      const uint32_t u = (upper << 13) | low;
      const float x = bitsf(u);
      const uint16_t got = f.encode(x);
      if (std::isnan(x)) {
        if (!is_nan_pattern(f, got) || (got >> 15) != (u >> 31)) bad.add(std::string(f.name) + " NaN " + hex(u) + " -> " + hex(got));
        continue;
      }
      const uint16_t want = round_oracle(f, table, x);
      if (got != want) bad.add(std::string(f.name) + " encode " + hex(u) + ": want " + hex(want) + ", got " + hex(got));
    }
  }
}

// The kernels round float32 results to 16 bits four at a time
// (half_vec.h). Against the scalar encoders, bit for bit: a stride through
// all 2^32 patterns, every pattern whose low 16 bits sit at or next to a
// rounding boundary of either format (ties of 13 and 16 dropped bits), and
// the float16 subnormal range at a finer stride.
void check_vector_encode(bool half) {
  std::vector<uint32_t> patterns;
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 257) patterns.push_back(static_cast<uint32_t>(u));
  const uint32_t lows[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x2fff, 0x3000, 0x3001,
                           0x7fff, 0x8000, 0x8001, 0xffff};
  for (uint32_t high = 0; high < 65536; ++high)
    for (uint32_t low : lows) patterns.push_back(high << 16 | low);
  for (uint32_t u = 0x33000000u; u < 0x38800000u; u += 5) {
    patterns.push_back(u);
    patterns.push_back(u | 0x80000000u);
  }
  Mismatches bad;
  auto check = [&](const char* form, uint32_t pattern, float x, uint16_t got) {
    const uint16_t want = half ? float_to_float16(x) : float_to_bfloat16(x);
    if (got != want) {
      bad.add(std::string(half ? "float16" : "bfloat16") + " " + form + " " + hex(pattern) + ": want " + hex(want) +
              ", got " + hex(got));
    }
  };
  // Four at a time (store_lanes) ...
  for (size_t i = 0; i + 4 <= patterns.size(); i += 4) {
    float in[4];
    for (int k = 0; k < 4; ++k) in[k] = bitsf(patterns[i + k]);
    uint16_t got[4];
    if (half) {
      ctw::float_to_float16x4(ctw::load_vec(in), got);
    } else {
      ctw::float_to_bfloat16x4(ctw::load_vec(in), got);
    }
    for (int k = 0; k < 4; ++k) check("x4", patterns[i + k], in[k], got[k]);
  }
  // ... and spans (eight at a time, then one by one), in chunks of 4099.
  std::vector<float> in(4099);
  std::vector<uint16_t> got(4099);
  for (size_t i = 0; i < patterns.size(); i += in.size()) {
    const size_t n = std::min(in.size(), patterns.size() - i);
    for (size_t k = 0; k < n; ++k) in[k] = bitsf(patterns[i + k]);
    ctw::float_to_16bit_span(in.data(), got.data(), static_cast<int64_t>(n), half);
    for (size_t k = 0; k < n; ++k) check("span", patterns[i + k], in[k], got[k]);
  }
}

TEST(Float16Encode, VectorNarrowingMatchesScalar) { check_vector_encode(true); }
TEST(BFloat16Encode, VectorNarrowingMatchesScalar) { check_vector_encode(false); }

TEST(Float16Encode, SampledFloatsMatchRoundingOracle) { check_encode_sampled(kHalf, 1); }
TEST(BFloat16Encode, SampledFloatsMatchRoundingOracle) { check_encode_sampled(kBf16, 2); }

#if defined(__x86_64__) && defined(__FLT16_MAX__)
// GCC's float -> _Float16 conversion rounds to nearest even (libgcc soft-fp).
TEST(Float16Encode, SampledFloatsMatchFloat16Type) {
  ctw_test::Rng rng(3);
  Mismatches bad;
  for (int i = 0; i < (1 << 21); ++i) {
    const uint32_t u = static_cast<uint32_t>(rng.next());
    const float x = bitsf(u);
    if (std::isnan(x)) continue;
    const _Float16 h = static_cast<_Float16>(x);
    uint16_t want;
    std::memcpy(&want, &h, 2);
    const uint16_t got = float_to_float16(x);
    if (got != want) bad.add("encode " + hex(u) + ": want " + hex(want) + ", got " + hex(got));
  }
}
#endif

TEST(Float16Encode, TiesSubnormalsAndOverflow) {
  // Ties between two normals: 1 + 2^-11 lies halfway between 1 (0x3c00, even)
  // and 1 + 2^-10 (0x3c01): goes to 0x3c00; 1 + 3*2^-11 halfway between 0x3c01
  // and 0x3c02: goes to 0x3c02 (even).
  EXPECT_EQ(float_to_float16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(float_to_float16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(float_to_float16(-(1.0f + 3 * std::ldexp(1.0f, -11))), 0xbc02);
  // Just above a tie rounds up.
  EXPECT_EQ(float_to_float16(bitsf(fbits(1.0f + std::ldexp(1.0f, -11)) + 1)), 0x3c01);
  // Subnormals: 2^-25 is halfway between 0 and 2^-24: to 0 (even); 3*2^-25
  // halfway between 2^-24 (0x0001) and 2*2^-24 (0x0002): to 0x0002; just above
  // 2^-25: 0x0001; just below: 0.
  EXPECT_EQ(float_to_float16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(float_to_float16(-std::ldexp(1.0f, -25)), 0x8000);
  EXPECT_EQ(float_to_float16(3 * std::ldexp(1.0f, -25)), 0x0002);
  EXPECT_EQ(float_to_float16(bitsf(fbits(std::ldexp(1.0f, -25)) + 1)), 0x0001);
  EXPECT_EQ(float_to_float16(bitsf(fbits(std::ldexp(1.0f, -25)) - 1)), 0x0000);
  EXPECT_EQ(float_to_float16(std::ldexp(5.0f, -24)), 0x0005);  // exact subnormal
  EXPECT_EQ(float_to_float16(std::numeric_limits<float>::denorm_min()), 0x0000);
  // 1023.5 * 2^-24 is halfway between the largest subnormal 0x03ff (odd) and
  // the smallest normal 0x0400: to 0x0400.
  EXPECT_EQ(float_to_float16(std::ldexp(1023.5f, -24)), 0x0400);
  EXPECT_EQ(float_to_float16(std::ldexp(1022.5f, -24)), 0x03fe);
  // Overflow: 65504 is the largest finite (0x7bff, odd); 65520 is halfway to
  // the virtual 65536, so it rounds to infinity; anything below stays finite.
  EXPECT_EQ(float_to_float16(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_float16(65519.99609375f), 0x7bff);  // 65520 - 2^-8, the float just below
  EXPECT_EQ(float_to_float16(65520.0f), 0x7c00);
  EXPECT_EQ(float_to_float16(-65520.0f), 0xfc00);
  EXPECT_EQ(float_to_float16(1e10f), 0x7c00);
  EXPECT_EQ(float_to_float16(std::numeric_limits<float>::max()), 0x7c00);
  EXPECT_EQ(float_to_float16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_float16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(float_to_float16(0.0f), 0x0000);
  EXPECT_EQ(float_to_float16(-0.0f), 0x8000);
}

TEST(BFloat16Encode, TiesSubnormalsAndOverflow) {
  // 1 + 2^-8 is halfway between 1 (0x3f80, even) and 1 + 2^-7 (0x3f81).
  EXPECT_EQ(float_to_bfloat16(bitsf(0x3f808000)), 0x3f80);
  EXPECT_EQ(float_to_bfloat16(bitsf(0x3f818000)), 0x3f82);  // halfway 0x3f81/0x3f82 -> even
  EXPECT_EQ(float_to_bfloat16(bitsf(0x3f808001)), 0x3f81);
  EXPECT_EQ(float_to_bfloat16(bitsf(0x3f807fff)), 0x3f80);
  EXPECT_EQ(float_to_bfloat16(bitsf(0xbf818000)), 0xbf82);
  // float32 subnormals map onto bfloat16 subnormals with the same rounding.
  EXPECT_EQ(float_to_bfloat16(bitsf(0x00008000)), 0x0000);
  EXPECT_EQ(float_to_bfloat16(bitsf(0x00018000)), 0x0002);
  EXPECT_EQ(float_to_bfloat16(bitsf(0x00008001)), 0x0001);
  // Rounding up out of the subnormals into the smallest normal.
  EXPECT_EQ(float_to_bfloat16(bitsf(0x007fffff)), 0x0080);
  // Overflow: the largest finite bfloat16 is 0x7f7f (odd); 0x7f7f8000 is
  // halfway to 2^128 and rounds to infinity; one float below stays finite.
  EXPECT_EQ(float_to_bfloat16(bitsf(0x7f7f7fff)), 0x7f7f);
  EXPECT_EQ(float_to_bfloat16(bitsf(0x7f7f8000)), 0x7f80);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(float_to_bfloat16(-std::numeric_limits<float>::max()), 0xff80);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(float_to_bfloat16(-0.0f), 0x8000);
}

// NaN must stay NaN (never become infinity by dropping payload bits), sign kept.
void check_nans(const Format& f) {
  std::vector<uint32_t> mantissas = {1, 2, 0x1fff, 0x2000, 0xffff, 0x10000, 0x400000, 0x7fffff, 0x200001};
  for (int b = 0; b < 23; ++b) mantissas.push_back(1u << b);
  for (uint32_t m : mantissas) {
    for (uint32_t sign : {0u, 0x80000000u}) {
      const uint32_t u = sign | 0x7f800000u | m;
      const uint16_t got = f.encode(bitsf(u));
      EXPECT_TRUE(is_nan_pattern(f, got)) << f.name << " " << hex(u) << " -> " << hex(got);
      EXPECT_EQ(got >> 15, u >> 31) << f.name << " " << hex(u);
      EXPECT_TRUE(std::isnan(f.decode(got)));
    }
  }
}
TEST(Float16Encode, NaNStaysNaN) { check_nans(kHalf); }
TEST(BFloat16Encode, NaNStaysNaN) { check_nans(kBf16); }

// encode(decode(h)) == h for every non-NaN pattern (finite, +-0, +-inf).
void check_round_trip(const Format& f) {
  Mismatches bad;
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t b = static_cast<uint16_t>(h);
    const uint16_t back = f.encode(f.decode(b));
    if (is_nan_pattern(f, b)) {
      if (!is_nan_pattern(f, back)) bad.add(std::string(f.name) + " NaN round trip " + hex(h) + " -> " + hex(back));
    } else if (back != b) {
      bad.add(std::string(f.name) + " round trip " + hex(h) + " -> " + hex(back));
    }
  }
}
TEST(Float16Encode, RoundTripEveryPattern) { check_round_trip(kHalf); }
TEST(BFloat16Encode, RoundTripEveryPattern) { check_round_trip(kBf16); }

}  // namespace
