// The semantics of tf.nn.conv_transpose, in one place: the bottom layer of
// the core, which includes nothing from the operator, kernel or runtime
// folders.
//
// plan_conv_transpose() turns the op's arguments (shapes, strides,
// dilations, padding, data format, dtypes) into a ConvTransposePlan, or into
// an invalid-argument Status worded like TensorFlow's. Every rule of the op
// lives here: ranks, layouts, the int-or-list forms of strides and
// dilations, SAME / VALID / explicit padding, TensorFlow's exact
// output_shape check, channel agreement and size overflow. plan_filters()
// checks the filter-only half (what a prepared operator knows at create).
// Bindings and the JS layer only translate; kernels only read the plan.
// Resource rules (how much memory a call may take) belong to the operator.
//
// The plan is made from shapes alone, so a caller learns every size (and any
// error) before it allocates or copies a byte.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dtype.h"
#include "epilogue.h"
#include "status.h"

namespace ctw {

constexpr int kMaxSpatialRank = 3;

// The options, whatever the tensors' sizes: how the filters slide
// (TensorFlow's), and the channel groups and the output epilogue (beyond
// TensorFlow's op: PyTorch's, ONNX's and WebNN's; the defaults change nothing).
struct WindowArgs {
  std::string name;                        // starts every message; empty means "conv_transpose"
  // Length 1, N or N+2 (an int arrives as length 1). Not given (None in
  // TensorFlow's Python) means 1 in every dimension, for both.
  std::optional<std::vector<int64_t>> strides;
  std::optional<std::vector<int64_t>> dilations;
  std::string padding;                     // "SAME" or "VALID" when padding was a string
  bool padding_is_list = false;            // padding was given as a list of [before, after] pairs
  std::vector<int64_t> explicit_paddings;  // then: the pairs flattened, data_format order
  std::string data_format;                 // empty means channels last
  // Channels split into `groups` independent convolutions: group g reads
  // input channels [g, g + 1) * in / groups and writes output channels
  // [g, g + 1) * out / groups. The filters are then spatial dims +
  // [out_channels / groups, in_channels] (the grouped forward
  // convolution's filters).
  int64_t groups = 1;
  EpilogueArgs epilogue;
  int64_t bias_length = 0;                 // elements of the bias, when epilogue.bias
};

// The filter-only arguments: what a prepared operator is created from.
struct FilterArgs : WindowArgs {
  std::vector<int64_t> filter_shape;       // spatial dims + [out_channels / groups, in_channels]
  DType dtype = DType::kFloat32;
};

// Every argument of one call.
struct ConvTransposeArgs : WindowArgs {
  std::vector<int64_t> input_shape;        // N+2 dims in data_format order
  std::vector<int64_t> filter_shape;       // spatial dims + [out_channels / groups, in_channels]
  std::vector<int64_t> output_shape;       // N+2 dims in data_format order
  DType input_dtype = DType::kFloat32;
  DType filter_dtype = DType::kFloat32;
};

// The filter-only half of a call's arguments, and a call's arguments from
// a prepared operator's filter arguments and the call's shapes.
FilterArgs filter_args(const ConvTransposeArgs& call);
ConvTransposeArgs call_args(const FilterArgs& filters, std::vector<int64_t> input_shape,
                            std::vector<int64_t> output_shape, DType input_dtype);

// Everything a kernel needs, in a canonical 3-D form: 1-D and 2-D problems
// get leading spatial dims of size 1 (filter size 1, stride 1, dilation 1,
// no pad) so that kernels have one shape to handle.
struct ConvTransposePlan {
  int spatial_rank = 0;          // N: 1, 2 or 3
  bool channels_first = false;   // NC... layouts
  DType dtype = DType::kFloat32;
  int64_t batch = 0;
  int64_t input_channels = 0;    // the transposed op's input channels (filters' last dim)
  int64_t output_channels = 0;   // groups x filters' second to last dim
  int64_t groups = 1;
  EpilogueArgs epilogue;
  // Index 0 is depth, 1 height, 2 width.
  std::array<int64_t, 3> input_size{};   // spatial size of the transposed op's input
  std::array<int64_t, 3> output_size{};  // spatial size of its output
  std::array<int64_t, 3> filter_size{};  // the filters' spatial extent (taps per dim)
  std::array<int64_t, 3> stride{};
  std::array<int64_t, 3> dilation{};
  // Padding of the forward convolution whose gradient this is: output
  // position o receives input i through tap k when o = i*stride + k*dilation - pad_before.
  std::array<int64_t, 3> pad_before{};
  std::array<int64_t, 3> pad_after{};
  std::vector<int64_t> output_shape;     // N+2 dims in data_format order, as given

  int64_t input_elements = 0;
  int64_t filter_elements = 0;
  int64_t output_elements = 0;

  int64_t input_spatial() const { return input_size[0] * input_size[1] * input_size[2]; }
  int64_t output_spatial() const { return output_size[0] * output_size[1] * output_size[2]; }
  int64_t filter_spatial() const { return filter_size[0] * filter_size[1] * filter_size[2]; }
  // The channel of output element `index` (flat, in the plan's layout).
  int64_t output_channel_of(int64_t index) const {
    return channels_first ? index / output_spatial() % output_channels : index % output_channels;
  }
  int64_t group_input_channels() const { return input_channels / groups; }
  int64_t group_output_channels() const { return output_channels / groups; }
};

Status plan_conv_transpose(const ConvTransposeArgs& args, ConvTransposePlan* plan);

// How every message of the core prints a list of integers: "[1, 8, 8, 3]".
std::string list_string(const std::vector<int64_t>& v);

// The prepared operator's half of the plan: what the filters and the window
// options (strides, dilations, padding form, data_format) decide, with N from
// the filters' rank. Fills spatial_rank, channels_first, dtype, filter_size,
// stride, dilation, the channel counts and filter_elements; sizes that
// depend on the input stay unset until plan_conv_transpose for a call.
Status plan_filters(const FilterArgs& args, ConvTransposePlan* plan);

// TensorFlow's GetWindowedOutputSize for one dim: the forward convolution's
// output size for an input of `input_size`, and the padding it implies.
// Exposed for tests; plan_conv_transpose is the one caller in the library.
enum class Padding { kSame, kValid, kExplicit };
struct WindowedOutput {
  int64_t size = 0;
  int64_t pad_before = 0;
  int64_t pad_after = 0;
};
WindowedOutput windowed_output_size(int64_t input_size, int64_t filter_size, int64_t dilation,
                                    int64_t stride, Padding padding, int64_t explicit_before,
                                    int64_t explicit_after);

}  // namespace ctw
