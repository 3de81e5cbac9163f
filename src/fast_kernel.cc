// The fast path's front: groups taps by stride residue, packs filters for
// the kernel that suits the shape (fast_kernel_for), and
// dispatches.
//   - igemm_kernel.cc: output channels in vector lanes, for 5 or more.
//   - dot_kernel.cc: input channels in vector lanes, for 1 to 4 output
//     channels (RGB decoders) fed by several input channels.
//   - pixel_kernel.cc: output pixels in vector lanes, for 1 to 4 output
//     channels from 1 to 3 input channels (audio, signal filters).
//   - columns_kernel.cc: consecutive output columns (every width phase) in
//     vector lanes, for 1-D filters whose width is a multiple of the stride
//     (signal interpolation filters, 1-D upsamplers with few channels).
#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "kernel_internal.h"

namespace ctw {

void PackedFiltersDeleter::operator()(PackedFilters* p) const { delete p; }

// For 1-4 output channels: input-channel lanes from this many input
// channels on, pixel lanes below. Measured crossovers (bench/sweep-narrow.mjs,
// 1 thread, 3x3 stride 2 and 5x5 stride 3 layers): with few input channels
// a dot product is short and padded to the vector width while pixel lanes
// stay full, and the pixel tiles reuse each input load across 2-4 output
// channels. Near the crossover the two differ by 10-20% either way.
constexpr int64_t kDotMinInputChannels[kNarrowMaxChannels] = {8, 24, 32, 24};

// For 1-4 output channels and a filter of one row (1-D, or 1 x k) whose
// width is a multiple of the stride: output-column lanes when a macro
// pixel's values (stride x output channels) fill two vectors and a filter
// row's K (taps per phase x input channels) is at least kColumnsMinK.
// Measured (1 thread, float32, in-process alternation): a 64-tap stride-8
// filter 1 -> 1 channel 1.55x the pixel lanes; 16 taps / 8, 64 -> 1: 1.6x
// the dot kernel; 8 taps / 4, 17 -> 2: 1.9x pixels; K = 2: even. On 2-D
// filters (4x4 / 2) the gain was 0-10% and with K = 6 a 20% loss, so
// filters with several rows keep the other kernels.
constexpr int64_t kColumnsMinValues = 8;
constexpr int64_t kColumnsMinK = 4;

// The columns kernel: every (width phase, tap of the phase) pair is a real tap.
bool width_kernel_folds(const ConvTransposePlan& plan) {
  return plan.stride[2] >= 2 && plan.dilation[2] == 1 && plan.kernel_size[2] % plan.stride[2] == 0;
}

FastKernel fast_kernel_for(const ConvTransposePlan& plan) {
  if (plan.output_channels > kNarrowMaxChannels) return FastKernel::kIgemm;
  if (width_kernel_folds(plan) && plan.kernel_size[0] * plan.kernel_size[1] == 1 &&
      plan.stride[2] * plan.output_channels >= kColumnsMinValues &&
      plan.kernel_size[2] / plan.stride[2] * plan.input_channels >= kColumnsMinK) {
    return FastKernel::kColumns;
  }
  const int64_t at_least = kDotMinInputChannels[std::max<int64_t>(plan.output_channels, 1) - 1];
  return plan.input_channels >= at_least ? FastKernel::kDot : FastKernel::kPixels;
}

bool fast_kernel_serves(FastKernel kernel, const ConvTransposePlan& plan) {
  switch (kernel) {
    case FastKernel::kAuto:
    case FastKernel::kIgemm: return true;
    case FastKernel::kColumns: return width_kernel_folds(plan);
    default: return plan.output_channels <= kNarrowMaxChannels;
  }
}

Status fast_kernel_check(const std::string& op_name, FastKernel kernel, const ConvTransposePlan& plan) {
  if (fast_kernel_serves(kernel, plan)) return Status::Ok();
  const std::string prefix = (op_name.empty() ? std::string("conv_transpose") : op_name) + ": kernel='" +
                             fast_kernel_name(kernel) + "' serves ";
  if (kernel == FastKernel::kColumns) {
    return Status::Error(prefix + "filters whose width is a multiple of the width stride (stride at least 2, "
                         "dilation 1); here width " + std::to_string(plan.kernel_size[2]) + ", stride " +
                         std::to_string(plan.stride[2]) + ", dilation " + std::to_string(plan.dilation[2]));
  }
  return Status::Error(prefix + "1 to 4 output channels; the filters have " + std::to_string(plan.output_channels));
}

const char* fast_kernel_name(FastKernel kernel) {
  switch (kernel) {
    case FastKernel::kAuto: return "auto";
    case FastKernel::kIgemm: return "igemm";
    case FastKernel::kDot: return "dot";
    case FastKernel::kPixels: return "pixels";
    case FastKernel::kColumns: return "columns";
  }
  return "unknown";
}

Status fast_kernel_from_name(const std::string& op_name, const std::string& name, FastKernel* kernel) {
  for (FastKernel k : {FastKernel::kAuto, FastKernel::kIgemm, FastKernel::kDot, FastKernel::kPixels, FastKernel::kColumns}) {
    if (name == fast_kernel_name(k)) {
      *kernel = k;
      return Status::Ok();
    }
  }
  return Status::Error((op_name.empty() ? std::string("conv_transpose") : op_name) + ": kernel='" + name +
                       "' is not one of 'auto', 'igemm', 'dot', 'pixels', 'columns'");
}

const char* packed_kernel_name(const PackedFilters& packed) { return fast_kernel_name(packed.kind); }

bool packed_filters_fit(const PackedFilters& packed, const ConvTransposePlan& plan) {
  return packed.dtype == plan.dtype && packed.kernel_size == plan.kernel_size && packed.stride == plan.stride &&
         packed.dilation == plan.dilation && packed.input_channels == plan.input_channels &&
         packed.output_channels == plan.output_channels && fast_kernel_serves(packed.kind, plan);
}

uint64_t fast_kernel_scratch_bytes(const ConvTransposePlan& plan) {
  const KernelOps& ops = kernel_ops(fast_kernel_for(plan));
  return static_cast<uint64_t>(ops.packed_elements(plan)) * compute_size(plan.dtype) + ops.scratch_bytes(plan);
}

int PackedFilters::group_of(const std::array<int64_t, 3>& r) const {
  size_t index = 0;
  for (int d = 0; d < 3; ++d) {
    const std::vector<int64_t>& rs = residues[d];
    index = index * rs.size() + static_cast<size_t>(std::lower_bound(rs.begin(), rs.end(), r[d]) - rs.begin());
  }
  return static_cast<int>(index);
}

std::vector<Phase> output_phases(const ConvTransposePlan& p, const PackedFilters& packed, bool* uncovered) {
  // Per dim, the first output coordinate of each residue that some tap has:
  // output o = first + j*stride is reached by taps with k*dilation = o + pad_before (mod stride).
  std::array<std::vector<int64_t>, 3> firsts, residues;
  double covered = 1, all = 1;
  for (int d = 0; d < 3; ++d) {
    for (int64_t r : packed.residues[d]) {
      const int64_t first = floor_mod(r - p.pad_before[d], p.stride[d]);
      if (first >= p.output_size[d]) continue;
      firsts[d].push_back(first);
      residues[d].push_back(r);
    }
    covered *= static_cast<double>(firsts[d].size());
    all *= static_cast<double>(std::min(p.stride[d], p.output_size[d]));
  }
  *uncovered = covered < all;
  std::vector<Phase> phases;
  for (size_t a = 0; a < firsts[0].size(); ++a)
    for (size_t b = 0; b < firsts[1].size(); ++b)
      for (size_t c = 0; c < firsts[2].size(); ++c) {
        Phase ph;
        ph.first = {firsts[0][a], firsts[1][b], firsts[2][c]};
        ph.group = packed.group_of({residues[0][a], residues[1][b], residues[2][c]});
        if (packed.groups[ph.group].taps == 0) {
          *uncovered = true;
          continue;
        }
        ph.pixels = 1;
        for (int d = 0; d < 3; ++d) {
          ph.count[d] = (p.output_size[d] - ph.first[d] + p.stride[d] - 1) / p.stride[d];
          ph.pixels *= ph.count[d];
        }
        for (const std::array<int64_t, 3>& off : packed.groups[ph.group].tap_offsets) {
          std::array<int64_t, 3> base;
          for (int d = 0; d < 3; ++d) base[d] = input_coordinate(ph.first[d], p.pad_before[d], off[d], p.stride[d]);
          ph.tap_base.push_back(base);
        }
        phases.push_back(ph);
      }
  return phases;
}

void zero_output(const ConvTransposePlan& plan, void* output) {
  // All-zero bits are +0.0 in every supported dtype.
  std::memset(output, 0, static_cast<size_t>(plan.output_elements) * dtype_size(plan.dtype));
}

PackedFiltersPtr pack_filters(const ConvTransposePlan& plan, const void* filters, Status* status, FastKernel kernel,
                              ThreadPool* pool) {
  *status = fast_kernel_check("", kernel, plan);
  if (!status->ok()) return nullptr;
  PackedFiltersPtr packed(new (std::nothrow) PackedFilters);
  if (!packed) {
    *status = Status::Error("conv_transpose: out of memory packing filters");
    return nullptr;
  }
  PackedFilters& p = *packed;
  p.kind = kernel == FastKernel::kAuto ? fast_kernel_for(plan) : kernel;
  p.dtype = plan.dtype;
  p.kernel_size = plan.kernel_size;
  p.stride = plan.stride;
  p.dilation = plan.dilation;
  p.input_channels = plan.input_channels;
  p.output_channels = plan.output_channels;

  // No channels, no products: the output is zeros (or empty) whatever the
  // kernel's size, so do not walk its taps.
  if (plan.input_channels == 0 || plan.output_channels == 0) {
    *status = Status::Ok();
    return packed;
  }

  // Group taps by k*dilation mod stride: group r serves the phase whose outputs o have o + pad_before = r.
  for (int d = 0; d < 3; ++d) {
    for (int64_t k = 0; k < plan.kernel_size[d]; ++k) p.residues[d].push_back(k * plan.dilation[d] % plan.stride[d]);
    std::sort(p.residues[d].begin(), p.residues[d].end());
    p.residues[d].erase(std::unique(p.residues[d].begin(), p.residues[d].end()), p.residues[d].end());
  }
  p.groups.resize(p.residues[0].size() * p.residues[1].size() * p.residues[2].size());
  for (int64_t kd = 0; kd < plan.kernel_size[0]; ++kd)
    for (int64_t kh = 0; kh < plan.kernel_size[1]; ++kh)
      for (int64_t kw = 0; kw < plan.kernel_size[2]; ++kw) {
        const std::array<int64_t, 3> off = {kd * plan.dilation[0], kh * plan.dilation[1], kw * plan.dilation[2]};
        PackedFilters::Group& g =
            p.groups[p.group_of({off[0] % plan.stride[0], off[1] % plan.stride[1], off[2] % plan.stride[2]})];
        g.tap_offsets.push_back(off);
        g.filter_taps.push_back((kd * plan.kernel_size[1] + kh) * plan.kernel_size[2] + kw);
        g.taps++;
      }
  for (PackedFilters::Group& g : p.groups) {
    p.max_taps = std::max(p.max_taps, g.taps);
    for (int t = 0; t < g.taps; ++t) {
      const std::array<int64_t, 3>& off = g.tap_offsets[t];
      if (!g.runs.empty()) {
        std::array<int, 2>& run = g.runs.back();
        const std::array<int64_t, 3>& prev = g.tap_offsets[run[0] + run[1] - 1];
        if (off[0] == prev[0] && off[1] == prev[1] && off[2] - prev[2] == plan.stride[2]) {
          ++run[1];
          continue;
        }
      }
      g.runs.push_back({t, 1});
    }
  }

  const KernelOps& ops = kernel_ops(p.kind);
  const int64_t elements = ops.packed_elements(plan);
  // Every layout gives every tap the same share of the packed data; groups follow each other.
  // (The columns kernel indexes its data by filter row instead and ignores these offsets.)
  const int64_t per_tap = elements / plan.kernel_spatial();
  size_t offset = 0;
  for (PackedFilters::Group& g : p.groups) {
    g.offset = offset;
    offset += static_cast<size_t>(g.taps * per_tap);
  }
  p.data = std::malloc(static_cast<size_t>(std::max<int64_t>(elements, 1)) * compute_size(plan.dtype));
  if (!p.data) {
    *status = Status::Error("conv_transpose: out of memory packing filters");
    return nullptr;
  }
  ops.pack(plan, filters, &p, pool);
  *status = Status::Ok();
  return packed;
}

Status conv_transpose_fast(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input,
                           void* output, ThreadPool* pool) {
  if (!packed_filters_fit(packed, plan)) {
    return Status::Error("conv_transpose: packed filters were made for other filters, strides or dilations");
  }
  if (plan.output_elements == 0) return Status::Ok();
  if (plan.input_channels == 0) {  // every output element is an empty sum
    zero_output(plan, output);
    return Status::Ok();
  }
  if (plan_macs(plan) < kMinMacsForThreads) pool = nullptr;
  return kernel_ops(packed.kind).run(plan, packed, input, output, pool);
}

}  // namespace ctw
