// The fast kernel: transposed convolution as stride-phase indirect GEMMs.
//
// With stride s, output position o (per spatial dim) only receives the taps
// k whose k*dilation is congruent to (o + pad_before) mod s. So the output
// splits into prod(s) phases; in each, every output pixel is a dot product of
// the input pixels that the phase's taps reach with those taps' filters: a
// dense GEMM (pixels x output channels, over taps x input channels) with no
// products against the zeros that a "dilate the input" formulation inserts,
// and every output element written by exactly one work item, so threads never
// contend and no output needs zeroing first.
//
// Steps: pack_filters groups taps by residue and lays each group out in the
// micro-kernel's [tap][input channel][NR] blocks; conv_transpose_fast cuts
// (phase, batch, pixel block, channel block) work items, builds each item's
// indirection (pointers to input pixels per tap), and runs the micro-kernel
// over cache-sized K blocks.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "conv_transpose_kernels.h"
#include "igemm_microkernel.h"

namespace ctw {
namespace {

// Blocking. Pixels per work item: the item's A rows (pixels x K block) stay
// in L2 while the micro-kernel sweeps its channel blocks. Channels per item:
// splits wide outputs across threads. K block: a kKBlock x NR slice of packed
// filters (8 KiB for float32) stays in L1 across the item's pixel tiles.
constexpr int64_t kPixelsPerItem = 64;
constexpr int64_t kChannelBlocksPerItem = 8;
constexpr int64_t kKBlock = 256;
constexpr int kMaxThreadsForScratch = 64;
constexpr double kMinMacsForThreads = 32768;

bool uses_double(DType t) { return t == DType::kFloat64; }
size_t compute_size(DType t) { return uses_double(t) ? sizeof(double) : sizeof(float); }
int64_t tile_nr(DType t) { return uses_double(t) ? TileShape<double>::kNR : TileShape<float>::kNR; }
int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
int64_t floor_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

}  // namespace

class PackedFilters {
 public:
  struct Group {
    int taps = 0;
    // k*dilation per spatial dim, for each tap in the group.
    std::vector<std::array<int64_t, 3>> tap_offsets;
    size_t offset = 0;  // in elements, into data
  };

  DType dtype = DType::kFloat32;
  std::array<int64_t, 3> kernel_size{}, stride{}, dilation{};
  int64_t input_channels = 0, output_channels = 0;
  int max_taps = 0;
  std::vector<Group> groups;  // index (gd * stride[1] + gh) * stride[2] + gw
  void* data = nullptr;

  ~PackedFilters() { std::free(data); }
};

void PackedFiltersDeleter::operator()(PackedFilters* p) const { delete p; }

bool packed_filters_fit(const PackedFilters& packed, const ConvTransposePlan& plan) {
  return packed.dtype == plan.dtype && packed.kernel_size == plan.kernel_size && packed.stride == plan.stride &&
         packed.dilation == plan.dilation && packed.input_channels == plan.input_channels &&
         packed.output_channels == plan.output_channels;
}

uint64_t fast_kernel_scratch_bytes(const ConvTransposePlan& plan) {
  const uint64_t elem = compute_size(plan.dtype);
  const uint64_t nr = static_cast<uint64_t>(tile_nr(plan.dtype));
  uint64_t bytes = static_cast<uint64_t>(plan.kernel_spatial()) * plan.input_channels *
                   ((plan.output_channels + nr - 1) / nr * nr) * elem;
  const bool sixteen_bit = plan.dtype == DType::kFloat16 || plan.dtype == DType::kBFloat16;
  if (plan.channels_first || sixteen_bit) bytes += static_cast<uint64_t>(plan.input_elements) * elem;
  if (sixteen_bit) bytes += static_cast<uint64_t>(kMaxThreadsForScratch) * kPixelsPerItem * (kChannelBlocksPerItem * nr + 8) * elem;
  bytes += static_cast<uint64_t>(plan.input_channels + 4) * elem;  // the zero row
  bytes += static_cast<uint64_t>(kMaxThreadsForScratch) * (kPixelsPerItem + 4) *
           (static_cast<uint64_t>(plan.kernel_spatial()) + 1) * sizeof(void*);
  return bytes;
}

namespace {

template <typename T>
T load_element(DType t, const void* base, size_t i) {
  switch (t) {
    case DType::kFloat32: return static_cast<T>(static_cast<const float*>(base)[i]);
    case DType::kFloat64: return static_cast<T>(static_cast<const double*>(base)[i]);
    case DType::kFloat16: return static_cast<T>(float16_to_float(static_cast<const uint16_t*>(base)[i]));
    case DType::kBFloat16: return static_cast<T>(bfloat16_to_float(static_cast<const uint16_t*>(base)[i]));
  }
  return T(0);
}

// Packs one group's taps from the filters' [tap][out][in] layout into
// [channel block][tap][in][NR], reading the source in order. S is the
// filters' storage type, T the compute type.
template <typename T, typename S, typename Convert>
void pack_groups(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert) {
  constexpr int64_t NR = TileShape<T>::kNR;
  const int64_t cin = plan.input_channels, cout = plan.output_channels;
  const int64_t blocks = (cout + NR - 1) / NR;
  T* out = static_cast<T*>(packed->data);
  for (const PackedFilters::Group& g : packed->groups) {
    T* group = out + g.offset;
    // Zero the padding channels of the last block; everything else is written below.
    if (cout % NR != 0) {
      T* last = group + (blocks - 1) * g.taps * cin * NR;
      std::fill(last, last + g.taps * cin * NR, T(0));
    }
    for (int t = 0; t < g.taps; ++t) {
      const std::array<int64_t, 3>& off = g.tap_offsets[t];
      const int64_t kd = off[0] / plan.dilation[0], kh = off[1] / plan.dilation[1], kw = off[2] / plan.dilation[2];
      const int64_t tap = (kd * plan.kernel_size[1] + kh) * plan.kernel_size[2] + kw;
      const S* src = filters + tap * cout * cin;
      for (int64_t co = 0; co < cout; ++co, src += cin) {
        T* dst = group + ((co / NR * g.taps + t) * cin) * NR + co % NR;
        for (int64_t ci = 0; ci < cin; ++ci) dst[ci * NR] = convert(src[ci]);
      }
    }
  }
}

}  // namespace

PackedFiltersPtr pack_filters(const ConvTransposePlan& plan, const void* filters, Status* status) {
  PackedFiltersPtr packed(new (std::nothrow) PackedFilters);
  if (!packed) {
    *status = Status::Error("conv_transpose: out of memory packing filters");
    return nullptr;
  }
  PackedFilters& p = *packed;
  p.dtype = plan.dtype;
  p.kernel_size = plan.kernel_size;
  p.stride = plan.stride;
  p.dilation = plan.dilation;
  p.input_channels = plan.input_channels;
  p.output_channels = plan.output_channels;
  const int64_t nr = tile_nr(plan.dtype);
  const int64_t block_elems = plan.input_channels * round_up(plan.output_channels, nr);

  p.groups.resize(static_cast<size_t>(plan.stride[0] * plan.stride[1] * plan.stride[2]));
  for (int64_t kd = 0; kd < plan.kernel_size[0]; ++kd)
    for (int64_t kh = 0; kh < plan.kernel_size[1]; ++kh)
      for (int64_t kw = 0; kw < plan.kernel_size[2]; ++kw) {
        const std::array<int64_t, 3> off = {kd * plan.dilation[0], kh * plan.dilation[1], kw * plan.dilation[2]};
        const int64_t g = ((off[0] % plan.stride[0]) * plan.stride[1] + off[1] % plan.stride[1]) * plan.stride[2] +
                          off[2] % plan.stride[2];
        p.groups[g].tap_offsets.push_back(off);
        p.groups[g].taps++;
      }
  size_t offset = 0;
  for (PackedFilters::Group& g : p.groups) {
    g.offset = offset;
    offset += static_cast<size_t>(g.taps * block_elems);
    p.max_taps = std::max(p.max_taps, g.taps);
  }
  p.data = std::malloc(std::max<size_t>(offset, 1) * compute_size(plan.dtype));
  if (!p.data) {
    *status = Status::Error("conv_transpose: out of memory packing filters");
    return nullptr;
  }
  switch (plan.dtype) {
    case DType::kFloat64:
      pack_groups<double>(plan, static_cast<const double*>(filters), &p, [](double v) { return v; });
      break;
    case DType::kFloat32:
      pack_groups<float>(plan, static_cast<const float*>(filters), &p, [](float v) { return v; });
      break;
    case DType::kFloat16:
      pack_groups<float>(plan, static_cast<const uint16_t*>(filters), &p, float16_to_float);
      break;
    case DType::kBFloat16:
      pack_groups<float>(plan, static_cast<const uint16_t*>(filters), &p, bfloat16_to_float);
      break;
  }
  *status = Status::Ok();
  return packed;
}

namespace {

// One output phase: the residues it serves and where its pixels start.
struct Phase {
  int group = 0;
  std::array<int64_t, 3> first{};  // first output coordinate per dim
  std::array<int64_t, 3> count{};  // pixels per dim
  int64_t pixels = 0;
};

struct WorkItem {
  int phase;
  int64_t batch;
  int64_t pixel_begin, pixel_end;
  int64_t block_begin, block_end;  // NR channel blocks
};

template <typename T>
struct Job {
  const ConvTransposePlan* plan;
  const PackedFilters* packed;
  const T* input;   // channels last, compute type
  T* output;        // plan layout, compute type; null when output16 is used
  // float16/bfloat16 output: each item accumulates in a float32 tile of its
  // own (tile_per_thread elements per thread) and rounds into output16 once.
  uint16_t* output16;
  uint16_t (*round16)(float);
  T* tiles;
  size_t tile_per_thread;
  const T* zero;    // a row of input_channels zeros
  std::vector<Phase> phases;
  std::vector<WorkItem> items;
  // Per-thread indirection (indirection_per_thread each) and output row pointers.
  const T** indirection;
  T** rows;
  size_t indirection_per_thread;
};

template <typename T>
void run_item(void* context, size_t item_index, int thread_index) {
  constexpr int MR = TileShape<T>::kMR;
  constexpr int64_t NR = TileShape<T>::kNR;
  Job<T>& job = *static_cast<Job<T>*>(context);
  const ConvTransposePlan& p = *job.plan;
  const WorkItem& item = job.items[item_index];
  const Phase& phase = job.phases[item.phase];
  const PackedFilters::Group& group = job.packed->groups[phase.group];
  const int taps = group.taps;
  const int64_t cin = p.input_channels, cout = p.output_channels;
  const int64_t pixels = item.pixel_end - item.pixel_begin;
  const int64_t tiles = (pixels + MR - 1) / MR;
  const T** indirection = job.indirection + job.indirection_per_thread * thread_index;
  T** rows = job.rows + (kPixelsPerItem + MR) * thread_index;
  const int64_t out_plane = p.output_spatial();
  const size_t channel_stride = p.channels_first && !job.output16 ? static_cast<size_t>(out_plane) : 1;
  const int64_t tile_stride = (item.block_end - item.block_begin) * NR;
  T* acc_tile = job.tiles + job.tile_per_thread * thread_index;
  int64_t* offsets = reinterpret_cast<int64_t*>(acc_tile + kPixelsPerItem * tile_stride);

  // Input coordinate of phase pixel 0 for each tap: (first + pad - k*dilation) / stride, exact.
  int64_t base[3];
  for (int64_t j = item.pixel_begin; j < item.pixel_begin + tiles * MR; ++j) {
    const int64_t local = j - item.pixel_begin;
    const int64_t tile = local / MR, m = local % MR;
    if (j >= item.pixel_end) {
      for (int t = 0; t < taps; ++t) indirection[(tile * taps + t) * MR + m] = job.zero;
      rows[local] = nullptr;
      continue;
    }
    const int64_t jw = j % phase.count[2];
    const int64_t jh = (j / phase.count[2]) % phase.count[1];
    const int64_t jd = j / (phase.count[2] * phase.count[1]);
    const int64_t od = phase.first[0] + jd * p.stride[0];
    const int64_t oh = phase.first[1] + jh * p.stride[1];
    const int64_t ow = phase.first[2] + jw * p.stride[2];
    const int64_t spatial = (od * p.output_size[1] + oh) * p.output_size[2] + ow;
    const int64_t out_index = p.channels_first ? item.batch * cout * out_plane + spatial
                                               : (item.batch * out_plane + spatial) * cout;
    if (job.output16) {
      offsets[local] = out_index;
      rows[local] = acc_tile + local * tile_stride;
    } else {
      rows[local] = job.output + out_index;
    }
    for (int t = 0; t < taps; ++t) {
      const std::array<int64_t, 3>& off = group.tap_offsets[t];
      base[0] = (od + p.pad_before[0] - off[0]) / p.stride[0];
      base[1] = (oh + p.pad_before[1] - off[1]) / p.stride[1];
      base[2] = (ow + p.pad_before[2] - off[2]) / p.stride[2];
      const bool inside = od + p.pad_before[0] - off[0] >= 0 && base[0] < p.input_size[0] &&
                          oh + p.pad_before[1] - off[1] >= 0 && base[1] < p.input_size[1] &&
                          ow + p.pad_before[2] - off[2] >= 0 && base[2] < p.input_size[2];
      indirection[(tile * taps + t) * MR + m] =
          inside ? job.input + (((item.batch * p.input_size[0] + base[0]) * p.input_size[1] + base[1]) *
                                    p.input_size[2] + base[2]) * cin
                 : job.zero;
    }
  }

  // K blocks: whole taps when the input channels are few, else slices of one tap's channels.
  const int64_t ci_chunk = std::max<int64_t>(1, std::min(cin, kKBlock));
  const int taps_per_block = ci_chunk < cin ? 1 : static_cast<int>(std::max<int64_t>(1, kKBlock / ci_chunk));
  const T* packed_group = static_cast<const T*>(job.packed->data) + group.offset;
  const size_t w_tap_stride = static_cast<size_t>(cin * NR);
  T* tile_rows[MR];
  bool first = true;
  int t0 = 0;
  do {
    const int block_taps = std::min(taps_per_block, taps - t0);
    int64_t c0 = 0;
    do {
      const int64_t kc = std::min(ci_chunk, cin - c0);
      for (int64_t nb = item.block_begin; nb < item.block_end; ++nb) {
        const T* w = packed_group + ((nb * taps + t0) * cin + c0) * NR;
        const int nr = static_cast<int>(std::min<int64_t>(NR, cout - nb * NR));
        // The float32 tile of a 16-bit output starts at the item's first channel block.
        const int64_t first_block = job.output16 ? item.block_begin : 0;
        const size_t channel_offset = static_cast<size_t>((nb - first_block) * NR) * channel_stride;
        for (int64_t tile = 0; tile < tiles; ++tile) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, pixels - tile * MR));
          for (int m = 0; m < mr; ++m) tile_rows[m] = rows[tile * MR + m] + channel_offset;
          const TileOutput<T> out = {tile_rows, channel_stride, mr, nr, !first};
          igemm_microkernel<T>(block_taps, static_cast<size_t>(std::max<int64_t>(kc, 0)),
                               indirection + (tile * taps + t0) * MR, static_cast<size_t>(c0), w, w_tap_stride,
                               job.zero, out);
        }
      }
      first = false;
      c0 += ci_chunk;
    } while (c0 < cin);
    t0 += taps_per_block;
  } while (t0 < taps);

  if (job.output16) {
    const size_t cs = p.channels_first ? static_cast<size_t>(out_plane) : 1;
    const int64_t c_begin = item.block_begin * NR, c_end = std::min(item.block_end * NR, cout);
    for (int64_t local = 0; local < pixels; ++local) {
      const T* src = acc_tile + local * tile_stride;
      uint16_t* dst = job.output16 + offsets[local];
      for (int64_t c = c_begin; c < c_end; ++c) dst[c * cs] = job.round16(static_cast<float>(src[c - c_begin]));
    }
  }
}

template <typename T>
Status run_fast(const ConvTransposePlan& p, const PackedFilters& packed, const T* input, T* output,
                uint16_t* output16, ThreadPool* pool) {
  constexpr int MR = TileShape<T>::kMR;
  constexpr int64_t NR = TileShape<T>::kNR;
  Job<T> job;
  job.plan = &p;
  job.packed = &packed;
  job.input = input;
  job.output = output;
  job.output16 = output16;
  job.round16 = p.dtype == DType::kFloat16 ? float_to_float16 : float_to_bfloat16;

  // Phases: residue r per dim serves outputs o with (o + pad_before) mod stride == r, using group r.
  for (int64_t rd = 0; rd < p.stride[0]; ++rd)
    for (int64_t rh = 0; rh < p.stride[1]; ++rh)
      for (int64_t rw = 0; rw < p.stride[2]; ++rw) {
        Phase ph;
        ph.group = static_cast<int>((rd * p.stride[1] + rh) * p.stride[2] + rw);
        const int64_t r[3] = {rd, rh, rw};
        ph.pixels = 1;
        for (int d = 0; d < 3; ++d) {
          ph.first[d] = floor_mod(r[d] - p.pad_before[d], p.stride[d]);
          ph.count[d] = ph.first[d] < p.output_size[d] ? (p.output_size[d] - ph.first[d] + p.stride[d] - 1) / p.stride[d] : 0;
          ph.pixels *= ph.count[d];
        }
        if (ph.pixels > 0) job.phases.push_back(ph);
      }

  const int64_t blocks = (p.output_channels + NR - 1) / NR;
  for (size_t ph = 0; ph < job.phases.size(); ++ph)
    for (int64_t n = 0; n < p.batch; ++n)
      for (int64_t m0 = 0; m0 < job.phases[ph].pixels; m0 += kPixelsPerItem)
        for (int64_t b0 = 0; b0 < blocks; b0 += kChannelBlocksPerItem)
          job.items.push_back({static_cast<int>(ph), n, m0, std::min(m0 + kPixelsPerItem, job.phases[ph].pixels), b0,
                               std::min(b0 + kChannelBlocksPerItem, blocks)});
  if (job.items.empty()) return Status::Ok();

  const int threads = pool ? pool->threads() : 1;
  const size_t pixel_slots = static_cast<size_t>(round_up(kPixelsPerItem, MR));
  job.indirection_per_thread = pixel_slots * static_cast<size_t>(std::max(packed.max_taps, 1));
  const size_t zero_elems = static_cast<size_t>(p.input_channels) + 4;
  const size_t row_slots = static_cast<size_t>(kPixelsPerItem + MR) * threads;
  // Freed on every path below: the kernel has no early return after this.
  job.indirection = static_cast<const T**>(std::malloc(job.indirection_per_thread * threads * sizeof(T*)));
  job.rows = static_cast<T**>(std::malloc(row_slots * sizeof(T*)));
  T* zero = static_cast<T*>(std::calloc(zero_elems, sizeof(T)));
  job.zero = zero;
  job.tile_per_thread = output16 ? static_cast<size_t>(kPixelsPerItem * (kChannelBlocksPerItem * NR + 8)) : 0;
  job.tiles = output16 ? static_cast<T*>(std::malloc(job.tile_per_thread * threads * sizeof(T))) : nullptr;
  const bool allocated = job.indirection && job.rows && zero && (job.tiles || !output16);
  // Below a few microseconds of work, waking another thread costs more than it saves.
  const double macs = static_cast<double>(p.batch) * p.input_spatial() * p.input_channels * p.output_channels *
                      p.kernel_spatial();
  if (macs < kMinMacsForThreads) pool = nullptr;
  if (allocated) {
    if (pool) {
      pool->parallel_for(job.items.size(), &run_item<T>, &job);
    } else {
      for (size_t i = 0; i < job.items.size(); ++i) run_item<T>(&job, i, 0);
    }
  }
  std::free(const_cast<T**>(job.indirection));
  std::free(job.rows);
  std::free(zero);
  std::free(job.tiles);
  return allocated ? Status::Ok() : Status::Error("conv_transpose: out of memory for kernel scratch");
}

// Input in the compute type and channels-last layout; `owned` keeps a copy alive when one was needed.
template <typename T>
const T* prepare_input(const ConvTransposePlan& p, const void* input, void** owned) {
  const bool native = sizeof(T) == dtype_size(p.dtype) && !p.channels_first;
  *owned = nullptr;
  if (native) return static_cast<const T*>(input);
  T* copy = static_cast<T*>(std::malloc(std::max<size_t>(static_cast<size_t>(p.input_elements), 1) * sizeof(T)));
  if (!copy) return nullptr;
  *owned = copy;
  const int64_t plane = p.input_spatial(), c = p.input_channels;
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t s = 0; s < plane; ++s)
      for (int64_t ci = 0; ci < c; ++ci) {
        const int64_t from = p.channels_first ? (n * c + ci) * plane + s : (n * plane + s) * c + ci;
        copy[(n * plane + s) * c + ci] = load_element<T>(p.dtype, input, static_cast<size_t>(from));
      }
  return copy;
}

template <typename T>
Status run_typed(const ConvTransposePlan& p, const PackedFilters& packed, const void* input, void* output,
                 ThreadPool* pool) {
  void* owned_input = nullptr;
  const T* x = prepare_input<T>(p, input, &owned_input);
  if (!x) return Status::Error("conv_transpose: out of memory converting the input");
  const bool sixteen_bit = p.dtype == DType::kFloat16 || p.dtype == DType::kBFloat16;
  const Status s = sixteen_bit ? run_fast<T>(p, packed, x, nullptr, static_cast<uint16_t*>(output), pool)
                               : run_fast<T>(p, packed, x, static_cast<T*>(output), nullptr, pool);
  std::free(owned_input);
  return s;
}

}  // namespace

Status conv_transpose_fast(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input,
                           void* output, ThreadPool* pool) {
  if (!packed_filters_fit(packed, plan)) {
    return Status::Error("conv_transpose: packed filters were made for other filters, strides or dilations");
  }
  if (plan.output_elements == 0) return Status::Ok();
  return uses_double(plan.dtype) ? run_typed<double>(plan, packed, input, output, pool)
                                 : run_typed<float>(plan, packed, input, output, pool);
}

}  // namespace ctw
