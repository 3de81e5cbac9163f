// The output epilogue as the fast kernels apply it: activation(sum + bias)
// on each value just computed, in the compute type, before the value is
// rounded to a 16-bit dtype (semantics/epilogue.h has the definitions).
// Kernels apply it where their values are final and still in registers or
// in the cache lines just written (a tile, an item's rows), never as a pass
// over the whole output.
//
// float: the activations on vectors (simd/math.h), and the same vector code
// on one lane for scalar values, so that a value gets the same result
// whichever path of a kernel stores it. double: the definitions
// themselves, per value.
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

  // The activation A of each lane.
  template <Activation A>
  Vec<T> activate_as(Vec<T> v) const {
    if constexpr (std::is_same<T, float>::value) {
      const Vec<float> zero{};
      if constexpr (A == Activation::kRelu) return select(v < zero, zero, v);
      if constexpr (A == Activation::kClamp) {
        const Vec<float> lo = splat(static_cast<float>(args.lo)), hi = splat(static_cast<float>(args.hi));
        return select(v < lo, lo, select(v > hi, hi, v));
      }
      if constexpr (A == Activation::kLeakyRelu) return select(v < zero, v * splat(static_cast<float>(args.alpha)), v);
      if constexpr (A == Activation::kElu) {
        return select(v < zero, expm1_vec(v) * splat(static_cast<float>(args.alpha)), v);
      }
      if constexpr (A == Activation::kSigmoid) return sigmoid_vec(v);
      if constexpr (A == Activation::kTanh) return tanh_vec(v);
      if constexpr (A == Activation::kSilu) return v * sigmoid_vec(v);
      if constexpr (A == Activation::kGelu) return splat(0.5f) * v * erfc_vec(v * splat(-0.707106781186547524f));
      return v;
    } else {
      Vec<T> out{};
      for (int l = 0; l < Vec16<T>::kLanes; ++l) out[l] = static_cast<T>(activate(args, v[l]));
      return out;
    }
  }

  // Calls f(std::integral_constant<Activation, A>{}) for this epilogue's
  // activation: loops take the switch once, not per value.
  template <typename F>
  void with_activation(F&& f) const {
    switch (args.activation) {
      case Activation::kLinear: f(std::integral_constant<Activation, Activation::kLinear>{}); break;
      case Activation::kRelu: f(std::integral_constant<Activation, Activation::kRelu>{}); break;
      case Activation::kClamp: f(std::integral_constant<Activation, Activation::kClamp>{}); break;
      case Activation::kLeakyRelu: f(std::integral_constant<Activation, Activation::kLeakyRelu>{}); break;
      case Activation::kElu: f(std::integral_constant<Activation, Activation::kElu>{}); break;
      case Activation::kSigmoid: f(std::integral_constant<Activation, Activation::kSigmoid>{}); break;
      case Activation::kTanh: f(std::integral_constant<Activation, Activation::kTanh>{}); break;
      case Activation::kGelu: f(std::integral_constant<Activation, Activation::kGelu>{}); break;
      case Activation::kSilu: f(std::integral_constant<Activation, Activation::kSilu>{}); break;
    }
  }

  // The activation of each lane (one switch; for a few values at a time).
  Vec<T> activate_vec(Vec<T> v) const {
    Vec<T> out = v;
    with_activation([&](auto a) { out = activate_as<decltype(a)::value>(v); });
    return out;
  }

  // One value of `channel`.
  T operator()(T v, int64_t channel) const { return activate_vec(Vec16<T>::splat(v + bias_of(channel)))[0]; }

  // Values of one pixel's consecutive channels, in place: v[i * stride] has
  // channel first_channel + i.
  void channels(T* v, int64_t count, int64_t first_channel, size_t stride) const {
    with_activation([&](auto a) {
      constexpr Activation A = decltype(a)::value;
      constexpr int L = Vec16<T>::kLanes;
      int64_t i = 0;
      if (stride == 1) {
        for (; i + L <= count; i += L) {
          Vec<T> x = load_vec(v + i);
          if (bias) x += load_vec(bias + first_channel + i);
          store_vec(v + i, activate_as<A>(x));
        }
      }
      for (; i < count; ++i) {
        v[i * stride] = activate_as<A>(Vec16<T>::splat(v[i * stride] + bias_of(first_channel + i)))[0];
      }
    });
  }

  // Values whose channels cycle, in place: v[i] has channel
  // (first + i) mod channels (a channels-last run of whole pixels).
  void cycled(T* v, int64_t count, int64_t first, int64_t channels) const {
    with_activation([&](auto a) {
      constexpr Activation A = decltype(a)::value;
      constexpr int L = Vec16<T>::kLanes;
      if (bias == nullptr) {
        int64_t i = 0;
        for (; i + L <= count; i += L) store_vec(v + i, activate_as<A>(load_vec(v + i)));
        for (; i < count; ++i) v[i] = activate_as<A>(Vec16<T>::splat(v[i]))[0];
        return;
      }
      int64_t c = first % channels;
      for (int64_t i = 0; i < count; ++i) {
        v[i] = activate_as<A>(Vec16<T>::splat(v[i] + bias[c]))[0];
        if (++c == channels) c = 0;
      }
    });
  }
};

// The epilogue of a kernel plan: its activation and the packed bias.
template <typename T>
EpilogueOp<T> epilogue_of(const ConvTransposePlan& plan, const void* bias) {
  return EpilogueOp<T>(plan.epilogue, bias);
}

}  // namespace ctw
