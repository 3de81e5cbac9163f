// The wide-output fast kernel: each stride phase as an indirect GEMM
// (phase pixels x output channels, over taps x input channels), with output
// channels in the vector lanes of the igemm_microkernel.h tiles.
//
// Filters are packed per tap group as [channel block][tap][in][NR]. A work
// item is (phase, batch, pixel block, channel block); it builds its
// indirection (a pointer to the input pixel each tap reads for each output
// pixel, or to a zero row) and runs the micro-kernel over cache-sized K
// blocks.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "half_vec.h"
#include "igemm_microkernel.h"
#include "kernel_internal.h"

namespace ctw {
namespace {

// Blocking. Pixels per work item: the item's A rows (pixels x K block) stay
// in L2 while the micro-kernel sweeps its channel blocks. Channels per item:
// splits wide outputs across threads. K block: a kIgemmKBlock x NR slice of packed
// filters (128 KiB) stays in L2 across the item's pixel tiles. L2 feeds the
// micro-kernel fast enough, and long K runs stream the filters from memory
// in one sequence and add to the output tile less often: 256 (an L1-sized
// slice) ran S1 1.27x, S7 1.2x and S2 1.04x slower on one thread.
constexpr int64_t kPixelsPerItem = 64;
constexpr int64_t kChannelBlocksPerItem = 8;

struct WorkItem {
  int phase;
  int64_t batch;
  int64_t pixel_begin, pixel_end;
  int64_t block_begin, block_end;  // NR channel blocks
};

// Every thread reads the job for each item while the caller's stack, right
// after it, holds the caller's tile pointers: the job gets cache lines of its
// own (without, S4 on two threads ran 7% slower).
template <typename T>
struct alignas(kCacheLine) Job {
  const ConvTransposePlan* plan;
  const PackedFilters* packed;
  const T* input;   // channels last, compute type
  T* output;        // plan layout, compute type; null when output16 is used
  // float16/bfloat16 output: each item accumulates in a float32 tile of its
  // own and rounds into output16 once.
  uint16_t* output16;
  bool half;  // float16 (else bfloat16)
  PerThread<T> tiles;
  const T* zero;    // a row of input_channels zeros
  std::vector<Phase> phases;
  ItemSpace items;         // per phase: batch x pixel blocks x channel blocks
  int64_t channel_blocks;  // NR blocks of output channels
  // Per-thread indirection and output row pointers.
  PerThread<const T*> indirection;
  PerThread<T*> rows;
};

template <typename T>
WorkItem job_item(const Job<T>& job, int64_t index) {
  WorkItem item;
  int64_t local;
  job.items.locate(index, &item.phase, &local);
  const int64_t pixels = job.phases[item.phase].pixels;
  const int64_t channel_items = (job.channel_blocks + kChannelBlocksPerItem - 1) / kChannelBlocksPerItem;
  const int64_t pixel_items = (pixels + kPixelsPerItem - 1) / kPixelsPerItem;
  item.block_begin = (local % channel_items) * kChannelBlocksPerItem;
  item.block_end = std::min(item.block_begin + kChannelBlocksPerItem, job.channel_blocks);
  item.pixel_begin = (local / channel_items % pixel_items) * kPixelsPerItem;
  item.pixel_end = std::min(item.pixel_begin + kPixelsPerItem, pixels);
  item.batch = local / channel_items / pixel_items;
  return item;
}

template <typename T>
void run_item(void* context, size_t item_index, int thread_index) {
  constexpr int MR = TileShape<T>::kMR;
  constexpr int64_t NR = TileShape<T>::kNR;
  Job<T>& job = *static_cast<Job<T>*>(context);
  const ConvTransposePlan& p = *job.plan;
  const WorkItem item = job_item(job, static_cast<int64_t>(item_index));
  const Phase& phase = job.phases[item.phase];
  const PackedFilters::Group& group = job.packed->groups[phase.group];
  const int taps = group.taps;
  const int64_t cin = p.input_channels, cout = p.output_channels;
  const int64_t pixels = item.pixel_end - item.pixel_begin;
  const int64_t tiles = (pixels + MR - 1) / MR;
  const T** indirection = job.indirection.slice(thread_index);
  T** rows = job.rows.slice(thread_index);
  const int64_t out_plane = p.output_spatial();
  const size_t channel_stride = p.channels_first && !job.output16 ? static_cast<size_t>(out_plane) : 1;
  const int64_t tile_stride = (item.block_end - item.block_begin) * NR;
  T* acc_tile = job.output16 ? job.tiles.slice(thread_index) : nullptr;
  int64_t* offsets = job.output16 ? reinterpret_cast<int64_t*>(acc_tile + kPixelsPerItem * tile_stride) : nullptr;

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
      const std::array<int64_t, 3>& base = phase.tap_base[t];
      const int64_t id = jd + base[0], ih = jh + base[1], iw = jw + base[2];
      const bool inside = id >= 0 && id < p.input_size[0] && ih >= 0 && ih < p.input_size[1] && iw >= 0 &&
                          iw < p.input_size[2];
      indirection[(tile * taps + t) * MR + m] =
          inside ? job.input + (((item.batch * p.input_size[0] + id) * p.input_size[1] + ih) * p.input_size[2] + iw) * cin
                 : job.zero;
    }
  }

  // K blocks: whole taps when the input channels are few, else slices of one tap's channels.
  const int64_t ci_chunk = std::max<int64_t>(1, std::min(cin, kIgemmKBlock));
  const int taps_per_block = ci_chunk < cin ? 1 : static_cast<int>(std::max<int64_t>(1, kIgemmKBlock / ci_chunk));
  const T* packed_group = static_cast<const T*>(job.packed->data) + group.offset;
  const size_t w_tap_stride = static_cast<size_t>(cin * NR);
  T* tile_rows[MR];
  for (int64_t nb = item.block_begin; nb < item.block_end; ++nb) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, cout - nb * NR));
    // The float32 tile of a 16-bit output starts at the item's first channel block.
    const int64_t first_block = job.output16 ? item.block_begin : 0;
    const size_t channel_offset = static_cast<size_t>((nb - first_block) * NR) * channel_stride;
    bool first = true;
    int t0 = 0;
    do {
      const int block_taps = std::min(taps_per_block, taps - t0);
      int64_t c0 = 0;
      do {
        const int64_t kc = std::min(ci_chunk, cin - c0);
        const T* w = packed_group + ((nb * taps + t0) * cin + c0) * NR;
        for (int64_t tile = 0; tile < tiles; ++tile) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, pixels - tile * MR));
          for (int m = 0; m < mr; ++m) tile_rows[m] = rows[tile * MR + m] + channel_offset;
          const TileOutput<T> out = {tile_rows, channel_stride, mr, nr, !first};
          igemm_microkernel<T>(block_taps, static_cast<size_t>(std::max<int64_t>(kc, 0)),
                               indirection + (tile * taps + t0) * MR, static_cast<size_t>(c0), w, w_tap_stride,
                               job.zero, job.packed->finite, out);
        }
        first = false;
        c0 += ci_chunk;
      } while (c0 < cin);
      t0 += taps_per_block;
    } while (t0 < taps);
  }

  if constexpr (std::is_same<T, float>::value) {  // 16-bit outputs are computed in float32
    if (job.output16) {
      const size_t cs = p.channels_first ? static_cast<size_t>(out_plane) : 1;
      const int64_t c_begin = item.block_begin * NR, c_end = std::min(item.block_end * NR, cout);
      for (int64_t local = 0; local < pixels; ++local) {
        const float* src = acc_tile + local * tile_stride;
        uint16_t* dst = job.output16 + offsets[local];
        if (cs == 1) {
          float_to_16bit_span(src, dst + c_begin, c_end - c_begin, job.half);
        } else {
          for (int64_t c = c_begin; c < c_end; ++c) dst[c * cs] = float_to_16bit(src[c - c_begin], job.half);
        }
      }
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
  job.half = p.dtype == DType::kFloat16;

  bool uncovered = false;
  job.phases = output_phases(p, packed, &uncovered);
  if (uncovered) zero_output(p, output16 ? static_cast<void*>(output16) : static_cast<void*>(output));

  job.channel_blocks = (p.output_channels + NR - 1) / NR;
  const int64_t channel_items = (job.channel_blocks + kChannelBlocksPerItem - 1) / kChannelBlocksPerItem;
  for (const Phase& ph : job.phases) {
    job.items.add_phase(p.batch * ((ph.pixels + kPixelsPerItem - 1) / kPixelsPerItem) * channel_items);
  }
  if (job.items.total() == 0) return Status::Ok();

  const int threads = pool ? pool->threads() : 1;
  const size_t pixel_slots = static_cast<size_t>(round_up(kPixelsPerItem, MR));
  const size_t zero_elems = static_cast<size_t>(p.input_channels) + 4;
  // Freed on every path below: the kernel has no early return after this.
  T* zero = static_cast<T*>(std::calloc(zero_elems, sizeof(T)));
  job.zero = zero;
  // A 16-bit output's float32 tile: the item's pixels x channels, then their output offsets.
  const size_t tile_elements = static_cast<size_t>(kPixelsPerItem * (kChannelBlocksPerItem * NR + 8));
  const bool allocated = job.indirection.allocate(pixel_slots * static_cast<size_t>(std::max(packed.max_taps, 1)), threads) &&
                         job.rows.allocate(static_cast<size_t>(kPixelsPerItem + MR), threads) && zero &&
                         (!output16 || job.tiles.allocate(tile_elements, threads));
  if (allocated) {
    if (pool) {
      pool->parallel_for(static_cast<size_t>(job.items.total()), &run_item<T>, &job);
    } else {
      for (int64_t i = 0; i < job.items.total(); ++i) run_item<T>(&job, static_cast<size_t>(i), 0);
    }
  }
  std::free(zero);
  return allocated ? Status::Ok() : Status::Error("conv_transpose: out of memory for kernel scratch");
}

// The parts kernel_ops_of (kernel_internal.h) assembles into the entry points.
struct IgemmKernel {
  static int64_t packed_elements(const ConvTransposePlan& plan) {
    return plan.kernel_spatial() * plan.input_channels * round_up(plan.output_channels, tile_nr(plan.dtype));
  }

  static uint64_t scratch_bytes(const ConvTransposePlan& plan) {
    const uint64_t elem = compute_size(plan.dtype);
    const uint64_t nr = static_cast<uint64_t>(tile_nr(plan.dtype));
    uint64_t bytes = 0;
    bytes += channels_last_input_bytes(plan, plan.input_channels);
    if (is_sixteen_bit(plan.dtype)) bytes += per_thread_bytes(kPixelsPerItem * (kChannelBlocksPerItem * nr + 8) * elem);
    bytes += static_cast<uint64_t>(plan.input_channels + 4) * elem;  // the zero row
    bytes += per_thread_bytes((kPixelsPerItem + 4) * (static_cast<uint64_t>(plan.kernel_spatial()) + 1) * sizeof(void*));  // indirection
    bytes += per_thread_bytes((kPixelsPerItem + 4) * sizeof(void*));  // row pointers
    return bytes;
  }

  // Packs each group's taps from the filters' [tap][out][in] layout into
  // [channel block][tap][in][NR], reading the source in order. S is the
  // filters' storage type, T the compute type.
  template <typename T, typename S, typename Convert>
  static void pack(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert,
                   ThreadPool* pool) {
    // One work item per (group, tap, NR block of output channels): an NR x cin panel.
    struct Context {
      const ConvTransposePlan* plan;
      const S* filters;
      PackedFilters* packed;
      Convert* convert;
      int64_t blocks;
      std::vector<int> group_of_tap;  // for the flat tap index (group order)
      std::vector<int> first_tap;     // per group, its first flat tap index
      PerThread<T> probes;            // one per thread when on the pool
      T serial_probe;                 // else this one
      bool parallel;
    };
    const int64_t nr = TileShape<T>::kNR;
    Context c{&plan, filters, packed, &convert, (plan.output_channels + nr - 1) / nr, {}, {}, {}, T(0), false};
    const int threads = pool ? pool->threads() : 1;
    for (size_t g = 0; g < packed->groups.size(); ++g) {
      c.first_tap.push_back(static_cast<int>(c.group_of_tap.size()));
      c.group_of_tap.insert(c.group_of_tap.end(), static_cast<size_t>(packed->groups[g].taps), static_cast<int>(g));
    }
    const int64_t items = static_cast<int64_t>(c.group_of_tap.size()) * c.blocks;
    // On the pool when there is one and room for a probe per thread; else on this thread.
    const bool parallel = pool && threads > 1 && items > 1 && c.probes.allocate(1, threads);
    if (parallel) {
      for (int t = 0; t < threads; ++t) *c.probes.slice(t) = T(0);
    }
    auto task = [](void* context, size_t item, int thread_index) {
      Context& c = *static_cast<Context*>(context);
      constexpr int64_t NR = TileShape<T>::kNR;
      const int64_t cin = c.plan->input_channels, cout = c.plan->output_channels;
      const int64_t flat_tap = static_cast<int64_t>(item) / c.blocks, b = static_cast<int64_t>(item) % c.blocks;
      const int g = c.group_of_tap[static_cast<size_t>(flat_tap)];
      const PackedFilters::Group& group = c.packed->groups[static_cast<size_t>(g)];
      const int t = static_cast<int>(flat_tap - c.first_tap[static_cast<size_t>(g)]);
      const S* src = c.filters + group.filter_taps[t] * cout * cin + b * NR * cin;  // [out][in]
      T* dst = static_cast<T*>(c.packed->data) + group.offset + ((b * group.taps + t) * cin) * NR;
      T* probe = c.parallel ? c.probes.slice(thread_index) : &c.serial_probe;
      *probe += pack_panel<T>(src, std::min<int64_t>(NR, cout - b * NR), cin, dst, *c.convert);
    };
    c.parallel = parallel;
    if (parallel) {
      pool->parallel_for(static_cast<size_t>(items), task, &c);
    } else {
      for (int64_t i = 0; i < items; ++i) task(&c, static_cast<size_t>(i), 0);
    }
    T probe = c.serial_probe;
    if (parallel) {
      for (int t = 0; t < threads; ++t) probe += *c.probes.slice(t);
    }
    packed->finite = probe == T(0);
  }

  // One NR x cin panel of output channels (`rows` of them real, the rest
  // zero) transposed into [cin][NR]: the source rows read in step, the
  // destination written in order. Returns a probe that is NaN when some
  // weight is Inf or NaN (0 otherwise). float from float, four input
  // channels at a time as two 4x4 transposes (transpose4).
  template <typename T, typename S, typename Convert>
  static T pack_panel(const S* src, int64_t rows, int64_t cin, T* dst, Convert& convert) {
    constexpr int64_t NR = TileShape<T>::kNR;
    T probe = 0;
    int64_t ci = 0;
    if constexpr (std::is_same<T, float>::value && std::is_same<S, float>::value && NR == 8) {
      if (rows == NR) {
        Vec<float> nonfinite{};
        for (; ci + 4 <= cin; ci += 4, dst += 4 * NR) {
          for (int half = 0; half < 2; ++half) {
            const float* s = src + half * 4 * cin + ci;
            Vec<float> r0 = load_vec(s), r1 = load_vec(s + cin), r2 = load_vec(s + 2 * cin), r3 = load_vec(s + 3 * cin);
            nonfinite += (r0 + r1 + r2 + r3) * Vec<float>{};
            transpose4(r0, r1, r2, r3);
            store_vec(dst + half * 4, r0);
            store_vec(dst + NR + half * 4, r1);
            store_vec(dst + 2 * NR + half * 4, r2);
            store_vec(dst + 3 * NR + half * 4, r3);
          }
        }
        probe = nonfinite[0] + nonfinite[1] + nonfinite[2] + nonfinite[3];
      }
    }
    for (; ci < cin; ++ci, dst += NR) {
      for (int64_t r = 0; r < rows; ++r) {
        const T v = convert(src[r * cin + ci]);
        dst[r] = v;
        probe += v * T(0);
      }
      for (int64_t r = rows; r < NR; ++r) dst[r] = T(0);
    }
    return probe;
  }

  template <typename T>
  static Status run(const ConvTransposePlan& p, const PackedFilters& packed, const void* input, void* output,
                   ThreadPool* pool) {
    void* owned_input = nullptr;
    const T* x = channels_last_input<T>(p, input, p.input_channels, pool, &owned_input);
    if (!x && p.input_elements > 0) return Status::Error("conv_transpose: out of memory converting the input");
    const bool sixteen_bit = p.dtype == DType::kFloat16 || p.dtype == DType::kBFloat16;
    const Status s = sixteen_bit ? run_fast<T>(p, packed, x, nullptr, static_cast<uint16_t*>(output), pool)
                                 : run_fast<T>(p, packed, x, static_cast<T*>(output), nullptr, pool);
    std::free(owned_input);
    return s;
  }
};

}  // namespace

const KernelOps kIgemmKernel = kernel_ops_of<IgemmKernel>();

}  // namespace ctw
