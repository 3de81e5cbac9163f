// Filters packed for a fast kernel, and the grouping of their taps by
// stride residue that every kernel's packing starts from.
//
// With stride s, output position o (per spatial dim) receives only the taps
// k whose k*dilation is congruent to (o + pad_before) mod s. So the taps
// fall into groups by residue, one group per output phase (phases.h), and
// every output pixel of a phase is a dense dot product over its group's
// taps and the input channels: no products against the zeros that a
// "dilate the input" formulation inserts.
//
// Packing depends only on the filters, the stride and the dilation (not on
// the input or output sizes), so a prepared operator keeps it across calls
// whose shapes differ.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "semantics/dtype.h"
#include "semantics/plan.h"

namespace ctw {

class PackedFilters {
 public:
  struct Group {
    int taps = 0;
    // k*dilation per spatial dim, for each tap in the group.
    std::vector<std::array<int64_t, 3>> tap_offsets;
    // For each tap in the group, its index in the filters' spatial dims
    // ((kd * filter_h + kh) * filter_w + kw): where the packers read it.
    std::vector<int64_t> filter_taps;
    // Runs of taps: {first, count} in group order, taps that share depth
    // and height and whose width offsets step by exactly the stride, so
    // that tap first + i reads the input column one left of tap first + i - 1.
    // Read in reverse, a run's taps read consecutive input pixels.
    std::vector<std::array<int, 2>> runs;
    size_t offset = 0;  // in elements, into data
  };

  PackedFilters() = default;
  PackedFilters(const PackedFilters&) = delete;
  PackedFilters& operator=(const PackedFilters&) = delete;
  ~PackedFilters() {
    std::free(data);
    std::free(bias);
  }

  DType dtype = DType::kFloat32;
  std::array<int64_t, 3> filter_size{}, stride{}, dilation{};
  int64_t input_channels = 0, output_channels = 0;
  int max_taps = 0;
  bool finite = true;  // no weight is Inf or NaN (set by the packers that use it)
  // Per spatial dim, the residues (k*dilation mod stride) that some tap has,
  // ascending: at most filter_size[d] of them, however large the stride.
  std::array<std::vector<int64_t>, 3> residues;
  // One group per combination of those residues, index
  // (i0 * residues[1].size() + i1) * residues[2].size() + i2. A combination
  // may hold no tap (taps == 0); its phase is then all zeros.
  std::vector<Group> groups;
  void* data = nullptr;  // compute type: double for float64, float otherwise
  // The epilogue's bias, one per output channel in the compute type, when
  // the plan's epilogue has one; kept beside the filters it belongs to.
  void* bias = nullptr;

  // The group serving residues r (per dim); each r[d] must be in residues[d].
  int group_of(const std::array<int64_t, 3>& r) const;
};

// Fills packed's filter values (dtype, sizes, channels), residues, tap
// groups and runs from the plan; no data yet. No channels: no groups.
void group_taps(const ConvTransposePlan& plan, PackedFilters* packed);

// Gives each group its share of `elements` (every tap the same share,
// groups one after another) and allocates data; false when memory runs out.
bool allocate_packed_data(const ConvTransposePlan& plan, int64_t elements, PackedFilters* packed);

}  // namespace ctw
