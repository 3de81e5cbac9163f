// The input-channel-lane fast kernel, for 1 to 4 output channels fed by
// several input channels (an image decoder's RGB layer: 64 -> 3).
//
// Within a stride phase, each output pixel is CO dot products over (tap,
// input channel). With the input channels last, the pixel a tap reads holds
// its channels contiguously, and the packed filters hold each (tap, output
// channel)'s weights contiguously: both are plain vector loads. Taps that
// share depth and height and step along the width by the stride (a run,
// PackedFilters::Group::runs) read neighbouring input pixels, so one dot
// product covers the whole run: the filters are packed per run as
// [out][run's taps, right to left][in, padded]. A tile of MR consecutive
// phase pixels x CO channels keeps MR * CO vector accumulators (about 8;
// microkernels/dot_tile.h), summed across lanes once per pixel at the end
// (microkernels/lane_sums.h). Input channels are padded to the vector width with
// zeros in the filters and in the input copy (made when the input is not
// already float/double channels-last with a multiple of the lanes), so
// padding lanes add exactly 0.
//
// Work items own stretches of output rows across every phase that lands
// there (RowSegment, narrow_rows.h). A tap whose input depth or height
// lies outside the input is skipped for the whole row; along the width each
// tap reaches a range of phase pixels, and pixels outside it skip the tap
// (no product with padding, which would turn an infinite weight into NaN).
// Tiles within every run's reach (all but a row's ends) take a path whose
// run offsets are set up once per phase row.
#include <algorithm>
#include <cstring>
#include <utility>

#include "kernels/epilogue.h"
#include "kernels/narrow_rows.h"
#include "microkernels/dot_tile.h"
#include "microkernels/lane_sums.h"
#include "runtime/input_layout.h"
#include "simd/vec.h"

namespace ctw {
namespace {

int64_t lanes_of(DType t) {
  return with_compute_type(t, [](auto c) -> int64_t { return Vec16<decltype(c)>::kLanes; });
}

// Input channels per pixel in the kernel's input and filters: a whole number of vectors.
int64_t padded_channels(const ConvTransposePlan& p) { return round_up(p.input_channels, lanes_of(p.dtype)); }

// Stores pixel o's CO channel sums (channel c at o + c * channel_step)
// through the epilogue.
template <DType D, int CO>
inline void store_pixel(void* out, int64_t o, int64_t channel_step, const Vec<float> (&acc)[CO],
                        const EpilogueOp<float>& epilogue) {
  Vec<float> sums = lane_sums<CO>(acc);
  if (!epilogue.identity()) {
    unroll<CO>([&](auto c) { sums[c.value] += epilogue.bias_of(c); });
    sums = epilogue.activate_vec(sums);
  }
  store_lanes<D, CO>(out, o, channel_step, sums);
}
template <DType D, int CO>
inline void store_pixel(void* out, int64_t o, int64_t channel_step, const Vec<double> (&acc)[CO],
                        const EpilogueOp<double>& epilogue) {
  unroll<CO>([&](auto c) { store_output<D>(out, o + c * channel_step, epilogue(lane_sum(acc[c]), c)); });
}

template <typename T>
struct DotJob : NarrowJob {
  const T* input;  // channels last, cp elements per pixel
  int64_t cp;
  EpilogueOp<T> epilogue;
};

// One phase's pixels on the segment's row, in tiles of MR.
template <typename T>
struct DotRows {
  using Compute = T;
  using Job = DotJob<T>;
  template <int CO, DType D>
  static void phase_row(const Job& job, const RowSegment& seg, const Phase& ph, const PhaseRow& row, RowTap* taps);
};

template <typename T>
template <int CO, DType D>
void DotRows<T>::phase_row(const Job& job, const RowSegment& seg, const Phase& ph, const PhaseRow& row, RowTap* taps) {
  typedef Vec<T> V;
  constexpr int MR = kDotTileRows<CO>;
  const ConvTransposePlan& p = job.kp->plan;
  const PackedFilters::Group& group = job.kp->packed->groups[ph.group];
  const int live = row_taps(p, ph, group, row, /*by_runs=*/true, taps);
  const int64_t begin = row.begin, end = row.end, width = p.input_size[2];
  const int64_t cp = job.cp;
  const T* filters = static_cast<const T*>(job.kp->packed->data) + group.offset;
  const int64_t in_row = (seg.batch * p.input_size[0] * p.input_size[1]) * p.input_size[2];  // first pixel of the batch
  const int64_t row_pixels = p.input_size[1] * p.input_size[2];
  const int64_t out0 = row.out0, pixel_step = row.pixel_step, channel_step = row.channel_step;

  // Tiles whose every pixel reads all of every run's taps inside the input
  // (all but the row's edges): the runs' inputs and filters are set up once
  // here, and such tiles run each run whole, without the edge arithmetic
  // below, which would otherwise be paid per tile and run.
  struct WholeRun {
    int64_t x;  // input element read by phase pixel j = 0 through the run's rightmost-reading tap
    const T* w;
    int64_t k;  // the run's taps x cp: its weights per output channel
  };
  WholeRun whole_runs[kDotMaxRowRuns];
  int64_t whole_lo = 0, whole_hi = -1;  // tiles starting at j0 in [whole_lo, whole_hi]
  if (live <= kDotMaxRowRuns) {
    whole_hi = end;
    for (int r = 0; r < live; ++r) {
      const RowTap& run = taps[r];
      whole_runs[r] = {(in_row + run.id * row_pixels + run.ih * width + run.iw0) * cp,
                       filters + static_cast<int64_t>(run.tap) * CO * cp, run.taps * cp};
      whole_lo = std::max(whole_lo, -run.iw0);
      whole_hi = std::min(whole_hi, width - run.iw0 - run.taps - (MR - 1));
    }
  }

  for (int64_t j0 = begin; j0 < end; j0 += MR) {
    const int64_t valid = std::min<int64_t>(MR, end - j0);
    V acc[MR][CO];
    unroll<MR>([&](auto m) { unroll<CO>([&](auto c) { acc[m][c] = V{}; }); });
    if (valid == MR && j0 >= whole_lo && j0 <= whole_hi) {
      for (int r = 0; r < live; ++r) {
        const WholeRun& run = whole_runs[r];
        dot_tile<T, MR, CO>(job.input + run.x + j0 * cp, cp, run.w, run.k, run.k, acc);
      }
    } else {
      for (int r = 0; r < live; ++r) {
        const RowTap& run = taps[r];
        // Pixel j reads input column iw0 + u + j through the run's u-th tap (u = 0 the rightmost).
        const int64_t c0 = run.iw0 + j0;  // row 0's column for u = 0
        const T* xrow = job.input + (in_row + run.id * row_pixels + run.ih * width) * cp;
        const T* w = filters + static_cast<int64_t>(run.tap) * CO * cp;
        const int64_t w_stride = run.taps * cp;  // between output channels
        // Taps inside the input for every row of the tile: u in [ua, ub).
        const int64_t ua = std::max<int64_t>(0, -c0);
        const int64_t ub = std::min<int64_t>(run.taps, width - (c0 + MR - 1));
        const bool whole = valid == MR && ua < ub;
        if (whole) {
          dot_tile<T, MR, CO>(xrow + (c0 + ua) * cp, cp, w + ua * cp, w_stride, (ub - ua) * cp, acc);
          if (ua == 0 && ub == run.taps) continue;  // the tile covered every row's taps (inside the image)
        }
        // Each row's taps outside [ua, ub) (all of them when the tile did not run whole).
        unroll<MR>([&](auto m) {
          if (m >= valid) return;
          const int64_t lo = std::max<int64_t>(0, -(c0 + m)), hi = std::min<int64_t>(run.taps, width - (c0 + m));
          const int64_t split_lo = whole ? std::min(ua, hi) : hi, split_hi = whole ? std::max(ub, lo) : hi;
          // [lo, split_lo) and [split_hi, hi): the parts the tile did not cover.
          if (lo < split_lo) dot_row<T, CO>(xrow + (c0 + m + lo) * cp, w + lo * cp, w_stride, (split_lo - lo) * cp, acc[m]);
          if (split_hi < hi) dot_row<T, CO>(xrow + (c0 + m + split_hi) * cp, w + split_hi * cp, w_stride, (hi - split_hi) * cp, acc[m]);
        });
      }
    }
    unroll<MR>([&](auto m) {
      if (m < valid) store_pixel<D, CO>(job.output, out0 + (j0 + m) * pixel_step, channel_step, acc[m], job.epilogue);
    });
  }
}

template <typename T>
bool run_typed(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output, ThreadPool* pool) {
  DotJob<T> job;
  job.kp = &kp;
  job.scratch = &scratch;
  job.output = output;
  job.cp = padded_channels(kp.plan);
  job.epilogue = epilogue_of<T>(kp.plan, kp.packed->bias);
  void* owned = nullptr;
  job.input = channels_last_input<T>(kp.plan, input, job.cp, pool, &owned);
  if (!job.input && kp.plan.input_elements > 0) return false;
  run_narrow_items<DotRows<T>>(&job, pool);
  std::free(owned);
  return true;
}

template <typename T, typename S, typename Convert>
void pack_typed(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert) {
  const int64_t cin = plan.input_channels, cout = plan.output_channels, cp = padded_channels(plan);
  T* out = static_cast<T*>(packed->data);
  for (const PackedFilters::Group& g : packed->groups) {
    for (const std::array<int, 2>& run : g.runs) {
      // [out][the run's taps, last in group order first][in, padded], where its first tap's share begins.
      T* block = out + g.offset + run[0] * cout * cp;
      for (int u = 0; u < run[1]; ++u) {
        const S* src = filters + g.filter_taps[run[0] + run[1] - 1 - u] * cout * cin;  // [out][in]
        for (int64_t co = 0; co < cout; ++co, src += cin) {
          T* dst = block + (co * run[1] + u) * cp;
          for (int64_t ci = 0; ci < cin; ++ci) dst[ci] = convert(src[ci]);
          std::fill(dst + cin, dst + cp, T(0));
        }
      }
    }
  }
}

}  // namespace

int64_t DotKernel::packed_elements(const ConvTransposePlan& plan) {
  return plan.filter_spatial() * plan.output_channels * padded_channels(plan);
}

void DotKernel::pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed,
                     ThreadPool* /*pool: 1-4 output channels make small filters*/) {
  with_storage(plan.dtype, filters, [&](auto src, auto convert) {
    pack_typed<decltype(convert(*src))>(plan, src, packed, convert);
  });
}

ScratchSizes DotKernel::reshape(const ConvTransposePlan& plan, int max_taps, KernelPlan* kp) {
  ScratchSizes sizes = reshape_output_rows(plan, max_taps, kp);
  sizes.per_run = channels_last_input_bytes(plan, padded_channels(plan));
  return sizes;
}

bool DotKernel::run(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output,
                    ThreadPool* pool) {
  return with_compute_type(kp.plan.dtype, [&](auto c) {
    return run_typed<decltype(c)>(kp, scratch, input, output, pool);
  });
}

}  // namespace ctw
