// The output-column fast kernel, for filters whose width is a multiple of
// the width stride (dilation 1 along the width): a 1-D signal interpolator
// (64 taps, stride 8), an upsampler with 4x4 / stride 2 or 16 / stride 8
// kernels, when the output has few channels.
//
// Along the width, output column o receives input column i through tap kw
// when o + pad = i * s + kw. Write o + pad = q * s + r (r in [0, s)) and
// kw = m * s + r: then i = q - m. With s dividing the kernel width, every
// (m, r) is a real tap, so the s consecutive output columns of "macro pixel"
// q, all channels (s * C_out values, contiguous in a channels-last output),
// are M = kw / s taps of a stride-1 transposed convolution:
//     out[q][r, co] = sum over m, ci of x[q - m][ci] * w[m * s + r][co][ci].
// That is a GEMM whose A rows (macro pixels) are overlapping windows of the
// input row: read with m reversed, row q's K = M * C_in values are the
// contiguous input x[q - M + 1 .. q][*]. Its N dimension, s * C_out, fills
// the micro-kernel's lanes where C_out alone would not (1-4 channels), and
// each output value is stored once, in place, with neighbouring columns in
// one vector store (the pixel-lane kernel stores a phase's pixels s apart).
// Depth and height keep their stride phases: an output row sums the filter
// rows (kd, kh) whose input row exists.
//
// Filters are packed as [kd][kh][NR block of (r, co)][m reversed][ci][NR],
// columns past s * C_out zero, indexed by filter row (not by the tap groups
// of PackedFilters, whose offsets this kernel does not use). A work item is a stretch of macro pixels of
// one output row; it runs microkernels/igemm_tile.h's tile over its live filter
// rows. Tiles whose windows reach past the input's ends run row by row over
// the part of K inside the input (no product with a missing pixel, which
// would turn an infinite weight into NaN), and tiles whose columns reach
// past the output's ends, channels-first outputs and 16-bit outputs go
// through a small tile buffer.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/epilogue.h"
#include "kernels/kernel.h"
#include "kernels/output_store.h"
#include "microkernels/igemm_tile.h"
#include "runtime/input_layout.h"

namespace ctw {
namespace {

// Macro pixels per work item (s output columns each).
constexpr int64_t kMacroPixelsPerItem = 64;

// The width geometry of a plan this kernel serves.
struct Columns {
  int64_t s = 1;       // width stride
  int64_t m = 1;       // taps per width phase: kernel width / s
  int64_t values = 1;  // a macro pixel's values: s * output channels, (r, co) order
  int64_t blocks = 1;  // NR blocks of values
  int64_t k = 0;       // a filter row's K: m * input channels
  int64_t q_first = 0, q_count = 0;  // the macro pixels that hold an output column
};

Columns columns_of(const ConvTransposePlan& p) {
  Columns c;
  c.s = p.stride[2];
  c.m = p.filter_size[2] / c.s;
  c.values = c.s * p.output_channels;
  c.blocks = (c.values + tile_nr(p.dtype) - 1) / tile_nr(p.dtype);
  c.k = c.m * p.input_channels;
  // Column o lies in macro pixel floor((o + pad) / s); pad_before >= 0.
  c.q_first = p.pad_before[2] / c.s;
  c.q_count = p.output_size[2] == 0 ? 0 : (p.output_size[2] - 1 + p.pad_before[2]) / c.s - c.q_first + 1;
  return c;
}

// A filter row (kd, kh) whose input row exists for the item's output row.
template <typename T>
struct LiveRow {
  const T* x;  // the input row, channels last
  const T* w;  // its packed filters, block 0
};

// The per-thread arrays, in the order reshape lays them out in a slice.
enum SliceArray { kLiveRows = 0, kIndirection = 1 };

// On cache lines of its own, like the igemm job (igemm.cc).
template <typename T>
struct alignas(kCacheLine) Job {
  const KernelPlan* kp;
  const KernelScratch* scratch;
  Columns cols;
  const T* input;  // channels last
  const T* packed;
  bool finite;
  void* output;
  EpilogueOp<T> epilogue;
};

// Stores a tile's values (tile[i][j]: macro pixel q0 + i, value n0 + j)
// through the epilogue, dropping columns outside the output and values past
// the last channel.
// out0 is the output index of the row's column 0, channel 0 (output_index).
// Channels last, a macro pixel's values are one contiguous span of the
// output (16-bit types rounded a tile at a time); channels first, each value
// is stored on its own, a plane apart per channel.
template <typename T, DType D>
void store_tile(const Job<T>& job, int64_t out0, int64_t q0, int mr, int64_t n0, T* tile) {
  constexpr int MR = TileShape<T>::kMR;
  constexpr int NR = TileShape<T>::kNR;
  const ConvTransposePlan& p = job.kp->plan;
  const int64_t cout = p.output_channels, width = p.output_size[2];
  const int64_t nr = std::min<int64_t>(NR, job.cols.values - n0);
  if (!job.epilogue.identity()) {
    for (int i = 0; i < mr; ++i) job.epilogue.cycled(tile + i * NR, nr, n0, cout);
  }
  // 16-bit outputs: the tile's rows (contiguous, NR apart) rounded in one go.
  constexpr bool kSixteenBit = D == DType::kFloat16 || D == DType::kBFloat16;
  uint16_t bits[kSixteenBit ? MR * NR : 1];
  if constexpr (kSixteenBit) {
    if (!p.channels_first) float_to_16bit_span(tile, bits, mr * NR, D == DType::kFloat16);
  }
  for (int i = 0; i < mr; ++i) {
    const int64_t column0 = (q0 + i) * job.cols.s - p.pad_before[2];  // value n's column: column0 + n / cout
    const T* src = tile + i * NR;
    if (!p.channels_first) {
      // Values whose column lies in [0, width): n in [-column0 * cout, (width - column0) * cout).
      const int64_t lo = std::max(n0, -column0 * cout), hi = std::min(n0 + nr, (width - column0) * cout);
      const int64_t at = out0 + column0 * cout;  // value n at at + n
      if constexpr (kSixteenBit) {
        uint16_t* dst = static_cast<uint16_t*>(job.output) + at + lo;
        const uint16_t* row = bits + i * NR + (lo - n0);
        if (hi - lo == NR) {
          std::memcpy(dst, row, NR * sizeof(uint16_t));
        } else {
          for (int64_t n = 0; n < hi - lo; ++n) dst[n] = row[n];
        }
      } else {
        for (int64_t n = lo; n < hi; ++n) store_output<D>(job.output, at + n, src[n - n0]);
      }
      continue;
    }
    for (int64_t j = 0; j < nr; ++j) {
      const int64_t n = n0 + j, o = column0 + n / cout, co = n % cout;
      if (o >= 0 && o < width) store_output<D>(job.output, out0 + co * p.output_spatial() + o, src[j]);
    }
  }
}

// One item: macro pixels [qa, qb) of one output row, every value block.
template <typename T, DType D>
void run_item(void* context, size_t item, int thread_index) {
  constexpr int MR = TileShape<T>::kMR;
  constexpr int NR = TileShape<T>::kNR;
  const Job<T>& job = *static_cast<const Job<T>*>(context);
  const ConvTransposePlan& p = job.kp->plan;
  const Columns& c = job.cols;
  // The item's block: one output row (batch, od, oh), a stretch of macro pixels.
  const WorkSplit::Block block = job.kp->split.block(static_cast<int64_t>(item));
  const int64_t row = block.begin[0];
  const int64_t oh = row % p.output_size[1], od = row / p.output_size[1] % p.output_size[0];
  const int64_t batch = row / p.output_size[1] / p.output_size[0];
  const int64_t qa = c.q_first + block.begin[1], qb = c.q_first + block.end[1];
  const int64_t out0 = output_index(p, batch, od, oh, 0, 0);  // the row's column 0, channel 0

  // The filter rows that reach this output row.
  void* slice = job.scratch->threads.slice(thread_index);
  LiveRow<T>* live = slice_array<LiveRow<T>>(slice, job.kp->slice_offsets[kLiveRows]);
  int rows = 0;
  const int64_t tap_elements = c.blocks * c.k * NR;
  const int64_t width = p.input_size[2], cin = p.input_channels;
  for (int64_t kd = 0; kd < p.filter_size[0]; ++kd) {
    if (!tap_reaches(od, p.pad_before[0], kd * p.dilation[0], p.stride[0])) continue;
    const int64_t id = input_coordinate(od, p.pad_before[0], kd * p.dilation[0], p.stride[0]);
    if (id < 0 || id >= p.input_size[0]) continue;
    for (int64_t kh = 0; kh < p.filter_size[1]; ++kh) {
      if (!tap_reaches(oh, p.pad_before[1], kh * p.dilation[1], p.stride[1])) continue;
      const int64_t ih = input_coordinate(oh, p.pad_before[1], kh * p.dilation[1], p.stride[1]);
      if (ih < 0 || ih >= p.input_size[1]) continue;
      live[rows].x = job.input + ((batch * p.input_size[0] + id) * p.input_size[1] + ih) * width * cin;
      live[rows].w = job.packed + (kd * p.filter_size[1] + kh) * tap_elements;
      ++rows;
    }
  }

  // Filter rows a fixed number of packed rows apart (always in 1-D and 2-D:
  // the live kh form an arithmetic progression) run as one tap list.
  const int64_t row_step = rows > 1 ? live[1].w - live[0].w : tap_elements;
  bool uniform = true;
  for (int r = 2; r < rows; ++r) uniform = uniform && live[r].w - live[r - 1].w == row_step;

  // Stores go straight to the output where a tile's columns and channels lie in it.
  constexpr bool kDirect = D == DType::kFloat32 || D == DType::kFloat64;
  const bool direct = kDirect && !p.channels_first;
  T tile[MR * NR];
  T* tile_rows[MR];
  const T** a = slice_array<const T*>(slice, job.kp->slice_offsets[kIndirection]);  // [live row][MR]
  for (int64_t nb = 0; nb < c.blocks; ++nb) {
    const int64_t n0 = nb * NR;
    const int nr = static_cast<int>(std::min<int64_t>(NR, c.values - n0));
    for (int64_t q = qa; q < qb; q += MR) {
      const int mr = static_cast<int>(std::min<int64_t>(MR, qb - q));
      // Windows [q - M + 1, q + mr - 1] inside the input; columns inside the output.
      const bool inside = mr == MR && q - c.m + 1 >= 0 && q + MR - 1 < width;
      const bool in_output = q * c.s - p.pad_before[2] >= 0 &&
                             (q + MR) * c.s - p.pad_before[2] <= p.output_size[2];
      if (rows == 0) {
        std::fill(tile, tile + MR * NR, T(0));
        store_tile<T, D>(job, out0, q, mr, n0, tile);
        continue;
      }
      if (inside) {
        for (int r = 0; r < rows; ++r)
          for (int i = 0; i < MR; ++i) a[r * MR + i] = live[r].x + (q + i - c.m + 1) * cin;
        const bool straight = direct && in_output;
        // 16-bit outputs with all of a macro pixel's values in this block:
        // the tile's rows nr apart are MR * nr consecutive output values,
        // rounded in one span.
        const bool packed16 = !kDirect && !p.channels_first && in_output && nr == c.values;
        const int64_t first_value = out0 + (q * c.s - p.pad_before[2]) * p.output_channels;  // macro pixel q's value 0
        for (int i = 0; i < MR; ++i) {
          tile_rows[i] = straight   ? static_cast<T*>(job.output) + first_value + i * c.values + n0
                         : packed16 ? tile + i * nr
                                    : tile + i * NR;
        }
        const int out_nr = straight || packed16 ? nr : NR;
        // No row of a is a zero row (every window is inside the input).
        if (uniform) {
          const TileOutput<T> out = {tile_rows, 1, MR, out_nr, false};
          igemm_tile<T>(rows, static_cast<size_t>(c.k), a, 0, live[0].w + n0 * c.k, static_cast<size_t>(row_step),
                        nullptr, job.finite, out);
        } else {
          for (int r = 0; r < rows; ++r) {
            const TileOutput<T> out = {tile_rows, 1, MR, out_nr, r > 0};
            igemm_tile<T>(1, static_cast<size_t>(c.k), a + r * MR, 0, live[r].w + n0 * c.k, 0, nullptr, job.finite,
                          out);
          }
        }
        if (straight && !job.epilogue.identity()) {
          for (int i = 0; i < MR; ++i) job.epilogue.cycled(tile_rows[i], nr, n0, p.output_channels);
        }
        if constexpr (!kDirect) {
          if (packed16) {
            if (!job.epilogue.identity()) job.epilogue.cycled(tile, MR * nr, 0, p.output_channels);
            float_to_16bit_span(tile, static_cast<uint16_t*>(job.output) + first_value,
                                MR * nr, D == DType::kFloat16);
            continue;
          }
        }
        if (!straight) store_tile<T, D>(job, out0, q, mr, n0, tile);
        continue;
      }
      // Edge tile: each macro pixel over the taps m whose input column q - m exists.
      for (int i = 0; i < mr; ++i) {
        typename Vec16<T>::type acc0{}, acc1{};
        const int64_t qi = q + i;
        const int64_t m_lo = std::max<int64_t>(0, qi - width + 1), m_hi = std::min<int64_t>(c.m - 1, qi);
        if (m_lo <= m_hi) {
          // K runs over m reversed: m' = M - 1 - m, element m' * cin + ci reads x[qi - M + 1 + m'][ci].
          const int64_t k0 = (c.m - 1 - m_hi) * cin, k1 = (c.m - m_lo) * cin;
          for (int r = 0; r < rows; ++r) {
            igemm_row<T>(live[r].x + (qi - c.m + 1) * cin + k0, live[r].w + n0 * c.k + k0 * NR,
                         static_cast<size_t>(k1 - k0), acc0, acc1);
          }
        }
        store_vec(tile + i * NR, acc0);
        store_vec(tile + i * NR + Vec16<T>::kLanes, acc1);
      }
      store_tile<T, D>(job, out0, q, mr, n0, tile);
    }
  }
}

template <typename T>
bool run_typed(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output, ThreadPool* pool) {
  const ConvTransposePlan& p = kp.plan;
  if (kp.split.items() == 0) return true;
  Job<T> job;
  job.kp = &kp;
  job.scratch = &scratch;
  job.cols = columns_of(p);
  job.packed = static_cast<const T*>(kp.packed->data);
  job.finite = kp.packed->finite;
  job.output = output;
  job.epilogue = epilogue_of<T>(p, kp.packed->bias);
  void* owned = nullptr;
  job.input = channels_last_input<T>(p, input, p.input_channels, pool, &owned);
  if (!job.input && p.input_elements > 0) return false;
  ThreadPool::Task task = nullptr;
  with_output_dtype(p.dtype, [&](auto d) {
    constexpr DType D = decltype(d)::value;
    if constexpr (kComputesOutput<T, D>) task = &run_item<T, D>;
  });
  parallel_for(pool, static_cast<size_t>(kp.split.items()), task, &job);
  std::free(owned);
  return true;
}

// [kd][kh][block][m reversed][ci][NR] from the filters' [kd][kh][kw][co][ci].
template <typename T, typename S, typename Convert>
void pack_typed(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert) {
  constexpr int64_t NR = TileShape<T>::kNR;
  const Columns c = columns_of(plan);
  const int64_t cin = plan.input_channels, cout = plan.output_channels, kw = plan.filter_size[2];
  T* dst = static_cast<T*>(packed->data);
  T probe = 0;
  for (int64_t row = 0; row < plan.filter_size[0] * plan.filter_size[1]; ++row) {
    for (int64_t nb = 0; nb < c.blocks; ++nb) {
      for (int64_t mr = 0; mr < c.m; ++mr) {
        const int64_t m = c.m - 1 - mr;
        for (int64_t ci = 0; ci < cin; ++ci, dst += NR) {
          for (int64_t j = 0; j < NR; ++j) {
            const int64_t n = nb * NR + j;
            if (n >= c.values) {
              dst[j] = T(0);
              continue;
            }
            const int64_t tap = row * kw + m * c.s + n / cout;  // kw = m * s + r
            dst[j] = convert(filters[(tap * cout + n % cout) * cin + ci]);
            probe += dst[j] * T(0);
          }
        }
      }
    }
  }
  packed->finite = probe == T(0);
}

}  // namespace

int64_t ColumnsKernel::packed_elements(const ConvTransposePlan& plan) {
  const Columns c = columns_of(plan);
  return plan.filter_size[0] * plan.filter_size[1] * c.blocks * c.k * tile_nr(plan.dtype);
}

void ColumnsKernel::pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed,
                         ThreadPool* /*pool: packed once, small for the shapes this kernel is chosen for*/) {
  with_storage(plan.dtype, filters, [&](auto src, auto convert) {
    pack_typed<decltype(convert(*src))>(plan, src, packed, convert);
  });
}

ScratchSizes ColumnsKernel::reshape(const ConvTransposePlan& plan, int /*max_taps: walks filter rows*/,
                                    KernelPlan* kp) {
  const size_t rows = static_cast<size_t>(std::max<int64_t>(plan.filter_size[0] * plan.filter_size[1], 1));
  SliceLayout layout;
  std::array<size_t, 4> offsets{};
  offsets[kLiveRows] = layout.add<LiveRow<double>>(rows);
  offsets[kIndirection] = layout.add<const void*>(rows * TileShape<float>::kMR);
  if (kp) {
    kp->slice_offsets = offsets;
    // One part: (output rows, macro pixels), cut into single rows and stretches of macro pixels.
    const Columns c = columns_of(plan);
    kp->split.clear();
    kp->split.add_part({plan.batch * plan.output_size[0] * plan.output_size[1], c.q_count, 1},
                       {1, kMacroPixelsPerItem, 1});
  }
  ScratchSizes sizes;
  sizes.per_thread = layout.bytes();
  sizes.per_run = channels_last_input_bytes(plan, plan.input_channels);
  return sizes;
}

bool ColumnsKernel::run(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output,
                        ThreadPool* pool) {
  return with_compute_type(kp.plan.dtype, [&](auto c) {
    return run_typed<decltype(c)>(kp, scratch, input, output, pool);
  });
}

}  // namespace ctw
