// The fast path's front: groups taps by stride residue, packs filters for
// the kernel that suits the shape (kernel_for in kernel_internal.h), and
// dispatches.
//   - igemm_kernel.cc: output channels in vector lanes, for 5 or more.
//   - dot_kernel.cc: input channels in vector lanes, for 1 to 4 output
//     channels (RGB decoders) fed by several input channels.
//   - pixel_kernel.cc: output pixels in vector lanes, for 1 to 4 output
//     channels from 1 to 3 input channels (audio, signal filters).
#include <algorithm>
#include <cstring>
#include <new>

#include "kernel_internal.h"

namespace ctw {

void PackedFiltersDeleter::operator()(PackedFilters* p) const { delete p; }

bool packed_filters_fit(const PackedFilters& packed, const ConvTransposePlan& plan) {
  return packed.dtype == plan.dtype && packed.kernel_size == plan.kernel_size && packed.stride == plan.stride &&
         packed.dilation == plan.dilation && packed.input_channels == plan.input_channels &&
         packed.output_channels == plan.output_channels && packed.kind == kernel_for(plan);
}

const char* fast_kernel_name(const ConvTransposePlan& plan) {
  switch (kernel_for(plan)) {
    case KernelKind::kDot: return "dot";
    case KernelKind::kPixels: return "pixels";
    default: return "igemm";
  }
}

uint64_t fast_kernel_scratch_bytes(const ConvTransposePlan& plan) {
  const KernelOps& ops = kernel_ops(kernel_for(plan));
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

PackedFiltersPtr pack_filters(const ConvTransposePlan& plan, const void* filters, Status* status) {
  PackedFiltersPtr packed(new (std::nothrow) PackedFilters);
  if (!packed) {
    *status = Status::Error("conv_transpose: out of memory packing filters");
    return nullptr;
  }
  PackedFilters& p = *packed;
  p.kind = kernel_for(plan);
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
  for (const PackedFilters::Group& g : p.groups) p.max_taps = std::max(p.max_taps, g.taps);

  const KernelOps& ops = kernel_ops(p.kind);
  const int64_t elements = ops.packed_elements(plan);
  // Every layout give every tap the same share of the packed data; groups follow each other.
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
  ops.pack(plan, filters, &p);
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
