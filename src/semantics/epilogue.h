// The output epilogue: what happens to each output value after the
// transposed convolution's sum and before the value is rounded to the
// output dtype, out = activation(sum + bias[channel]). The definitions here,
// in double, are the ones the reference kernel uses and every fast kernel is
// held to; the fast kernels evaluate them in their compute type
// (kernels/epilogue.h).
//
// The activations are the ones decoders apply right after a transposed
// convolution, with WebNN's definitions and defaults. NaN stays NaN through
// every one of them (a NaN sum is never clamped into a number).
#pragma once

#include <cmath>
#include <string>

namespace ctw {

enum class Activation {
  kLinear,     // x
  kRelu,       // max(x, 0)
  kClamp,      // min(max(x, lo), hi); relu6 is clamp(0, 6)
  kLeakyRelu,  // x >= 0 ? x : alpha * x
  kElu,        // x >= 0 ? x : alpha * (exp(x) - 1)
  kSigmoid,    // 1 / (1 + exp(-x))
  kTanh,       // tanh(x)
  kGelu,       // x * (1 + erf(x / sqrt(2))) / 2 (the exact form, not the tanh approximation)
  kSilu,       // x * sigmoid(x)
};

struct EpilogueArgs {
  Activation activation = Activation::kLinear;
  double alpha = 0;        // leakyRelu, elu
  double lo = 0, hi = 0;   // clamp
  bool bias = false;       // a per-output-channel bias is added first

  bool identity() const { return activation == Activation::kLinear && !bias; }
};

// The activation's definition, in double.
inline double activate(const EpilogueArgs& e, double x) {
  switch (e.activation) {
    case Activation::kLinear: return x;
    case Activation::kRelu: return x < 0 ? 0.0 : x;
    case Activation::kClamp: return x < e.lo ? e.lo : (x > e.hi ? e.hi : x);
    case Activation::kLeakyRelu: return x < 0 ? e.alpha * x : x;
    case Activation::kElu: return x < 0 ? e.alpha * std::expm1(x) : x;
    case Activation::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Activation::kTanh: return std::tanh(x);
    case Activation::kGelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case Activation::kSilu: return x / (1.0 + std::exp(-x));
  }
  return x;
}

// Names as the API spells them ("relu", "leakyRelu", ...).
const char* activation_name(Activation a);
bool activation_from_name(const std::string& name, Activation* a);

class Status;
// The activation named `name`, or an invalid-argument error listing the
// names; op_name starts the message.
Status activation_arg(const std::string& op_name, const std::string& name, Activation* a);

}  // namespace ctw
