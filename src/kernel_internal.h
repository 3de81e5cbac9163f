// Shared by the fast kernels (not part of the core's interface): the packed
// filter object, the stride phases of the output, and small helpers.
//
// Stride phases: with stride s, output position o (per spatial dim) receives
// only the taps k whose k*dilation is congruent to (o + pad_before) mod s.
// So the output splits into prod(s) phases, each served by one group of taps,
// and every output pixel of a phase is a dense dot product over its group's
// taps and the input channels: no products against the zeros that a
// "dilate the input" formulation inserts, and each output element has one
// writer, so threads never contend and nothing needs zeroing first.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "conv_transpose_kernels.h"

namespace ctw {

// Which fast kernel a packing serves.
enum class KernelKind {
  kIgemm,   // output channels in vector lanes: wide outputs (igemm_kernel.cc)
  kNarrow,  // output pixels in vector lanes: 1 to 4 output channels (narrow_kernel.cc)
};

// The narrow kernel handles at most this many output channels.
constexpr int64_t kNarrowMaxChannels = 4;

inline KernelKind kernel_for(const ConvTransposePlan& plan) {
  return plan.output_channels <= kNarrowMaxChannels ? KernelKind::kNarrow : KernelKind::kIgemm;
}

class PackedFilters {
 public:
  struct Group {
    int taps = 0;
    // k*dilation per spatial dim, for each tap in the group.
    std::vector<std::array<int64_t, 3>> tap_offsets;
    size_t offset = 0;  // in elements, into data
  };

  KernelKind kind = KernelKind::kIgemm;
  DType dtype = DType::kFloat32;
  std::array<int64_t, 3> kernel_size{}, stride{}, dilation{};
  int64_t input_channels = 0, output_channels = 0;
  int max_taps = 0;
  // Per spatial dim, the residues (k*dilation mod stride) that some tap has,
  // ascending: at most kernel_size[d] of them, however large the stride.
  std::array<std::vector<int64_t>, 3> residues;
  // One group per combination of those residues, index
  // (i0 * residues[1].size() + i1) * residues[2].size() + i2. A combination
  // may hold no tap (taps == 0); its phase is then all zeros.
  std::vector<Group> groups;
  void* data = nullptr;  // float for float32/float16/bfloat16, double for float64

  // The group serving residues r (per dim); each r[d] must be in residues[d].
  int group_of(const std::array<int64_t, 3>& r) const;

  ~PackedFilters() { std::free(data); }
};

// One output phase: the residues it serves and where its pixels lie.
struct Phase {
  int group = 0;                   // index into PackedFilters::groups
  std::array<int64_t, 3> first{};  // first output coordinate per dim
  std::array<int64_t, 3> count{};  // pixels per dim (output coordinate first + j*stride)
  int64_t pixels = 0;
};

// The phases that hold at least one output pixel and that some tap reaches:
// at most kernel_spatial() of them, however large the stride. Sets
// *uncovered when other output pixels exist (phases no tap reaches, when the
// kernel is smaller than the stride): those must be zero-filled.
std::vector<Phase> output_phases(const ConvTransposePlan& plan, const PackedFilters& packed, bool* uncovered);

// Work items numbered across phases without materialising a list (a list
// would be an allocation proportional to the output, outside the memory
// budget, and a failed std::vector allocation aborts a build without
// exceptions). Each phase contributes a count; item i maps back to its phase
// and its index within the phase.
class ItemSpace {
 public:
  void add_phase(int64_t items) { ends_.push_back(total_ += items); }
  int64_t total() const { return total_; }
  void locate(int64_t item, int* phase, int64_t* local) const {
    const size_t p = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), item) - ends_.begin());
    *phase = static_cast<int>(p);
    *local = item - (p == 0 ? 0 : ends_[p - 1]);
  }

 private:
  std::vector<int64_t> ends_;
  int64_t total_ = 0;
};

// Zeroes the whole output (before the kernels write the covered phases).
void zero_output(const ConvTransposePlan& plan, void* output);

// The input coordinate that tap offset `off` reads for output coordinate o
// of a phase: (o + pad_before - off) / stride, exact by construction; may be
// out of [0, input_size).
inline int64_t input_coordinate(int64_t o, int64_t pad_before, int64_t off, int64_t stride) {
  return (o + pad_before - off) / stride;  // numerator is a multiple of stride
}

inline bool uses_double(DType t) { return t == DType::kFloat64; }
inline bool is_sixteen_bit(DType t) { return t == DType::kFloat16 || t == DType::kBFloat16; }
inline size_t compute_size(DType t) { return uses_double(t) ? sizeof(double) : sizeof(float); }
inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
inline int64_t floor_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

// Copies the input (plan.dtype, plan layout) into compute type T, either
// channels last ([n][d][h][w][c], packed) or as planar rows
// ([n][c][d][h] rows of `row_stride`, the width starting at `row_left`).
// Reads the source in order and converts with no per-element dtype switch.
template <typename T, typename S, typename Convert>
void relayout(const ConvTransposePlan& p, const S* src, T* dst, bool planar, int64_t row_stride, int64_t row_left,
              Convert convert) {
  const int64_t c_count = p.input_channels, rows = p.input_size[0] * p.input_size[1], width = p.input_size[2];
  auto dst_index = [&](int64_t n, int64_t c, int64_t r, int64_t w) {
    return planar ? ((n * c_count + c) * rows + r) * row_stride + row_left + w
                  : ((n * rows + r) * width + w) * c_count + c;
  };
  for (int64_t n = 0; n < p.batch; ++n) {
    if (p.channels_first) {
      for (int64_t c = 0; c < c_count; ++c)
        for (int64_t r = 0; r < rows; ++r) {
          T* out = dst + dst_index(n, c, r, 0);
          const int64_t step = planar ? 1 : c_count;
          for (int64_t w = 0; w < width; ++w, ++src) out[w * step] = convert(*src);
        }
    } else {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t w = 0; w < width; ++w) {
          T* out = dst + dst_index(n, 0, r, w);
          const int64_t step = planar ? rows * row_stride : 1;
          for (int64_t c = 0; c < c_count; ++c, ++src) out[c * step] = convert(*src);
        }
    }
  }
}

// Calls f(source pointer, convert) with the tensor's storage type and a
// converter from it to the compute type (double for float64, float else):
// the one place that maps a dtype to its storage.
template <typename F>
void with_storage(DType dtype, const void* data, F&& f) {
  switch (dtype) {
    case DType::kFloat64: f(static_cast<const double*>(data), [](double v) { return v; }); break;
    case DType::kFloat32: f(static_cast<const float*>(data), [](float v) { return v; }); break;
    case DType::kFloat16: f(static_cast<const uint16_t*>(data), [](uint16_t v) { return float16_to_float(v); }); break;
    case DType::kBFloat16: f(static_cast<const uint16_t*>(data), [](uint16_t v) { return bfloat16_to_float(v); }); break;
  }
}

template <typename T>
void relayout_input(const ConvTransposePlan& p, const void* input, T* dst, bool planar, int64_t row_stride = 0,
                    int64_t row_left = 0) {
  with_storage(p.dtype, input, [&](auto src, auto convert) {
    relayout(p, src, dst, planar, row_stride, row_left, [&](auto v) { return static_cast<T>(convert(v)); });
  });
}

// Below this many multiply-adds, waking another thread costs more than it saves.
constexpr double kMinMacsForThreads = 32768;
// Per-thread scratch is sized for at most this many threads.
constexpr int kMaxThreadsForScratch = 64;

inline double plan_macs(const ConvTransposePlan& p) {
  return static_cast<double>(p.batch) * p.input_spatial() * p.input_channels * p.output_channels * p.kernel_spatial();
}

// The two fast kernels. Each packs in its own layout (pack_filters has set the
// groups' offsets) and runs from a plan.
int64_t igemm_packed_elements(const ConvTransposePlan& plan);
void igemm_pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed);
uint64_t igemm_scratch_bytes(const ConvTransposePlan& plan);
Status igemm_run(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input, void* output,
                 ThreadPool* pool);

int64_t narrow_packed_elements(const ConvTransposePlan& plan);
void narrow_pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed);
uint64_t narrow_scratch_bytes(const ConvTransposePlan& plan);
Status narrow_run(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input, void* output,
                  ThreadPool* pool);

}  // namespace ctw
