// The output epilogue as the fast kernels apply it: activation(sum + bias)
// on each value just computed, in the compute type, before the value is
// rounded to a 16-bit dtype (semantics/epilogue.h has the definitions).
// Kernels apply it where their values are final and still in registers or
// in the cache lines just written (a tile, an item's rows), never as a pass
// over the whole output.
//
// float: the activations on vectors (simd/math.h), and the same vector code
// on one lane for scalar values, so that a value gets the same result
// whichever path of a kernel stores it; gelu calls erfc per lane. double:
// the definitions themselves, per value.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "semantics/epilogue.h"
#include "semantics/plan.h"
#include "simd/math.h"
#include "simd/vec.h"

namespace ctw {

template <typename T>
struct EpilogueOp {
  const T* bias = nullptr;  // per output channel, compute type; null: no bias
  EpilogueArgs args;

  EpilogueOp() = default;
  EpilogueOp(const EpilogueArgs& e, const void* bias_values)
      : bias(e.bias ? static_cast<const T*>(bias_values) : nullptr), args(e) {}

  bool identity() const { return bias == nullptr && args.activation == Activation::kLinear; }
  T bias_of(int64_t channel) const { return bias ? bias[channel] : T(0); }

  // The activation of each lane.
  Vec<T> activate_vec(Vec<T> v) const {
    if constexpr (std::is_same<T, float>::value) {
      const Vec<float> zero{};
      switch (args.activation) {
        case Activation::kLinear: return v;
        case Activation::kRelu: return select(v < zero, zero, v);
        case Activation::kClamp: {
          const Vec<float> lo = splat(static_cast<float>(args.lo)), hi = splat(static_cast<float>(args.hi));
          return select(v < lo, lo, select(v > hi, hi, v));
        }
        case Activation::kLeakyRelu: return select(v < zero, v * splat(static_cast<float>(args.alpha)), v);
        case Activation::kElu: return select(v < zero, expm1_vec(v) * splat(static_cast<float>(args.alpha)), v);
        case Activation::kSigmoid: return sigmoid_vec(v);
        case Activation::kTanh: return tanh_vec(v);
        case Activation::kSilu: return v * sigmoid_vec(v);
        case Activation::kGelu: {
          Vec<float> out;
          for (int l = 0; l < 4; ++l) out[l] = 0.5f * v[l] * std::erfc(-v[l] * 0.707106781186547524f);
          return out;
        }
      }
      return v;
    } else {
      Vec<T> out;
      for (int l = 0; l < Vec16<T>::kLanes; ++l) out[l] = static_cast<T>(activate(args, v[l]));
      return out;
    }
  }

  // One value of `channel`.
  T operator()(T v, int64_t channel) const {
    const T x = v + bias_of(channel);
    if constexpr (std::is_same<T, float>::value) {
      return activate_vec(splat(x))[0];
    } else {
      return static_cast<T>(activate(args, x));
    }
  }

  // Values of one pixel's consecutive channels, in place: v[i * stride] has
  // channel first_channel + i.
  void channels(T* v, int64_t count, int64_t first_channel, size_t stride) const {
    constexpr int L = Vec16<T>::kLanes;
    int64_t i = 0;
    if (stride == 1) {
      for (; i + L <= count; i += L) {
        Vec<T> x = load_vec(v + i);
        if (bias) x += load_vec(bias + first_channel + i);
        store_vec(v + i, activate_vec(x));
      }
    }
    for (; i < count; ++i) v[i * stride] = (*this)(v[i * stride], first_channel + i);
  }

  // Values whose channels cycle, in place: v[i] has channel
  // (first + i) mod channels (a channels-last run of whole pixels).
  void cycled(T* v, int64_t count, int64_t first, int64_t channels) const {
    if (bias == nullptr) {
      constexpr int L = Vec16<T>::kLanes;
      int64_t i = 0;
      for (; i + L <= count; i += L) store_vec(v + i, activate_vec(load_vec(v + i)));
      for (; i < count; ++i) v[i] = (*this)(v[i], 0);
      return;
    }
    int64_t c = first % channels;
    for (int64_t i = 0; i < count; ++i) {
      v[i] = (*this)(v[i], c);
      if (++c == channels) c = 0;
    }
  }

  // Values of one channel, in place: v[j * stride], j < count.
  void plane(T* v, int64_t count, size_t stride, int64_t channel) const {
    constexpr int L = Vec16<T>::kLanes;
    const Vec<T> b = Vec16<T>::splat(bias_of(channel));
    int64_t j = 0;
    if (stride == 1) {
      for (; j + L <= count; j += L) store_vec(v + j, activate_vec(load_vec(v + j) + b));
    }
    for (; j < count; ++j) v[j * stride] = (*this)(v[j * stride], channel);
  }
};

// The epilogue of a kernel plan: its activation and the packed bias.
template <typename T>
EpilogueOp<T> epilogue_of(const ConvTransposePlan& plan, const void* bias) {
  return EpilogueOp<T>(plan.epilogue, bias);
}

}  // namespace ctw
