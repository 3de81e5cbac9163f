// The reference kernel: tf.nn.conv_transpose as its definition reads,
//   out[n, o, co] = sum over i, k, ci with o = i*stride + k*dilation - pad_before
//                   of input[n, i, ci] * filters[k, co, ci],
// with groups: co in group g = co / (out / groups) sums only the group's
// input channels ci, and reads filters[k, co mod (out / groups), ci];
// scattered from every input element, accumulated in double, passed through
// the epilogue, activation(sum + bias[co]), and rounded to the output dtype
// once. Slow on purpose: it is the yardstick, not a path
// users take.
#include "kernels/reference.h"

#include <vector>

namespace ctw {
namespace {

double load_as_double(DType t, const void* base, int64_t index) {
  switch (t) {
    case DType::kFloat32: return static_cast<const float*>(base)[index];
    case DType::kFloat64: return static_cast<const double*>(base)[index];
    case DType::kFloat16: return float16_to_float(static_cast<const uint16_t*>(base)[index]);
    case DType::kBFloat16: return bfloat16_to_float(static_cast<const uint16_t*>(base)[index]);
  }
  return 0;
}

void store_from_double(DType t, void* base, int64_t index, double v) {
  switch (t) {
    case DType::kFloat32: static_cast<float*>(base)[index] = static_cast<float>(v); break;
    case DType::kFloat64: static_cast<double*>(base)[index] = v; break;
    // Via float32, as the fast kernel's float32 accumulation is. Double
    // rounding can differ from a direct double->half rounding in the last bit.
    case DType::kFloat16: static_cast<uint16_t*>(base)[index] = float_to_float16(static_cast<float>(v)); break;
    case DType::kBFloat16: static_cast<uint16_t*>(base)[index] = float_to_bfloat16(static_cast<float>(v)); break;
  }
}

// Flat index of (n, spatial d/h/w, c) in a tensor of the plan's layout.
int64_t tensor_index(const ConvTransposePlan& p, const std::array<int64_t, 3>& size, int64_t channels, int64_t n,
                     int64_t d, int64_t h, int64_t w, int64_t c) {
  const int64_t spatial = (d * size[1] + h) * size[2] + w;
  const int64_t plane = size[0] * size[1] * size[2];
  return p.channels_first ? (n * channels + c) * plane + spatial : (n * plane + spatial) * channels + c;
}

}  // namespace

void conv_transpose_reference(const ConvTransposePlan& p, const void* input, const void* filters, void* output,
                              const double* bias) {
  const int64_t cin = p.input_channels, cout = p.output_channels;
  const int64_t cin_g = p.group_input_channels(), cout_g = p.group_output_channels();
  std::vector<double> acc(static_cast<size_t>(p.output_elements), 0.0);
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t id = 0; id < p.input_size[0]; ++id)
      for (int64_t ih = 0; ih < p.input_size[1]; ++ih)
        for (int64_t iw = 0; iw < p.input_size[2]; ++iw)
          for (int64_t kd = 0; kd < p.filter_size[0]; ++kd)
            for (int64_t kh = 0; kh < p.filter_size[1]; ++kh)
              for (int64_t kw = 0; kw < p.filter_size[2]; ++kw) {
                const int64_t od = id * p.stride[0] + kd * p.dilation[0] - p.pad_before[0];
                const int64_t oh = ih * p.stride[1] + kh * p.dilation[1] - p.pad_before[1];
                const int64_t ow = iw * p.stride[2] + kw * p.dilation[2] - p.pad_before[2];
                if (od < 0 || od >= p.output_size[0] || oh < 0 || oh >= p.output_size[1] || ow < 0 ||
                    ow >= p.output_size[2])
                  continue;
                const int64_t tap = (kd * p.filter_size[1] + kh) * p.filter_size[2] + kw;
                for (int64_t co = 0; co < cout; ++co) {
                  const int64_t g = co / cout_g;
                  double sum = 0;
                  for (int64_t ci = g * cin_g; ci < (g + 1) * cin_g; ++ci) {
                    const double x = load_as_double(p.dtype, input,
                                                    tensor_index(p, p.input_size, cin, n, id, ih, iw, ci));
                    const double w = load_as_double(p.dtype, filters, (tap * cout_g + co % cout_g) * cin + ci);
                    sum += x * w;
                  }
                  acc[tensor_index(p, p.output_size, cout, n, od, oh, ow, co)] += sum;
                }
              }
  for (int64_t i = 0; i < p.output_elements; ++i) {
    const double sum = p.epilogue.bias ? acc[i] + bias[p.output_channel_of(i)] : acc[i];
    store_from_double(p.dtype, output, i, activate(p.epilogue, sum));
  }
}

}  // namespace ctw
