// The output phases of a strided transposed convolution.
//
// With stride s, the output splits into prod(s) phases by the residue of
// each coordinate; phase r is served by the tap group of the same residue
// (packed_filters.h), and each output element has one writer, so threads
// never contend and nothing needs zeroing first, except pixels no tap
// reaches (a filter smaller than the stride), which are zeros.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "kernels/packed_filters.h"
#include "semantics/plan.h"

namespace ctw {

// One output phase: the residues it serves and where its pixels lie.
struct Phase {
  int group = 0;                   // index into PackedFilters::groups
  std::array<int64_t, 3> first{};  // first output coordinate per dim
  std::array<int64_t, 3> count{};  // pixels per dim (output coordinate first + j*stride)
  int64_t pixels = 0;
  // Per tap of the group: phase pixel j (per dim) reads input coordinate
  // j + tap_base[t] (possibly outside the input), with
  // tap_base = (first + pad_before - k*dilation) / stride, exact by construction.
  std::vector<std::array<int64_t, 3>> tap_base;
};

// The phases that hold at least one output pixel and that some tap reaches:
// at most filter_spatial() of them, however large the stride. Sets
// *uncovered when other output pixels exist (phases no tap reaches, when the
// filter is smaller than the stride): those must be zero-filled.
std::vector<Phase> output_phases(const ConvTransposePlan& plan, const PackedFilters& packed, bool* uncovered);

// Fills the whole output with what an output element that no term reaches
// holds, before the kernels write the covered phases: zero, or with an
// epilogue, activation(bias[channel]). bias: the packed bias (compute type).
void zero_output(const ConvTransposePlan& plan, void* output, const void* bias);

inline int64_t floor_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

// The input coordinate that tap offset `off` reads for output coordinate o
// of a phase: (o + pad_before - off) / stride, exact by construction; may be
// out of [0, input_size).
inline int64_t input_coordinate(int64_t o, int64_t pad_before, int64_t off, int64_t stride) {
  return (o + pad_before - off) / stride;  // numerator is a multiple of stride
}

// Whether tap offset `off` reaches output coordinate o at all: o lies in the
// phase of the tap's residue (o + pad_before = off mod stride). Kernels that
// walk filter rows instead of phases (columns.cc) ask this.
inline bool tap_reaches(int64_t o, int64_t pad_before, int64_t off, int64_t stride) {
  return floor_mod(o + pad_before - off, stride) == 0;
}

// Output element index of (n, od, oh, ow, c) in the plan's layout.
inline int64_t output_index(const ConvTransposePlan& p, int64_t n, int64_t od, int64_t oh, int64_t ow, int64_t c) {
  const int64_t spatial = (od * p.output_size[1] + oh) * p.output_size[2] + ow;
  return p.channels_first ? (n * p.output_channels + c) * p.output_spatial() + spatial
                          : (n * p.output_spatial() + spatial) * p.output_channels + c;
}

}  // namespace ctw
