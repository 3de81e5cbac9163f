// Small helpers shared by the native tests: a seeded PRNG, shape builders
// and string checks. Nothing here computes expected results: those are
// derived in each test from TensorFlow's definitions.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "semantics/plan.h"
#include "semantics/status.h"

namespace ctw_test {

// splitmix64: tiny, seedable, same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform integer in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  bool coin() { return next() & 1; }
  // Uniform double in [-1, 1).
  double signed_unit() { return static_cast<double>(next() >> 11) * (2.0 / 9007199254740992.0) - 1.0; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(next() % v.size())]; }

 private:
  uint64_t state_;
};

inline std::string list_str(const std::vector<int64_t>& v) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << v[i];
  o << "]";
  return o.str();
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Asserts that `s` failed with `code`, that its message starts with `prefix`
// and that it contains every string of `parts` (argument names and
// offending values).
inline ::testing::AssertionResult IsErrorWith(const ctw::Status& s, const std::vector<std::string>& parts,
                                              const std::string& prefix = "conv_transpose: ",
                                              ctw::StatusCode code = ctw::StatusCode::kInvalidArgument) {
  if (s.ok()) return ::testing::AssertionFailure() << "expected an error, got OK";
  const std::string& m = s.message();
  if (s.code() != code) {
    return ::testing::AssertionFailure() << "code " << static_cast<int>(s.code()) << ", expected "
                                         << static_cast<int>(code) << ": " << m;
  }
  if (!starts_with(m, prefix)) {
    return ::testing::AssertionFailure() << "message does not start with \"" << prefix << "\": " << m;
  }
  for (const std::string& p : parts) {
    if (m.find(p) == std::string::npos) {
      return ::testing::AssertionFailure() << "message lacks \"" << p << "\": " << m;
    }
  }
  return ::testing::AssertionSuccess() << m;
}

inline ::testing::AssertionResult IsOk(const ctw::Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "unexpected error: " << s.message();
}

// Shape in data_format order from its parts.
inline std::vector<int64_t> join_shape(int64_t batch, const std::vector<int64_t>& spatial, int64_t channels,
                                       bool channels_first) {
  std::vector<int64_t> s;
  s.push_back(batch);
  if (channels_first) s.push_back(channels);
  s.insert(s.end(), spatial.begin(), spatial.end());
  if (!channels_first) s.push_back(channels);
  return s;
}

inline const char* data_format_for(int n, bool channels_first) {
  static const char* kLast[] = {"NWC", "NHWC", "NDHWC"};
  static const char* kFirst[] = {"NCW", "NCHW", "NCDHW"};
  return channels_first ? kFirst[n - 1] : kLast[n - 1];
}

}  // namespace ctw_test
