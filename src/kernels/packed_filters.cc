#include "kernels/packed_filters.h"

#include <algorithm>

namespace ctw {

int PackedFilters::group_of(const std::array<int64_t, 3>& r) const {
  size_t index = 0;
  for (int d = 0; d < 3; ++d) {
    const std::vector<int64_t>& rs = residues[d];
    index = index * rs.size() + static_cast<size_t>(std::lower_bound(rs.begin(), rs.end(), r[d]) - rs.begin());
  }
  return static_cast<int>(index);
}

void group_taps(const ConvTransposePlan& plan, PackedFilters* packed) {
  PackedFilters& p = *packed;
  p.dtype = plan.dtype;
  p.filter_size = plan.filter_size;
  p.stride = plan.stride;
  p.dilation = plan.dilation;
  p.input_channels = plan.input_channels;
  p.output_channels = plan.output_channels;
  // No channels, no products: the output is zeros (or empty) whatever the
  // filters' size, so do not walk their taps.
  if (plan.input_channels == 0 || plan.output_channels == 0) return;

  // Group taps by k*dilation mod stride: group r serves the phase whose outputs o have o + pad_before = r.
  for (int d = 0; d < 3; ++d) {
    for (int64_t k = 0; k < plan.filter_size[d]; ++k) p.residues[d].push_back(k * plan.dilation[d] % plan.stride[d]);
    std::sort(p.residues[d].begin(), p.residues[d].end());
    p.residues[d].erase(std::unique(p.residues[d].begin(), p.residues[d].end()), p.residues[d].end());
  }
  p.groups.resize(p.residues[0].size() * p.residues[1].size() * p.residues[2].size());
  for (int64_t kd = 0; kd < plan.filter_size[0]; ++kd)
    for (int64_t kh = 0; kh < plan.filter_size[1]; ++kh)
      for (int64_t kw = 0; kw < plan.filter_size[2]; ++kw) {
        const std::array<int64_t, 3> off = {kd * plan.dilation[0], kh * plan.dilation[1], kw * plan.dilation[2]};
        PackedFilters::Group& g =
            p.groups[p.group_of({off[0] % plan.stride[0], off[1] % plan.stride[1], off[2] % plan.stride[2]})];
        g.tap_offsets.push_back(off);
        g.filter_taps.push_back((kd * plan.filter_size[1] + kh) * plan.filter_size[2] + kw);
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
}

bool allocate_packed_data(const ConvTransposePlan& plan, int64_t elements, PackedFilters* packed) {
  // (The columns kernel indexes its data by filter row instead and ignores these offsets.)
  const int64_t per_tap = plan.filter_spatial() == 0 ? 0 : elements / plan.filter_spatial();
  size_t offset = 0;
  for (PackedFilters::Group& g : packed->groups) {
    g.offset = offset;
    offset += static_cast<size_t>(g.taps * per_tap);
  }
  packed->data = std::malloc(static_cast<size_t>(std::max<int64_t>(elements, 1)) * compute_bytes(plan.dtype));
  return packed->data != nullptr;
}

}  // namespace ctw
