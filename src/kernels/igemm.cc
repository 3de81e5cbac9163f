// The wide-output fast kernel: each stride phase as an indirect GEMM
// (phase pixels x output channels, over taps x input channels), with output
// channels in the vector lanes of the microkernels/igemm_tile.h tiles.
//
// Channel groups are independent GEMMs side by side: a channel block is NR
// output channels of one group, over that group's input channels (its K),
// and the blocks of every group form one dimension of the work. Filters are
// packed per tap group as [channel block][tap][group's in][NR]. A work item
// is (phase, batch, pixel block, channel blocks); it builds its indirection
// (a pointer to the input pixel each tap reads for each output pixel, or to
// a zero row), runs the micro-kernel over cache-sized K blocks, and applies
// the epilogue to its values while they are in cache.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/epilogue.h"
#include "kernels/kernel.h"
#include "kernels/madd_choice.h"
#include "microkernels/igemm_tile.h"
#include "runtime/input_layout.h"
#include "simd/half_vec.h"

namespace ctw {
namespace {

// Blocking. Pixels per work item: the item's A rows (pixels x K block) stay
// in L2 while the micro-kernel sweeps its channel blocks. Channels per item:
// splits wide outputs across threads. K block (kIgemmKBlock): a
// kIgemmKBlock x NR slice of packed filters (128 KiB in float32) stays in
// L2 across the item's pixel tiles; L2 feeds the micro-kernel fast enough,
// and long K runs stream the filters from memory in one sequence and add to
// the output tile less often than an L1-sized slice would.
constexpr int64_t kPixelsPerItem = 64;
constexpr int64_t kChannelBlocksPerItem = 8;

// The per-thread arrays, in the order reshape lays them out in a slice.
enum SliceArray { kIndirection = 0, kRows = 1, kTile = 2, kTileOffsets = 3 };

// Every thread reads the job for each item while the caller's stack, right
// after it, holds the caller's tile pointers: the job gets cache lines of
// its own.
template <typename T>
struct alignas(kCacheLine) Job {
  const KernelPlan* kp;
  const KernelScratch* scratch;
  const T* input;   // channels last, compute type
  T* output;        // plan layout, compute type; null when output16 is used
  // float16/bfloat16 output: each item accumulates in a float32 tile of its
  // own and rounds into output16 once.
  uint16_t* output16;
  bool half;  // float16 (else bfloat16)
  const T* zero;  // a row of input_channels zeros (shared scratch)
  EpilogueOp<T> epilogue;
};

// Channel block nb: NR output channels of group nb / blocks_per_group.
struct ChannelBlock {
  int64_t group, first_channel;  // the block's first output channel
  int nr;                        // its real channels (<= NR)
};
template <typename T>
ChannelBlock channel_block(const ConvTransposePlan& p, int64_t nb) {
  constexpr int64_t NR = TileShape<T>::kNR;
  const int64_t cout_g = p.group_output_channels();
  const int64_t per_group = (cout_g + NR - 1) / NR;
  const int64_t g = nb / per_group, local = nb % per_group;
  return {g, g * cout_g + local * NR, static_cast<int>(std::min<int64_t>(NR, cout_g - local * NR))};
}

// kFused: the tiles' multiply-adds as relaxed madd or as a multiply and an
// add (madd_choice.h).
template <typename T, bool kFused>
void run_item(void* context, size_t item_index, int thread_index) {
  constexpr int MR = TileShape<T>::kMR;
  constexpr int64_t NR = TileShape<T>::kNR;
  const Job<T>& job = *static_cast<const Job<T>*>(context);
  const KernelPlan& kp = *job.kp;
  const ConvTransposePlan& p = kp.plan;
  // The item's block: phase `part`, (batch, phase pixels, NR channel blocks).
  const WorkSplit::Block item = kp.split.block(static_cast<int64_t>(item_index));
  const int64_t batch = item.begin[0];
  const int64_t pixel_begin = item.begin[1], pixel_end = item.end[1];
  const int64_t block_begin = item.begin[2], block_end = item.end[2];
  const Phase& phase = kp.phases[item.part];
  const PackedFilters::Group& group = kp.packed->groups[phase.group];
  const int taps = group.taps;
  const int64_t cin = p.input_channels, cout = p.output_channels, cin_g = p.group_input_channels();
  const int64_t pixels = pixel_end - pixel_begin;
  const int64_t tiles = (pixels + MR - 1) / MR;
  void* slice = job.scratch->threads.slice(thread_index);
  const T** indirection = slice_array<const T*>(slice, kp.slice_offsets[kIndirection]);
  T** rows = slice_array<T*>(slice, kp.slice_offsets[kRows]);
  const int64_t out_plane = p.output_spatial();
  const size_t channel_stride = p.channels_first && !job.output16 ? static_cast<size_t>(out_plane) : 1;
  const int64_t tile_stride = (block_end - block_begin) * NR;
  T* acc_tile = job.output16 ? slice_array<T>(slice, kp.slice_offsets[kTile]) : nullptr;
  int64_t* offsets = job.output16 ? slice_array<int64_t>(slice, kp.slice_offsets[kTileOffsets]) : nullptr;

  for (int64_t j = pixel_begin; j < pixel_begin + tiles * MR; ++j) {
    const int64_t local = j - pixel_begin;
    const int64_t tile = local / MR, m = local % MR;
    if (j >= pixel_end) {
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
    const int64_t out_index = p.channels_first ? batch * cout * out_plane + spatial
                                               : (batch * out_plane + spatial) * cout;
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
          inside ? job.input + (((batch * p.input_size[0] + id) * p.input_size[1] + ih) * p.input_size[2] + iw) * cin
                 : job.zero;
    }
  }

  // K blocks: whole taps when the group's input channels are few, else
  // slices of one tap's channels.
  const int64_t ci_chunk = std::max<int64_t>(1, std::min(cin_g, kIgemmKBlock));
  const int taps_per_block = ci_chunk < cin_g ? 1 : static_cast<int>(std::max<int64_t>(1, kIgemmKBlock / ci_chunk));
  const T* packed_group = static_cast<const T*>(kp.packed->data) + group.offset;
  const size_t w_tap_stride = static_cast<size_t>(cin_g * NR);
  T* tile_rows[MR];
  for (int64_t nb = block_begin; nb < block_end; ++nb) {
    const ChannelBlock cb = channel_block<T>(p, nb);
    const int nr = cb.nr;
    // The float32 tile of a 16-bit output holds the item's blocks NR apart.
    const size_t channel_offset =
        job.output16 ? static_cast<size_t>((nb - block_begin) * NR) : static_cast<size_t>(cb.first_channel) * channel_stride;
    bool first = true;
    int t0 = 0;
    do {
      const int block_taps = std::min(taps_per_block, taps - t0);
      int64_t c0 = 0;
      do {
        const int64_t kc = std::min(ci_chunk, cin_g - c0);
        const T* w = packed_group + ((nb * taps + t0) * cin_g + c0) * NR;
        for (int64_t tile = 0; tile < tiles; ++tile) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, pixels - tile * MR));
          for (int m = 0; m < mr; ++m) tile_rows[m] = rows[tile * MR + m] + channel_offset;
          const TileOutput<T> out = {tile_rows, channel_stride, mr, nr, !first};
          igemm_tile<T, kFused>(block_taps, static_cast<size_t>(std::max<int64_t>(kc, 0)),
                        indirection + (tile * taps + t0) * MR, static_cast<size_t>(cb.group * cin_g + c0), w,
                        w_tap_stride, job.zero, kp.packed->finite, out);
        }
        first = false;
        c0 += ci_chunk;
      } while (c0 < cin_g);
      t0 += taps_per_block;
    } while (t0 < taps);
  }

  // The item's values are final: the epilogue, then (16-bit outputs) the
  // rounding, block by block while the item's rows are in cache.
  // The item's channels of one group are consecutive (only a group's last
  // block can be partial), in the output and in a 16-bit output's tile:
  // one span per group and pixel.
  const bool epilogue = !job.epilogue.identity();
  if (!job.output16 && !epilogue) return;
  for (int64_t nb = block_begin; nb < block_end;) {
    const int64_t first_block = nb;
    const ChannelBlock first = channel_block<T>(p, nb);
    ChannelBlock last = first;
    while (++nb < block_end) {
      const ChannelBlock next = channel_block<T>(p, nb);
      if (next.group != first.group) break;
      last = next;
    }
    const int64_t count = last.first_channel + last.nr - first.first_channel;
    if (job.output16) {
      if constexpr (std::is_same<T, float>::value) {  // 16-bit outputs are computed in float32
        const size_t cs = p.channels_first ? static_cast<size_t>(out_plane) : 1;
        for (int64_t local = 0; local < pixels; ++local) {
          float* src = acc_tile + local * tile_stride + (first_block - block_begin) * NR;
          uint16_t* dst = job.output16 + offsets[local] + first.first_channel * cs;
          if (epilogue) job.epilogue.channels(src, count, first.first_channel, 1);
          if (cs == 1) {
            float_to_16bit_span(src, dst, count, job.half);
          } else {
            for (int64_t c = 0; c < count; ++c) dst[c * cs] = float_to_16bit(src[c], job.half);
          }
        }
      }
    } else {
      for (int64_t local = 0; local < pixels; ++local) {
        job.epilogue.channels(rows[local] + first.first_channel * channel_stride, count, first.first_channel,
                              channel_stride);
      }
    }
  }
}

template <typename T>
bool run_typed(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output, ThreadPool* pool) {
  const ConvTransposePlan& p = kp.plan;
  void* owned_input = nullptr;
  const T* x = channels_last_input<T>(p, input, p.input_channels, pool, &owned_input);
  if (!x && p.input_elements > 0) return false;
  const bool sixteen_bit = dtype_size(p.dtype) == 2;
  Job<T> job;
  job.kp = &kp;
  job.scratch = &scratch;
  job.input = x;
  job.output = sixteen_bit ? nullptr : static_cast<T*>(output);
  job.output16 = sixteen_bit ? static_cast<uint16_t*>(output) : nullptr;
  job.half = p.dtype == DType::kFloat16;
  job.zero = static_cast<const T*>(scratch.shared);
  job.epilogue = epilogue_of<T>(p, kp.packed->bias);
  if (kp.zero_first) zero_output(p, output, kp.packed->bias);
  parallel_for(pool, static_cast<size_t>(kp.split.items()), igemm_fused_madd() ? &run_item<T, true> : &run_item<T, false>,
               &job);
  std::free(owned_input);
  return true;
}

// One NR x cin panel of output channels (`rows` of them real, the rest
// zero; source rows `row_stride` apart) transposed into [cin][NR]: the source rows read in step, the
// destination written in order. Returns a probe that is NaN when some
// weight is Inf or NaN (0 otherwise). float from float, four input
// channels at a time as two 4x4 transposes (transpose4).
template <typename T, typename S, typename Convert>
T pack_panel(const S* src, int64_t rows, int64_t cin, int64_t row_stride, T* dst, Convert& convert) {
  constexpr int64_t NR = TileShape<T>::kNR;
  T probe = 0;
  int64_t ci = 0;
  if constexpr (std::is_same<T, float>::value && std::is_same<S, float>::value && NR == 8) {
    if (rows == NR) {
      Vec<float> nonfinite{};
      for (; ci + 4 <= cin; ci += 4, dst += 4 * NR) {
        for (int half = 0; half < 2; ++half) {
          const float* s = src + half * 4 * row_stride + ci;
          Vec<float> r0 = load_vec(s), r1 = load_vec(s + row_stride), r2 = load_vec(s + 2 * row_stride),
                     r3 = load_vec(s + 3 * row_stride);
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
      const T v = convert(src[r * row_stride + ci]);
      dst[r] = v;
      probe += v * T(0);
    }
    for (int64_t r = rows; r < NR; ++r) dst[r] = T(0);
  }
  return probe;
}

// Packs each tap group's taps from the filters' [tap][out / groups][in]
// layout into [channel block][tap][group's in][NR], reading the source in
// order, one work item per (tap group, tap, channel block). S is the filters' storage
// type, T the compute type.
template <typename T, typename S, typename Convert>
void pack_typed(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert,
                ThreadPool* pool) {
  struct Context {
    const ConvTransposePlan* plan;
    const S* filters;
    PackedFilters* packed;
    Convert* convert;
    int64_t blocks;
    std::vector<int> group_of_tap;  // for the flat tap index (group order)
    std::vector<int> first_tap;     // per group, its first flat tap index
    // pack_panel's probes: one per thread on the pool, each on a cache
    // line of its own; else the one below.
    PerThreadBytes probes;
    T serial_probe;
    bool parallel;
  };
  const int64_t nr = TileShape<T>::kNR;
  const int64_t blocks = plan.groups * ((plan.group_output_channels() + nr - 1) / nr);
  Context c{&plan, filters, packed, &convert, blocks, {}, {}, {}, T(0), false};
  for (size_t g = 0; g < packed->groups.size(); ++g) {
    c.first_tap.push_back(static_cast<int>(c.group_of_tap.size()));
    c.group_of_tap.insert(c.group_of_tap.end(), static_cast<size_t>(packed->groups[g].taps), static_cast<int>(g));
  }
  const int64_t items = static_cast<int64_t>(c.group_of_tap.size()) * c.blocks;
  const int threads = thread_count(pool);
  c.parallel = threads > 1 && items > 1 && c.probes.allocate(sizeof(T), threads);
  if (c.parallel) {
    for (int t = 0; t < threads; ++t) *static_cast<T*>(c.probes.slice(t)) = T(0);
  }
  auto task = [](void* context, size_t item, int thread_index) {
    Context& c = *static_cast<Context*>(context);
    constexpr int64_t NR = TileShape<T>::kNR;
    const ConvTransposePlan& p = *c.plan;
    const int64_t cin = p.input_channels, cin_g = p.group_input_channels(), cout_g = p.group_output_channels();
    const int64_t flat_tap = static_cast<int64_t>(item) / c.blocks, b = static_cast<int64_t>(item) % c.blocks;
    const int g = c.group_of_tap[static_cast<size_t>(flat_tap)];
    const PackedFilters::Group& group = c.packed->groups[static_cast<size_t>(g)];
    const int t = static_cast<int>(flat_tap - c.first_tap[static_cast<size_t>(g)]);
    const ChannelBlock cb = channel_block<T>(p, b);
    // [out / groups][in]: the block's first row, at its group's first input channel.
    const S* src = c.filters + (group.filter_taps[t] * cout_g + cb.first_channel - cb.group * cout_g) * cin +
                   cb.group * cin_g;
    T* dst = static_cast<T*>(c.packed->data) + group.offset + ((b * group.taps + t) * cin_g) * NR;
    T* probe = c.parallel ? static_cast<T*>(c.probes.slice(thread_index)) : &c.serial_probe;
    *probe += pack_panel<T>(src, cb.nr, cin_g, cin, dst, *c.convert);
  };
  parallel_for(c.parallel ? pool : nullptr, static_cast<size_t>(items), task, &c);
  T probe = c.serial_probe;
  if (c.parallel) {
    for (int t = 0; t < threads; ++t) probe += *static_cast<T*>(c.probes.slice(t));
  }
  packed->finite = probe == T(0);
}

}  // namespace

int64_t IgemmKernel::packed_elements(const ConvTransposePlan& plan) {
  return plan.filter_spatial() * plan.group_input_channels() * plan.groups *
         round_up(plan.group_output_channels(), tile_nr(plan.dtype));
}

void IgemmKernel::pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed, ThreadPool* pool) {
  with_storage(plan.dtype, filters, [&](auto src, auto convert) {
    pack_typed<decltype(convert(*src))>(plan, src, packed, convert, pool);
  });
}

ScratchSizes IgemmKernel::reshape(const ConvTransposePlan& plan, int max_taps, KernelPlan* kp) {
  const int64_t nr = tile_nr(plan.dtype), mr = TileShape<float>::kMR;
  const size_t elem = compute_bytes(plan.dtype);
  SliceLayout layout;
  std::array<size_t, 4> offsets{};
  offsets[kIndirection] = layout.add<const void*>(static_cast<size_t>(round_up(kPixelsPerItem, mr) * std::max(max_taps, 1)));
  offsets[kRows] = layout.add<void*>(static_cast<size_t>(kPixelsPerItem + mr));
  if (dtype_size(plan.dtype) == 2) {
    // A 16-bit output's float32 tile (the item's pixels x channels) and the pixels' output offsets.
    offsets[kTile] = layout.add<float>(static_cast<size_t>(kPixelsPerItem * kChannelBlocksPerItem * nr));
    offsets[kTileOffsets] = layout.add<int64_t>(static_cast<size_t>(kPixelsPerItem));
  }
  if (kp) {
    igemm_fused_madd();  // measured here, once, rather than in a run
    kp->slice_offsets = offsets;
    kp->phases = output_phases(plan, *kp->packed, &kp->zero_first);
    // Per phase: (batch, phase pixels, NR blocks of output channels).
    kp->split.clear();
    const int64_t channel_blocks = plan.groups * ((plan.group_output_channels() + nr - 1) / nr);
    for (const Phase& ph : kp->phases) {
      kp->split.add_part({plan.batch, ph.pixels, channel_blocks}, {1, kPixelsPerItem, kChannelBlocksPerItem});
    }
  }
  ScratchSizes sizes;
  sizes.per_thread = layout.bytes();
  sizes.shared = static_cast<size_t>(plan.input_channels + 4) * elem;  // the zero row
  sizes.per_run = channels_last_input_bytes(plan, plan.input_channels);
  return sizes;
}

bool IgemmKernel::run(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output,
                      ThreadPool* pool) {
  return with_compute_type(kp.plan.dtype, [&](auto c) {
    return run_typed<decltype(c)>(kp, scratch, input, output, pool);
  });
}

}  // namespace ctw
