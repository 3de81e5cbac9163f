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
#include <type_traits>
#include <vector>

#include "conv_transpose_kernels.h"
#include "half_vec.h"
#include "input_layout.h"

namespace ctw {

// Output-channel lanes would sit mostly empty at or below this many output channels.
constexpr int64_t kNarrowMaxChannels = 4;

class PackedFilters {
 public:
  struct Group {
    int taps = 0;
    // k*dilation per spatial dim, for each tap in the group.
    std::vector<std::array<int64_t, 3>> tap_offsets;
    // For each tap in the group, its index in the filters' spatial dims
    // ((kd * kernel_h + kh) * kernel_w + kw): where the packers read it.
    std::vector<int64_t> filter_taps;
    // Runs of taps: {first, count} in group order, taps that share depth
    // and height and whose width offsets step by exactly the stride, so
    // that tap first + i reads the input column one left of tap first + i - 1.
    // Read in reverse, a run's taps read consecutive input pixels.
    std::vector<std::array<int, 2>> runs;
    size_t offset = 0;  // in elements, into data
  };

  FastKernel kind = FastKernel::kIgemm;  // never kAuto
  DType dtype = DType::kFloat32;
  std::array<int64_t, 3> kernel_size{}, stride{}, dilation{};
  int64_t input_channels = 0, output_channels = 0;
  int max_taps = 0;
  bool finite = true;  // no weight is Inf or NaN (set by the packers that use it)
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
  // Per tap of the group: phase pixel j (per dim) reads input coordinate
  // j + tap_base[t] (possibly outside the input), with
  // tap_base = (first + pad_before - k*dilation) / stride, exact by construction.
  std::vector<std::array<int64_t, 3>> tap_base;
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

// Whether tap offset `off` reaches output coordinate o at all: o lies in the
// phase of the tap's residue (o + pad_before = off mod stride). Kernels that
// walk filter rows instead of phases (columns_kernel.cc) ask this.
inline bool tap_reaches(int64_t o, int64_t pad_before, int64_t off, int64_t stride) {
  return floor_mod(o + pad_before - off, stride) == 0;
}

// Memory that one thread writes and another reads should not share these
// bytes (two 64-byte lines: adjacent-line prefetch pairs them).
constexpr size_t kCacheLine = 128;

// Per-thread scratch: one slice of `count` T per thread, each slice on
// cache lines of its own. Neighbouring slices in one plain allocation share
// a line wherever a slice's size is not a multiple of the line, and two
// threads writing that line by turns stall each other (seen here: a
// 4-pixel-row kernel ran slower on two threads than on one, depending on
// where malloc placed the buffer).
template <typename T>
class PerThread {
 public:
  static constexpr size_t kLine = kCacheLine;
  PerThread() = default;
  PerThread(const PerThread&) = delete;
  PerThread& operator=(const PerThread&) = delete;
  ~PerThread() { std::free(data_); }

  // False when memory runs out.
  bool allocate(size_t count, int threads) {
    stride_ = (std::max<size_t>(count, 1) * sizeof(T) + kLine - 1) / kLine * kLine;
    data_ = std::aligned_alloc(kLine, stride_ * static_cast<size_t>(std::max(threads, 1)));
    return data_ != nullptr;
  }
  T* slice(int thread) const { return reinterpret_cast<T*>(static_cast<char*>(data_) + stride_ * static_cast<size_t>(thread)); }

 private:
  void* data_ = nullptr;
  size_t stride_ = 0;
};

// Below this many multiply-adds, waking another thread costs more than it saves.
constexpr double kMinMacsForThreads = 32768;
// Per-thread scratch is sized for at most this many threads.
constexpr int kMaxThreadsForScratch = 64;

// Bytes of per-thread scratch (PerThread) for `bytes_per_thread` each, as
// the memory budget counts it: every slice rounded up to its own lines.
inline uint64_t per_thread_bytes(uint64_t bytes_per_thread) {
  return static_cast<uint64_t>(kMaxThreadsForScratch) * ((bytes_per_thread + kCacheLine - 1) / kCacheLine * kCacheLine);
}

inline double plan_macs(const ConvTransposePlan& p) {
  return static_cast<double>(p.batch) * p.input_spatial() * p.input_channels * p.output_channels * p.kernel_spatial();
}

// Work items of the narrow kernels (dot and pixels): with 1-4 output
// channels the pixels of neighbouring phases share cache lines, so an item
// owns a stretch of one output row across every phase that lands on it; two
// threads never write the same line. A stretch gives each width phase about
// kSegmentPhasePixels pixels (at least kSegmentPixels columns in all): each
// phase row pays a fixed cost (its taps, its edge tiles), which a long 1-D
// signal with a large stride would otherwise pay every few pixels.
constexpr int64_t kSegmentPixels = 512;
constexpr int64_t kSegmentPhasePixels = 256;

struct RowSegment {
  int64_t batch = 0, od = 0, oh = 0;  // the output row
  int64_t ow0 = 0, ow1 = 0;           // its columns [ow0, ow1)
};

inline int64_t row_segment_pixels(const ConvTransposePlan& p) {
  return std::max(kSegmentPixels, kSegmentPhasePixels * p.stride[2]);
}
inline int64_t row_segments_per_row(const ConvTransposePlan& p) {
  const int64_t pixels = row_segment_pixels(p);
  return (p.output_size[2] + pixels - 1) / pixels;
}
inline int64_t row_segment_count(const ConvTransposePlan& p) {
  return p.batch * p.output_size[0] * p.output_size[1] * row_segments_per_row(p);
}
inline RowSegment row_segment(const ConvTransposePlan& p, int64_t index) {
  const int64_t segments = row_segments_per_row(p), rows = p.output_size[0] * p.output_size[1];
  const int64_t pixels = row_segment_pixels(p);
  RowSegment s;
  s.ow0 = index % segments * pixels;
  s.ow1 = std::min(s.ow0 + pixels, p.output_size[2]);
  const int64_t row = index / segments % rows;
  s.od = row / p.output_size[1];
  s.oh = row % p.output_size[1];
  s.batch = index / segments / rows;
  return s;
}

// Output element index of (n, od, oh, ow, c) in the plan's layout.
inline int64_t output_index(const ConvTransposePlan& p, int64_t n, int64_t od, int64_t oh, int64_t ow, int64_t c) {
  const int64_t spatial = (od * p.output_size[1] + oh) * p.output_size[2] + ow;
  return p.channels_first ? (n * p.output_channels + c) * p.output_spatial() + spatial
                          : (n * p.output_spatial() + spatial) * p.output_channels + c;
}

// Where phase `ph` crosses a row segment: its row (jd, jh) within the
// phase and the phase pixels j in [begin, end) along the width (output
// column first[2] + j * stride[2]) that fall in the segment.
struct PhaseRow {
  int64_t jd = 0, jh = 0;
  int64_t begin = 0, end = 0;
  // Output of phase pixel j, channel c: out0 + j * pixel_step + c * channel_step.
  int64_t out0 = 0, pixel_step = 0, channel_step = 0;
};

// False when the phase has no pixel in the segment.
inline bool phase_row(const ConvTransposePlan& p, const Phase& ph, const RowSegment& s, PhaseRow* row) {
  // first[d] < stride[d], so the row is the phase's exactly when the residues agree.
  if (s.od % p.stride[0] != ph.first[0] || s.oh % p.stride[1] != ph.first[1]) return false;
  row->jd = s.od / p.stride[0];
  row->jh = s.oh / p.stride[1];
  const int64_t first = ph.first[2], step = p.stride[2];
  row->begin = s.ow0 <= first ? 0 : (s.ow0 - first + step - 1) / step;
  row->end = s.ow1 <= first ? 0 : std::min(ph.count[2], (s.ow1 - first + step - 1) / step);
  row->out0 = output_index(p, s.batch, s.od, s.oh, first, 0);
  row->channel_step = p.channels_first ? p.output_spatial() : 1;
  row->pixel_step = (p.channels_first ? 1 : p.output_channels) * step;
  return row->begin < row->end;
}

// A tap of a phase's group, or a run of its taps, seen from one phase row:
// the input row it reads and, along the width, phase pixel j reads input
// column iw0 + j through the tap read first, which lies inside the input for
// j in [lo, hi).
struct RowTap {
  int tap;   // index within the group (for a run: its first tap in group order)
  int taps;  // 1, or the taps of a run
  int64_t id, ih, iw0;
  int64_t lo, hi;
};

// The taps of phase `ph` (by_runs: the group's runs of taps, each read from
// its last tap in group order, the rightmost-reading one) whose depth and
// height land inside the input for its row (jd, jh); writes them to taps
// (room for the group's taps) and returns how many.
inline int row_taps(const ConvTransposePlan& p, const Phase& ph, const PackedFilters::Group& group,
                    const PhaseRow& row, bool by_runs, RowTap* taps) {
  int live = 0;
  const int units = by_runs ? static_cast<int>(group.runs.size()) : group.taps;
  for (int u = 0; u < units; ++u) {
    const int first = by_runs ? group.runs[u][0] : u;
    const int count = by_runs ? group.runs[u][1] : 1;
    const std::array<int64_t, 3>& base = ph.tap_base[first + count - 1];
    RowTap& r = taps[live];
    r.id = row.jd + base[0];
    r.ih = row.jh + base[1];
    if (r.id < 0 || r.id >= p.input_size[0] || r.ih < 0 || r.ih >= p.input_size[1]) continue;
    r.tap = first;
    r.taps = count;
    r.iw0 = base[2];
    r.lo = std::max<int64_t>(0, -r.iw0);
    r.hi = std::min<int64_t>(ph.count[2], p.input_size[2] - r.iw0);
    ++live;
  }
  return live;
}


// Stores a computed value into an output of dtype D (16-bit types rounded
// to nearest even from float32). Kernels pick D once per call with
// with_output_dtype, so the inner loops carry no dtype switch.
template <DType D, typename T>
inline void store_output(void* out, int64_t index, T v) {
  if constexpr (D == DType::kFloat16) {
    static_cast<uint16_t*>(out)[index] = float_to_float16(static_cast<float>(v));
  } else if constexpr (D == DType::kBFloat16) {
    static_cast<uint16_t*>(out)[index] = float_to_bfloat16(static_cast<float>(v));
  } else if constexpr (D == DType::kFloat64) {
    static_cast<double*>(out)[index] = static_cast<double>(v);
  } else {
    static_cast<float*>(out)[index] = static_cast<float>(v);
  }
}

// Stores lanes [0, N) of v at out[index + l * step], l = 0 .. N-1, in dtype
// D; 16-bit types are rounded four lanes at a time.
template <DType D, int N, typename V>
inline void store_lanes(void* out, int64_t index, int64_t step, const V& v) {
  if constexpr (D == DType::kFloat16 || D == DType::kBFloat16) {
    static_assert(std::is_same<V, Vec<float>>::value, "16-bit outputs are computed in float32");
    uint16_t bits[4];
    if constexpr (D == DType::kFloat16) {
      float_to_float16x4(v, bits);
    } else {
      float_to_bfloat16x4(v, bits);
    }
    unroll<N>([&](auto l) { static_cast<uint16_t*>(out)[index + l * step] = bits[l]; });
  } else {
    unroll<N>([&](auto l) { store_output<D>(out, index + l * step, v[l.value]); });
  }
}

template <typename F>
void with_output_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kFloat64: f(std::integral_constant<DType, DType::kFloat64>{}); break;
    case DType::kFloat32: f(std::integral_constant<DType, DType::kFloat32>{}); break;
    case DType::kFloat16: f(std::integral_constant<DType, DType::kFloat16>{}); break;
    case DType::kBFloat16: f(std::integral_constant<DType, DType::kBFloat16>{}); break;
  }
}

// Calls f(std::integral_constant<int, C>) for C = the plan's 1-4 output channels.
template <typename F>
void with_narrow_channels(int64_t channels, F&& f) {
  switch (channels) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    default: f(std::integral_constant<int, 4>{}); break;
  }
}

// What the narrow kernels' jobs share; each kernel's Job adds its input.
// On cache lines of its own, like the igemm job (igemm_kernel.cc).
struct alignas(kCacheLine) NarrowJob {
  const ConvTransposePlan* plan = nullptr;
  const PackedFilters* packed = nullptr;
  void* output = nullptr;
  std::vector<Phase> phases;
  PerThread<RowTap> taps;  // room for max_taps per thread

  // Sets the plan, the phases (zero-filling the output when some pixels are
  // in no phase) and the per-thread tap rows; false when out of memory.
  bool start(const ConvTransposePlan& p, const PackedFilters& pk, void* out, ThreadPool* pool) {
    plan = &p;
    packed = &pk;
    output = out;
    bool uncovered = false;
    phases = output_phases(p, pk, &uncovered);
    if (uncovered) zero_output(p, out);
    return taps.allocate(static_cast<size_t>(std::max(pk.max_taps, 1)), pool ? pool->threads() : 1);
  }
};

// One work item of a narrow kernel: every phase that crosses the item's row
// segment, each run by Kernel::phase_row<CO, D> (Kernel::Compute is the
// compute type, Kernel::Job the job).
template <typename Kernel, int CO, DType D>
void narrow_item(void* context, size_t item, int thread_index) {
  const typename Kernel::Job& job = *static_cast<const typename Kernel::Job*>(context);
  const RowSegment seg = row_segment(*job.plan, static_cast<int64_t>(item));
  RowTap* taps = job.taps.slice(thread_index);
  for (const Phase& ph : job.phases) {
    PhaseRow row;
    if (phase_row(*job.plan, ph, seg, &row)) Kernel::template phase_row<CO, D>(job, seg, ph, row, taps);
  }
}

// Runs every row segment of a narrow kernel's job, on the pool when there is one.
template <typename Kernel>
void run_narrow_items(typename Kernel::Job* job, ThreadPool* pool) {
  ThreadPool::Task task = nullptr;
  with_narrow_channels(job->plan->output_channels, [&](auto co) {
    with_output_dtype(job->plan->dtype, [&](auto d) {
      // float64 is computed in double, every other dtype in float: no other pairing is instantiated.
      constexpr DType D = decltype(d)::value;
      if constexpr ((D == DType::kFloat64) == std::is_same<typename Kernel::Compute, double>::value) {
        task = &narrow_item<Kernel, std::decay_t<decltype(co)>::value, D>;
      }
    });
  });
  const int64_t items = row_segment_count(*job->plan);
  if (pool) {
    pool->parallel_for(static_cast<size_t>(items), task, job);
  } else {
    for (int64_t i = 0; i < items; ++i) task(job, static_cast<size_t>(i), 0);
  }
}

// The fast kernels' entry points. Each packs in its own layout (pack_filters
// has set the groups' offsets, every tap getting packed_elements / taps) and
// runs from a plan.
struct KernelOps {
  int64_t (*packed_elements)(const ConvTransposePlan& plan);
  void (*pack)(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed, ThreadPool* pool);
  uint64_t (*scratch_bytes)(const ConvTransposePlan& plan);  // besides the packed filters
  Status (*run)(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input, void* output,
                ThreadPool* pool);
};

// A kernel's entry points from its typed parts: K::packed_elements,
// K::scratch_bytes, K::pack<T>(plan, filters in storage type S, packed,
// convert S -> T, pool) and K::run<T>(plan, packed, input, output, pool), T being
// the compute type (double for float64, float otherwise).
template <typename K>
constexpr KernelOps kernel_ops_of() {
  return {&K::packed_elements,
          [](const ConvTransposePlan& plan, const void* filters, PackedFilters* packed, ThreadPool* pool) {
            with_storage(plan.dtype, filters, [&](auto src, auto convert) {
              K::template pack<decltype(convert(*src))>(plan, src, packed, convert, pool);
            });
          },
          &K::scratch_bytes,
          [](const ConvTransposePlan& plan, const PackedFilters& packed, const void* input, void* output,
             ThreadPool* pool) {
            return uses_double(plan.dtype) ? K::template run<double>(plan, packed, input, output, pool)
                                           : K::template run<float>(plan, packed, input, output, pool);
          }};
}

extern const KernelOps kIgemmKernel;   // igemm_kernel.cc
extern const KernelOps kDotKernel;     // dot_kernel.cc
extern const KernelOps kPixelKernel;   // pixel_kernel.cc
extern const KernelOps kColumnsKernel; // columns_kernel.cc

inline const KernelOps& kernel_ops(FastKernel kind) {
  switch (kind) {
    case FastKernel::kDot: return kDotKernel;
    case FastKernel::kPixels: return kPixelKernel;
    case FastKernel::kColumns: return kColumnsKernel;
    default: return kIgemmKernel;
  }
}

}  // namespace ctw
