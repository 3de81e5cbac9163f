#include "kernels/phases.h"

#include <algorithm>
#include <cstring>

#include "kernels/epilogue.h"
#include "kernels/output_store.h"

namespace ctw {

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

void zero_output(const ConvTransposePlan& plan, void* output, const void* bias) {
  if (plan.epilogue.identity()) {
    // All-zero bits are +0.0 in every supported dtype.
    std::memset(output, 0, static_cast<size_t>(plan.output_elements) * dtype_size(plan.dtype));
    return;
  }
  // Each channel's value of an empty sum, written in the kernels' compute
  // type and rounding.
  with_compute_type(plan.dtype, [&](auto c) {
    using T = decltype(c);
    const EpilogueOp<T> epilogue = epilogue_of<T>(plan, bias);
    std::vector<T> value(static_cast<size_t>(plan.output_channels));
    for (int64_t co = 0; co < plan.output_channels; ++co) value[co] = epilogue(T(0), co);
    with_output_dtype(plan.dtype, [&](auto d) {
      constexpr DType D = decltype(d)::value;
      if constexpr (kComputesOutput<T, D>) {
        for (int64_t i = 0; i < plan.output_elements; ++i) store_output<D>(output, i, value[plan.output_channel_of(i)]);
      }
    });
  });
}

}  // namespace ctw
