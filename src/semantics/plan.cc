// The rules of tf.nn.conv_transpose (see plan.h). Messages follow
// TensorFlow's: they start with the op's name and give the argument, the
// value received and the rule it broke.
#include "semantics/plan.h"

#include <cmath>
#include <sstream>

namespace ctw {
namespace {

// Element counts must stay exact in a JS number (the API's shapes are numbers).
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

std::string pairs_string(const std::vector<int64_t>& flat) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    out << (i ? ", " : "") << "[" << flat[i] << ", " << flat[i + 1] << "]";
  }
  out << "]";
  return out.str();
}

class Checker {
 public:
  explicit Checker(const std::string& name) : prefix_(op_name_or_default(name) + ": ") {}
  Status fail(const std::string& message) const { return Status::InvalidArgument(prefix_ + message); }

 private:
  std::string prefix_;
};

// Layout facts for one data_format string at one spatial rank.
struct Layout {
  bool channels_first = false;
  std::string canonical;  // e.g. "NHWC"
};

bool parse_data_format(const std::string& format, int n, Layout* layout) {
  static const char* kLast[] = {"NWC", "NHWC", "NDHWC"};
  static const char* kFirst[] = {"NCW", "NCHW", "NCDHW"};
  if (format.empty() || format == kLast[n - 1]) {
    *layout = {false, kLast[n - 1]};
    return true;
  }
  if (format == kFirst[n - 1]) {
    *layout = {true, kFirst[n - 1]};
    return true;
  }
  return false;
}

// Positions of the batch, channel and first spatial dims in a data_format-ordered shape.
struct DimIndex {
  int batch, channel, spatial0;
};
DimIndex dim_index(bool channels_first) { return channels_first ? DimIndex{0, 1, 2} : DimIndex{0, -1, 1}; }

const char* spatial_dim_name(int n, int i) {
  static const char* k1[] = {"width"};
  static const char* k2[] = {"height", "width"};
  static const char* k3[] = {"depth", "height", "width"};
  return n == 1 ? k1[i] : n == 2 ? k2[i] : k3[i];
}

// TensorFlow's _get_sequence plus the op's checks: an int-or-list argument
// (strides, dilations) expanded to N spatial values.
Status expand_window_arg(const Checker& check, const char* arg, const std::vector<int64_t>& value,
                         int n, bool channels_first, std::array<int64_t, 3>* spatial) {
  const size_t len = value.size();
  std::vector<int64_t> per_spatial;
  if (len == 1) {
    per_spatial.assign(n, value[0]);
  } else if (len == static_cast<size_t>(n)) {
    per_spatial = value;
  } else if (len == static_cast<size_t>(n + 2)) {
    const int batch = 0;
    const int channel = channels_first ? 1 : n + 1;
    const int spatial0 = channels_first ? 2 : 1;
    if (value[batch] != 1 || value[channel] != 1) {
      std::ostringstream m;
      m << arg << " in the batch and channel dimensions must be 1 (TensorFlow does not support "
        << arg << " there). Received: " << arg << "=" << list_string(value);
      return check.fail(m.str());
    }
    per_spatial.assign(value.begin() + spatial0, value.begin() + spatial0 + n);
  } else {
    std::ostringstream m;
    m << arg << " should be of length 1, " << n << " or " << n + 2 << ". Received: " << arg << "="
      << list_string(value) << " of length " << len;
    return check.fail(m.str());
  }
  for (int i = 0; i < n; ++i) {
    if (per_spatial[i] < 1 || per_spatial[i] > kMaxSafeInteger) {
      std::ostringstream m;
      m << arg << " must be >= 1 (and below 2^53) in every spatial dimension. Received: " << arg << "="
        << list_string(value) << " (" << spatial_dim_name(n, i) << " " << arg << " "
        << per_spatial[i] << ")";
      return check.fail(m.str());
    }
  }
  spatial->fill(1);
  for (int i = 0; i < n; ++i) (*spatial)[3 - n + i] = per_spatial[i];
  return Status::Ok();
}

Status check_shape(const Checker& check, const char* arg, const std::vector<int64_t>& shape) {
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 || shape[i] > kMaxSafeInteger) {
      std::ostringstream m;
      m << arg << " dims must be non-negative (and below 2^53). Received: " << arg << "=" << list_string(shape)
        << " (dim " << i << " is " << shape[i] << ")";
      return check.fail(m.str());
    }
  }
  return Status::Ok();
}

// Product of dims, or -1 when it does not fit a JS-safe integer.
int64_t safe_product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d == 0) return 0;
  }
  for (int64_t d : dims) {
    if (p > kMaxSafeInteger / d) return -1;
    p *= d;
  }
  return p;
}

Status check_elements(const Checker& check, const char* arg, const std::vector<int64_t>& shape,
                      int64_t* elements) {
  *elements = safe_product(shape);
  if (*elements < 0) {
    std::ostringstream m;
    m << arg << " has too many elements: the product of " << arg << "=" << list_string(shape)
      << " exceeds 2^53 - 1";
    return check.fail(m.str());
  }
  return Status::Ok();
}

std::string padding_description(const WindowArgs& args) {
  return args.padding_is_list ? "explicit padding " + pairs_string(args.explicit_paddings)
                              : args.padding + " padding";
}

// The sizes of one spatial dim whose forward convolution gives `input_size`;
// lo > hi when there are none.
void legal_output_range(int64_t input_size, int64_t effective_filter, int64_t stride, Padding padding,
                        int64_t explicit_total, int64_t* lo, int64_t* hi) {
  // 128-bit: (input_size - 1) * stride can exceed int64 for absurd strides.
  __int128 l, h;
  if (padding == Padding::kSame) {
    l = input_size == 0 ? 0 : static_cast<__int128>(input_size - 1) * stride + 1;
    h = static_cast<__int128>(input_size) * stride;
  } else {
    const __int128 pads = padding == Padding::kExplicit ? explicit_total : 0;
    if (input_size == 0) {  // C++ division truncates toward zero: (x + s) / s == 0 for -s < x + s < s
      l = static_cast<__int128>(effective_filter) - 2 * static_cast<__int128>(stride) + 1 - pads;
      h = static_cast<__int128>(effective_filter) - 1 - pads;
    } else {
      l = static_cast<__int128>(input_size - 1) * stride + effective_filter - pads;
      h = l + stride - 1;
    }
  }
  if (l < 0) l = 0;
  // Beyond 2^53 no output_shape is acceptable anyway; report the range as empty.
  if (h > kMaxSafeInteger) h = kMaxSafeInteger;
  if (l > kMaxSafeInteger) l = h + 1;
  *lo = static_cast<int64_t>(l);
  *hi = static_cast<int64_t>(h);
}

// The filters and the window options: filter dims, data_format, strides,
// dilations and the padding's form. Shared by the one-call plan and the
// prepared operator, which knows only these until it runs.
struct Window {
  Layout layout;
  std::array<int64_t, 3> stride{}, dilation{};
  Padding padding = Padding::kSame;
  std::array<int64_t, 3> explicit_before{}, explicit_after{};
};

Status check_same_dtype(const Checker& check, DType input, DType filters) {
  if (input == filters) return Status::Ok();
  std::ostringstream m;
  m << "filters must have the same dtype as input. Received: input.dtype=" << dtype_name(input)
    << ", filters.dtype=" << dtype_name(filters);
  return check.fail(m.str());
}

// dtypes: the input's and the filters' (the same for the filter-only half).
Status plan_window(const Checker& check, const WindowArgs& args, const std::vector<int64_t>& filter_shape,
                   DType input_dtype, DType filter_dtype, int n, Window* w) {
  Status s;
  for (int i = 0; i < n; ++i) {
    if (filter_shape[i] <= 0) {
      std::ostringstream m;
      m << "filters spatial dims must be >= 1. Received: filters.shape=" << list_string(filter_shape);
      return check.fail(m.str());
    }
  }
  Layout& layout = w->layout;
  if (!parse_data_format(args.data_format, n, &layout)) {
    static const char* kValid[] = {"'NWC' or 'NCW'", "'NHWC' or 'NCHW'", "'NDHWC' or 'NCDHW'"};
    std::ostringstream m;
    m << "data_format must be " << kValid[n - 1] << " for a " << n << "-D transposed convolution (input rank "
      << n + 2 << "). Received: data_format='" << args.data_format << "'";
    return check.fail(m.str());
  }
  if (!(s = check_same_dtype(check, input_dtype, filter_dtype)).ok()) return s;

  const std::vector<int64_t> ones = {1};
  if (!(s = expand_window_arg(check, "strides", args.strides.value_or(ones), n, layout.channels_first, &w->stride)).ok())
    return s;
  if (!(s = expand_window_arg(check, "dilations", args.dilations.value_or(ones), n, layout.channels_first,
                              &w->dilation)).ok())
    return s;

  // The dilated filter extent must stay an exact JS number, like every size here.
  for (int i = 0; i < n; ++i) {
    const int64_t k = filter_shape[i], d = w->dilation[3 - n + i];
    if (k - 1 > (kMaxSafeInteger - 1) / d) {
      std::ostringstream m;
      m << "the dilated filter extent (k - 1) * dilation + 1 must be below 2^53. Received: filters.shape="
        << list_string(filter_shape) << " with dilations=" << list_string(args.dilations.value_or(ones))
        << " (" << spatial_dim_name(n, i) << ": kernel " << k << ", dilation " << d << ")";
      return check.fail(m.str());
    }
  }

  w->explicit_before.fill(0);
  w->explicit_after.fill(0);
  if (args.padding_is_list) {
    w->padding = Padding::kExplicit;
    const std::vector<int64_t>& p = args.explicit_paddings;
    if (p.size() != 2 * static_cast<size_t>(n + 2)) {
      std::ostringstream m;
      m << "padding, when a list, must have " << n + 2 << " [before, after] pairs (one per dimension of "
        << layout.canonical << "). Received: padding=" << pairs_string(p) << " with " << p.size() / 2 << " pairs";
      return check.fail(m.str());
    }
    for (int64_t v : p) {
      if (v < 0 || v > kMaxSafeInteger) {
        return check.fail("padding values must be non-negative (and below 2^53). Received: padding=" +
                          pairs_string(p));
      }
    }
    const DimIndex idx = dim_index(layout.channels_first);
    const int channel = layout.channels_first ? 1 : n + 1;
    if (p[2 * idx.batch] || p[2 * idx.batch + 1] || p[2 * channel] || p[2 * channel + 1]) {
      return check.fail("padding in the batch and channel dimensions must be 0. Received: padding=" +
                        pairs_string(p));
    }
    for (int i = 0; i < n; ++i) {
      w->explicit_before[3 - n + i] = p[2 * (idx.spatial0 + i)];
      w->explicit_after[3 - n + i] = p[2 * (idx.spatial0 + i) + 1];
    }
  } else if (args.padding == "SAME") {
    w->padding = Padding::kSame;
  } else if (args.padding == "VALID") {
    w->padding = Padding::kValid;
  } else if (args.padding == "EXPLICIT") {
    return check.fail(
        "padding='EXPLICIT' is not a valid value. To use explicit padding, padding must be a list of [before, after] "
        "pairs, one per dimension");
  } else {
    std::ostringstream m;
    m << "padding must be 'SAME', 'VALID' or a list of [before, after] pairs. Received: padding='" << args.padding
      << "'";
    if (args.padding == "same" || args.padding == "valid" || args.padding == "Same" || args.padding == "Valid") {
      m << " (TensorFlow's padding names are upper case)";
    }
    return check.fail(m.str());
  }

  return Status::Ok();
}

// A number as JavaScript prints it, for messages about numbers that came
// from JS: Infinity, -Infinity and NaN rather than C++'s inf and nan.
std::string js_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::ostringstream m;
  m.precision(17);
  m << v;
  return m.str();
}

// The options beyond TensorFlow's: groups against the filters' channels,
// the epilogue's parameters, the bias length. n: spatial dims.
Status check_groups_and_epilogue(const Checker& check, const WindowArgs& args,
                                 const std::vector<int64_t>& filter_shape, int n) {
  const int64_t groups = args.groups;
  const int64_t filter_out = filter_shape[n], filter_in = filter_shape[n + 1];
  if (groups < 1 || groups > kMaxSafeInteger) {
    std::ostringstream m;
    m << "groups must be an integer >= 1 (and below 2^53). Received: groups=" << groups;
    return check.fail(m.str());
  }
  if (filter_in % groups != 0) {
    std::ostringstream m;
    m << "filters' last dimension (input channels) must be divisible by groups. Received: filters.shape="
      << list_string(filter_shape) << " with " << filter_in << " input channels, groups=" << groups;
    return check.fail(m.str());
  }
  if (filter_out > kMaxSafeInteger / groups) {
    std::ostringstream m;
    m << "the output channels groups x filters' second to last dimension must be below 2^53. Received: groups="
      << groups << ", filters.shape=" << list_string(filter_shape);
    return check.fail(m.str());
  }
  const EpilogueArgs& e = args.epilogue;
  if ((e.activation == Activation::kLeakyRelu || e.activation == Activation::kElu) && !std::isfinite(e.alpha)) {
    std::ostringstream m;
    m << "activation " << activation_name(e.activation)
      << " needs a finite alpha. Received: activation.alpha=" << js_number(e.alpha);
    return check.fail(m.str());
  }
  if (e.activation == Activation::kClamp && !(e.lo <= e.hi)) {
    std::ostringstream m;
    m << "activation clamp needs minValue <= maxValue (and neither NaN). Received: activation.minValue="
      << js_number(e.lo) << ", activation.maxValue=" << js_number(e.hi);
    return check.fail(m.str());
  }
  if (e.bias && args.bias_length != groups * filter_out) {
    std::ostringstream m;
    m << "bias must have one value per output channel (" << groups * filter_out;
    if (groups > 1) m << " = groups " << groups << " x filters' second to last dimension " << filter_out;
    m << "). Received: a bias of " << args.bias_length << " values, filters.shape=" << list_string(filter_shape);
    return check.fail(m.str());
  }
  return Status::Ok();
}

}  // namespace

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kLinear: return "linear";
    case Activation::kRelu: return "relu";
    case Activation::kClamp: return "clamp";
    case Activation::kLeakyRelu: return "leakyRelu";
    case Activation::kElu: return "elu";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kTanh: return "tanh";
    case Activation::kGelu: return "gelu";
    case Activation::kSilu: return "silu";
  }
  return "unknown";
}

bool activation_from_name(const std::string& name, Activation* a) {
  for (Activation k : {Activation::kLinear, Activation::kRelu, Activation::kClamp, Activation::kLeakyRelu,
                       Activation::kElu, Activation::kSigmoid, Activation::kTanh, Activation::kGelu,
                       Activation::kSilu}) {
    if (name == activation_name(k)) {
      *a = k;
      return true;
    }
  }
  return false;
}

Status activation_arg(const std::string& op_name, const std::string& name, Activation* a) {
  if (activation_from_name(name, a)) return Status::Ok();
  std::ostringstream m;
  m << "activation must be one of 'linear', 'relu', 'relu6', 'clamp', 'leakyRelu', 'elu', 'sigmoid', 'tanh', "
    << "'gelu', 'silu'. Received: activation='" << name << "'";
  return Checker(op_name).fail(m.str());
}

std::string list_string(const std::vector<int64_t>& v) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << v[i];
  out << "]";
  return out.str();
}

FilterArgs filter_args(const ConvTransposeArgs& call) {
  FilterArgs f;
  static_cast<WindowArgs&>(f) = call;
  f.filter_shape = call.filter_shape;
  f.dtype = call.filter_dtype;
  return f;
}

ConvTransposeArgs call_args(const FilterArgs& filters, std::vector<int64_t> input_shape,
                            std::vector<int64_t> output_shape, DType input_dtype) {
  ConvTransposeArgs args;
  static_cast<WindowArgs&>(args) = filters;
  args.filter_shape = filters.filter_shape;
  args.filter_dtype = filters.dtype;
  args.input_shape = std::move(input_shape);
  args.output_shape = std::move(output_shape);
  args.input_dtype = input_dtype;
  return args;
}

WindowedOutput windowed_output_size(int64_t input_size, int64_t filter_size, int64_t dilation,
                                    int64_t stride, Padding padding, int64_t explicit_before,
                                    int64_t explicit_after) {
  const int64_t effective_filter = (filter_size - 1) * dilation + 1;
  WindowedOutput out;
  switch (padding) {
    case Padding::kValid:
      out.size = (input_size - effective_filter + stride) / stride;
      break;
    case Padding::kExplicit:
      out.size = (input_size + explicit_before + explicit_after - effective_filter + stride) / stride;
      out.pad_before = explicit_before;
      out.pad_after = explicit_after;
      break;
    case Padding::kSame: {
      out.size = (input_size + stride - 1) / stride;
      int64_t needed = (out.size - 1) * stride + effective_filter - input_size;
      if (needed < 0) needed = 0;
      out.pad_before = needed / 2;
      out.pad_after = needed - out.pad_before;
      break;
    }
  }
  return out;
}

Status plan_filters(const FilterArgs& args, ConvTransposePlan* plan) {
  const Checker check(args.name);
  *plan = ConvTransposePlan();
  const size_t rank = args.filter_shape.size();
  if (rank < 3 || rank > 5) {
    std::ostringstream m;
    m << "filters must have rank 3, 4 or 5 (1 to 3 spatial dims + [output_channels, input_channels]). "
      << "Received: filters.shape=" << list_string(args.filter_shape) << " of rank " << rank;
    return check.fail(m.str());
  }
  const int n = static_cast<int>(rank) - 2;
  Status s;
  if (!(s = check_shape(check, "filters.shape", args.filter_shape)).ok()) return s;
  Window window;
  if (!(s = plan_window(check, args, args.filter_shape, args.dtype, args.dtype, n, &window)).ok()) return s;
  if (!(s = check_groups_and_epilogue(check, args, args.filter_shape, n)).ok()) return s;
  plan->spatial_rank = n;
  plan->channels_first = window.layout.channels_first;
  plan->dtype = args.dtype;
  plan->stride = window.stride;
  plan->dilation = window.dilation;
  plan->filter_size.fill(1);
  for (int i = 0; i < n; ++i) plan->filter_size[3 - n + i] = args.filter_shape[i];
  plan->groups = args.groups;
  plan->epilogue = args.epilogue;
  plan->output_channels = args.groups * args.filter_shape[n];
  plan->input_channels = args.filter_shape[n + 1];
  if (!(s = check_elements(check, "filters.shape", args.filter_shape, &plan->filter_elements)).ok()) return s;
  return Status::Ok();
}

Status plan_conv_transpose(const ConvTransposeArgs& args, ConvTransposePlan* plan) {
  const Checker check(args.name);
  *plan = ConvTransposePlan();

  // Rank: TensorFlow takes N from output_shape and dispatches to conv{N}d_transpose.
  const size_t out_rank = args.output_shape.size();
  if (out_rank < 3 || out_rank > 5) {
    std::ostringstream m;
    m << "output_shape must be of length 3, 4 or 5. Received: output_shape="
      << list_string(args.output_shape) << " of length " << out_rank;
    return check.fail(m.str());
  }
  const int n = static_cast<int>(out_rank) - 2;
  if (args.input_shape.size() != out_rank) {
    std::ostringstream m;
    m << "input must have rank " << out_rank << " to match output_shape="
      << list_string(args.output_shape) << " (" << n << "-D transposed convolution). Received: input.shape="
      << list_string(args.input_shape) << " of rank " << args.input_shape.size();
    // The likeliest cause: one example without its batch dimension.
    if (args.input_shape.size() + 1 == out_rank) {
      std::vector<int64_t> batched{1};
      batched.insert(batched.end(), args.input_shape.begin(), args.input_shape.end());
      m << ". The input needs a leading batch dimension: a single example has shape " << list_string(batched);
    }
    return check.fail(m.str());
  }
  if (args.filter_shape.size() != out_rank) {
    std::ostringstream m;
    m << "filters must have rank " << out_rank << " (" << n
      << " spatial dims + [output_channels, input_channels]) for a " << n
      << "-D transposed convolution. Received: filters.shape=" << list_string(args.filter_shape)
      << " of rank " << args.filter_shape.size();
    return check.fail(m.str());
  }
  Status s;
  if (!(s = check_shape(check, "input.shape", args.input_shape)).ok()) return s;
  if (!(s = check_shape(check, "filters.shape", args.filter_shape)).ok()) return s;
  if (!(s = check_shape(check, "output_shape", args.output_shape)).ok()) return s;

  Window window;
  if (!(s = plan_window(check, args, args.filter_shape, args.input_dtype, args.filter_dtype, n, &window)).ok())
    return s;
  if (!(s = check_groups_and_epilogue(check, args, args.filter_shape, n)).ok()) return s;
  const Layout& layout = window.layout;
  const std::array<int64_t, 3>& stride = window.stride;
  const std::array<int64_t, 3>& dilation = window.dilation;
  const Padding padding = window.padding;
  const std::array<int64_t, 3>& explicit_before = window.explicit_before;
  const std::array<int64_t, 3>& explicit_after = window.explicit_after;

  // Batch and channels.
  const DimIndex idx = dim_index(layout.channels_first);
  const int channel = layout.channels_first ? 1 : n + 1;
  const int64_t in_channels = args.input_shape[channel];
  const int64_t filter_in = args.filter_shape[n + 1];
  const int64_t filter_out = args.groups * args.filter_shape[n];
  if (filter_in != in_channels) {
    std::ostringstream m;
    m << "filters' last dimension (input channels) must equal the input's channels. Received: filters.shape="
      << list_string(args.filter_shape) << " with " << filter_in << " input channels, input.shape="
      << list_string(args.input_shape) << " with " << in_channels << " channels (" << layout.canonical << ")";
    return check.fail(m.str());
  }
  if (args.output_shape[channel] != filter_out) {
    std::ostringstream m;
    if (args.groups == 1) {
      m << "output_shape's channels must equal filters' second to last dimension (output channels). Received: "
        << "output_shape=" << list_string(args.output_shape) << " with " << args.output_shape[channel]
        << " channels, filters.shape=" << list_string(args.filter_shape) << " with " << filter_out
        << " output channels";
    } else {
      m << "output_shape's channels must equal groups x filters' second to last dimension (output channels per "
        << "group). Received: output_shape=" << list_string(args.output_shape) << " with "
        << args.output_shape[channel] << " channels, groups=" << args.groups << ", filters.shape="
        << list_string(args.filter_shape) << ": " << filter_out << " output channels";
    }
    return check.fail(m.str());
  }
  if (args.output_shape[idx.batch] != args.input_shape[idx.batch]) {
    std::ostringstream m;
    m << "output_shape's batch must equal the input's batch. Received: output_shape="
      << list_string(args.output_shape) << ", input.shape=" << list_string(args.input_shape);
    return check.fail(m.str());
  }

  plan->spatial_rank = n;
  plan->channels_first = layout.channels_first;
  plan->dtype = args.input_dtype;
  plan->batch = args.input_shape[idx.batch];
  plan->input_channels = in_channels;
  plan->output_channels = filter_out;
  plan->groups = args.groups;
  plan->epilogue = args.epilogue;
  plan->stride = stride;
  plan->dilation = dilation;
  plan->output_shape = args.output_shape;
  plan->input_size.fill(1);
  plan->output_size.fill(1);
  plan->filter_size.fill(1);

  // TensorFlow's output_shape check: the forward convolution of an
  // output_shape-sized tensor must give exactly the input's spatial size.
  for (int i = 0; i < n; ++i) {
    const int d = 3 - n + i;
    const int64_t in_size = args.input_shape[idx.spatial0 + i];
    const int64_t out_size = args.output_shape[idx.spatial0 + i];
    const int64_t k = args.filter_shape[i];
    const WindowedOutput w =
        windowed_output_size(out_size, k, dilation[d], stride[d], padding, explicit_before[d], explicit_after[d]);
    if (w.size != in_size) {
      const int64_t effective = (k - 1) * dilation[d] + 1;
      int64_t lo, hi;
      legal_output_range(in_size, effective, stride[d], padding, explicit_before[d] + explicit_after[d], &lo, &hi);
      std::ostringstream m;
      m << "output_shape=" << list_string(args.output_shape) << " does not fit input.shape="
        << list_string(args.input_shape) << ": in the " << spatial_dim_name(n, i) << " dimension a convolution of "
        << out_size << " with kernel " << k << ", stride " << stride[d] << ", dilation " << dilation[d] << " and "
        << padding_description(args) << " gives " << w.size << ", not the input's " << in_size << ". ";
      if (lo > hi) {
        m << "No output size below 2^53 gives " << in_size << " there";
      } else if (lo == hi) {
        m << "The output size there must be " << lo;
      } else {
        m << "The output size there must be in [" << lo << ", " << hi << "]";
      }
      return check.fail(m.str());
    }
    plan->input_size[d] = in_size;
    plan->output_size[d] = out_size;
    plan->filter_size[d] = k;
    plan->pad_before[d] = w.pad_before;
    plan->pad_after[d] = w.pad_after;
  }

  // Sizes: exact as JS numbers.
  if (!(s = check_elements(check, "input.shape", args.input_shape, &plan->input_elements)).ok()) return s;
  if (!(s = check_elements(check, "filters.shape", args.filter_shape, &plan->filter_elements)).ok()) return s;
  if (!(s = check_elements(check, "output_shape", args.output_shape, &plan->output_elements)).ok()) return s;
  return Status::Ok();
}

}  // namespace ctw
