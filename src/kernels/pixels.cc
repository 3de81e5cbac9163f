// The pixel-lane fast kernel, for 1 to 4 output channels from 1 to 3 input
// channels (a mono audio upsampler, a signal interpolation filter, a
// grey-scale image layer), where neither output nor input channels fill a
// vector.
//
// Within one stride phase, consecutive output pixels along the width read
// consecutive input pixels through every tap, so output pixels go in the
// vector lanes. The input is relaid once into planar rows
// ([batch][in channel][depth][height][width]) with one tile of zeros on each
// side, so every tile's reads are plain unaligned vector loads. A tile of PV
// vectors x CO channels keeps PV * CO accumulators (about 8;
// microkernels/pixel_tap.h). A tap whose
// depth or height falls outside the input skips the whole row; along the
// width, tiles wholly outside a tap's reach skip it and the tiles at the
// edges mask the products of lanes outside the input, so a missing term adds
// nothing (not 0 * w, which is NaN for an infinite weight). Filters are
// packed per tap group as [tap][in][out]. Work items own stretches of output
// rows across every phase that lands there (RowSegment, narrow_rows.h).
#include <algorithm>
#include <cstring>

#include "kernels/epilogue.h"
#include "kernels/narrow_rows.h"
#include "microkernels/pixel_tap.h"
#include "runtime/input_layout.h"
#include "simd/vec.h"

namespace ctw {
namespace {

// The widest tile any channel count uses, in pixels: the zero padding on each side of a row.
int64_t row_margin(DType t) {
  return with_compute_type(t, [](auto c) -> int64_t { return kPixelTileVectors<1> * Vec16<decltype(c)>::kLanes; });
}

struct RowLayout {
  int64_t left = 0;    // zeros before the row's first pixel
  int64_t length = 0;  // left + width + right
};

RowLayout row_layout(const ConvTransposePlan& p) {
  const int64_t margin = row_margin(p.dtype);
  return {margin, p.input_size[2] + 2 * margin};
}

template <typename T>
struct PixelJob : NarrowJob {
  const T* rows;  // planar padded input
  RowLayout layout;
  EpilogueOp<T> epilogue;
};

// One phase's pixels on the segment's row, in tiles of PV vectors.
template <typename T>
struct PixelRows {
  using Compute = T;
  using Job = PixelJob<T>;
  template <int CO, DType D>
  static void phase_row(const Job& job, const RowSegment& seg, const Phase& ph, const PhaseRow& row, RowTap* taps) {
    // The epilogue's test taken once per row, so that the stores of a plan
    // without one are the plain stores.
    if (job.epilogue.identity()) {
      phase_row_as<CO, D, false>(job, seg, ph, row, taps);
    } else {
      phase_row_as<CO, D, true>(job, seg, ph, row, taps);
    }
  }
  template <int CO, DType D, bool kEpilogue>
  static void phase_row_as(const Job& job, const RowSegment& seg, const Phase& ph, const PhaseRow& row, RowTap* taps);
};

template <typename T>
template <int CO, DType D, bool kEpilogue>
void PixelRows<T>::phase_row_as(const Job& job, const RowSegment& seg, const Phase& ph, const PhaseRow& row,
                                RowTap* taps) {
  typedef typename Vec16<T>::mask M;
  typedef typename Vec16<T>::lane_int I;
  constexpr int L = Vec16<T>::kLanes;
  constexpr int PV = kPixelTileVectors<CO>;
  constexpr int64_t PX = PV * L;
  const ConvTransposePlan& p = job.kp->plan;
  const PackedFilters::Group& group = job.kp->packed->groups[ph.group];
  const int live = row_taps(p, ph, group, row, /*by_runs=*/false, taps);
  const int64_t begin = row.begin, end = row.end;
  const int64_t cin = p.input_channels;
  const int64_t plane = p.input_size[0] * p.input_size[1] * job.layout.length;  // one input channel
  const T* filters = static_cast<const T*>(job.kp->packed->data) + group.offset;
  const T* batch_rows = job.rows + seg.batch * cin * plane + job.layout.left;
  const int64_t out0 = row.out0, pixel_step = row.pixel_step, channel_step = row.channel_step;

  for (int64_t j0 = begin; j0 < end; j0 += PX) {
    Vec<T> acc[PV][CO];
    unroll<PV>([&](auto v) { unroll<CO>([&](auto c) { acc[v][c] = Vec<T>{}; }); });
    for (int t = 0; t < live; ++t) {
      const RowTap& r = taps[t];
      if (j0 >= r.hi || j0 + PX <= r.lo) continue;  // no pixel of this tile reaches the input
      // Phase pixel j reads row position iw0 + j; the row's margins hold the tile's reads outside it.
      const T* x = batch_rows + (r.id * p.input_size[1] + r.ih) * job.layout.length + r.iw0 + j0;
      const T* w = filters + static_cast<int64_t>(r.tap) * cin * CO;
      M mask[PV];
      if (j0 >= r.lo && j0 + PX <= r.hi) {
        accumulate_tap<T, PV, CO, false>(x, plane, w, cin, mask, acc);
      } else {
        // An edge tile: lanes outside [lo, hi) must add nothing at all.
        const I first = static_cast<I>(std::max<int64_t>(r.lo - j0, 0));
        const I last = static_cast<I>(std::min<int64_t>(r.hi - j0, PX));
        unroll<PV>([&](auto v) {
          const M lane = Vec16<T>::lanes() + static_cast<I>(v * L);
          mask[v] = (lane >= first) & (lane < last);
        });
        accumulate_tap<T, PV, CO, true>(x, plane, w, cin, mask, acc);
      }
    }
    const int64_t valid = std::min<int64_t>(PX, end - j0);
    constexpr bool epilogue = kEpilogue;
    if (valid == PX) {
      // Each vector's lanes are consecutive phase pixels, pixel_step apart in the output.
      unroll<PV>([&](auto v) {
        const int64_t at = out0 + (j0 + v * L) * pixel_step;
        unroll<CO>([&](auto c) {
          const Vec<T> y = epilogue ? job.epilogue.activate_vec(acc[v][c] + Vec16<T>::splat(job.epilogue.bias_of(c)))
                                    : acc[v][c];
          store_lanes<D, L>(job.output, at + c * channel_step, pixel_step, y);
        });
      });
    } else {
      T lanes[PV][CO][L];
      unroll<PV>([&](auto v) { unroll<CO>([&](auto c) { store_vec(lanes[v][c], acc[v][c]); }); });
      for (int64_t j = 0; j < valid; ++j) {
        const int64_t at = out0 + (j0 + j) * pixel_step;
        unroll<CO>([&](auto c) {
          const T y = lanes[j / L][c][j % L];
          store_output<D>(job.output, at + c * channel_step, epilogue ? job.epilogue(y, c) : y);
        });
      }
    }
  }
}

int64_t planar_row_count(const ConvTransposePlan& p) {
  return p.batch * p.input_channels * p.input_size[0] * p.input_size[1];
}

template <typename T>
bool run_typed(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output, ThreadPool* pool) {
  const ConvTransposePlan& p = kp.plan;
  PixelJob<T> job;
  job.kp = &kp;
  job.scratch = &scratch;
  job.output = output;
  job.layout = row_layout(p);
  job.epilogue = epilogue_of<T>(p, kp.packed->bias);
  T* rows = static_cast<T*>(
      std::malloc(static_cast<size_t>(std::max<int64_t>(planar_row_count(p) * job.layout.length, 1)) * sizeof(T)));
  if (!rows) return false;
  // Any layout and dtype -> planar rows in the compute type, with zero margins.
  InputLayout layout;
  layout.planar = true;
  layout.stride = job.layout.length;
  layout.row_left = job.layout.left;
  relayout_input<T>(p, input, rows, layout, pool);
  job.rows = rows;
  run_narrow_items<PixelRows<T>>(&job, pool);
  std::free(rows);
  return true;
}

template <typename T, typename S, typename Convert>
void pack_typed(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert) {
  const int64_t cin = plan.input_channels, cout = plan.output_channels;
  T* out = static_cast<T*>(packed->data);
  for (const PackedFilters::Group& g : packed->groups) {
    for (int t = 0; t < g.taps; ++t) {
      const S* src = filters + g.filter_taps[t] * cout * cin;  // [out][in]
      T* dst = out + g.offset + t * cin * cout;                 // [in][out]
      for (int64_t co = 0; co < cout; ++co)
        for (int64_t ci = 0; ci < cin; ++ci) dst[ci * cout + co] = convert(src[co * cin + ci]);
    }
  }
}

}  // namespace

int64_t PixelsKernel::packed_elements(const ConvTransposePlan& plan) {
  return plan.filter_spatial() * plan.input_channels * plan.output_channels;
}

void PixelsKernel::pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed,
                        ThreadPool* /*pool: 1-4 output channels make small filters*/) {
  with_storage(plan.dtype, filters, [&](auto src, auto convert) {
    pack_typed<decltype(convert(*src))>(plan, src, packed, convert);
  });
}

ScratchSizes PixelsKernel::reshape(const ConvTransposePlan& plan, int max_taps, KernelPlan* kp) {
  ScratchSizes sizes = reshape_output_rows(plan, max_taps, kp);
  sizes.per_run = static_cast<uint64_t>(planar_row_count(plan)) * static_cast<uint64_t>(row_layout(plan).length) *
                  compute_bytes(plan.dtype);
  return sizes;
}

bool PixelsKernel::run(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output,
                       ThreadPool* pool) {
  return with_compute_type(kp.plan.dtype, [&](auto c) {
    return run_typed<decltype(c)>(kp, scratch, input, output, pool);
  });
}

}  // namespace ctw
