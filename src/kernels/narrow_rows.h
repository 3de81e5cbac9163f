// The row machinery of the narrow kernels (dot.cc and pixels.cc), which
// serve 1 to 4 output channels.
//
// With so few channels the pixels of neighbouring phases share cache lines,
// so a work item owns a stretch of one output row across every phase that
// lands on it, and two threads never write the same line. A stretch gives
// each width phase about kSegmentPhasePixels pixels (at least
// kSegmentPixels columns in all): each phase row pays a fixed cost (its
// taps, its edge tiles), which a long 1-D signal with a large stride would
// otherwise pay every few pixels.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>

#include "kernels/kernel.h"
#include "kernels/output_store.h"
#include "kernels/phases.h"

namespace ctw {

constexpr int64_t kSegmentPixels = 512;
constexpr int64_t kSegmentPhasePixels = 256;

// The work split of a narrow kernel: one part, (output rows, output
// columns), cut into single rows and stretches of columns.
inline void split_output_rows(const ConvTransposePlan& p, WorkSplit* split) {
  const int64_t rows = p.batch * p.output_size[0] * p.output_size[1];
  const int64_t pixels = std::max(kSegmentPixels, kSegmentPhasePixels * p.stride[2]);
  split->clear();
  split->add_part({rows, p.output_size[2], 1}, {1, pixels, 1});
}

// One work item: a stretch of one output row.
struct RowSegment {
  int64_t batch = 0, od = 0, oh = 0;  // the output row
  int64_t ow0 = 0, ow1 = 0;           // its columns [ow0, ow1)
};

inline RowSegment row_segment(const ConvTransposePlan& p, const WorkSplit::Block& block) {
  RowSegment s;
  const int64_t row = block.begin[0];
  s.oh = row % p.output_size[1];
  s.od = row / p.output_size[1] % p.output_size[0];
  s.batch = row / p.output_size[1] / p.output_size[0];
  s.ow0 = block.begin[1];
  s.ow1 = block.end[1];
  return s;
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

// A narrow kernel's reshape: the phases, the row split and each thread's
// RowTap array (slice offset 0).
inline ScratchSizes reshape_output_rows(const ConvTransposePlan& plan, int max_taps, KernelPlan* kp) {
  SliceLayout layout;
  const size_t taps_at = layout.add<RowTap>(static_cast<size_t>(std::max(max_taps, 1)));
  if (kp) {
    kp->phases = output_phases(plan, *kp->packed, &kp->zero_first);
    split_output_rows(plan, &kp->split);
    kp->slice_offsets[0] = taps_at;
  }
  ScratchSizes sizes;
  sizes.per_thread = layout.bytes();
  return sizes;
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
// Every thread reads the job for each item while the caller's stack, right
// after it, holds the caller's own locals: the job gets cache lines of its own.
struct alignas(kCacheLine) NarrowJob {
  const KernelPlan* kp = nullptr;
  const KernelScratch* scratch = nullptr;
  void* output = nullptr;
};

// One work item of a narrow kernel: every phase that crosses the item's row
// segment, each run by Kernel::phase_row<CO, D> (Kernel::Compute is the
// compute type, Kernel::Job the job).
template <typename Kernel, int CO, DType D>
void narrow_item(void* context, size_t item, int thread_index) {
  const typename Kernel::Job& job = *static_cast<const typename Kernel::Job*>(context);
  const ConvTransposePlan& p = job.kp->plan;
  const RowSegment seg = row_segment(p, job.kp->split.block(static_cast<int64_t>(item)));
  RowTap* taps = slice_array<RowTap>(job.scratch->threads.slice(thread_index), job.kp->slice_offsets[0]);
  for (const Phase& ph : job.kp->phases) {
    PhaseRow row;
    if (phase_row(p, ph, seg, &row)) Kernel::template phase_row<CO, D>(job, seg, ph, row, taps);
  }
}

// Runs every row segment of a narrow kernel's job (zeroing the output
// first when some pixels lie in no phase).
template <typename Kernel>
void run_narrow_items(typename Kernel::Job* job, ThreadPool* pool) {
  const ConvTransposePlan& p = job->kp->plan;
  if (job->kp->zero_first) zero_output(p, job->output, job->kp->packed->bias);
  ThreadPool::Task task = nullptr;
  with_narrow_channels(p.output_channels, [&](auto co) {
    with_output_dtype(p.dtype, [&](auto d) {
      constexpr DType D = decltype(d)::value;
      if constexpr (kComputesOutput<typename Kernel::Compute, D>) {
        task = &narrow_item<Kernel, std::decay_t<decltype(co)>::value, D>;
      }
    });
  });
  parallel_for(pool, static_cast<size_t>(job->kp->split.items()), task, job);
}

}  // namespace ctw
