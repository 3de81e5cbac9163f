// The narrow-output fast kernel, for 1 to 4 output channels (an RGB image
// decoder's last layer, a mono audio upsampler).
//
// Putting output channels in vector lanes (igemm_kernel.cc) would leave most
// lanes empty here, so this kernel puts output pixels in them instead: within
// one stride phase, consecutive output pixels along the width read
// consecutive input pixels through every tap. The input is relaid once into
// planar rows ([batch][in channel][depth][height][width]) with one tile of
// zeros on each side, so every tile's reads are plain unaligned vector
// loads. A tap whose depth or height falls outside the input skips the whole
// row; along the width, tiles wholly outside a tap's reach skip it and the
// tiles at the edges mask the lanes outside the input, so a missing term
// adds nothing (not 0 * w, which is NaN for an infinite weight). Filters are
// packed per tap group as [tap][in][out].
#include <algorithm>
#include <cstring>

#include "igemm_microkernel.h"
#include "kernel_internal.h"

namespace ctw {
namespace {

// Output pixels per tile: two vectors' worth.
template <typename T>
constexpr int64_t kTilePixels = 2 * Vec16<T>::kLanes;
// Output columns per work item.
constexpr int64_t kSegmentPixels = 512;

// The planar rows carry one tile of zeros on each side: a tile that reaches
// the input at all then reads only inside its row buffer.
struct RowPadding {
  int64_t left = 0;
  int64_t length = 0;  // left + width + right
};

RowPadding row_padding(const ConvTransposePlan& p, int64_t tile_pixels) {
  return {tile_pixels, p.input_size[2] + 2 * tile_pixels};
}

template <typename T, typename S, typename Convert>
void pack_taps(const ConvTransposePlan& plan, const S* filters, PackedFilters* packed, Convert convert) {
  const int64_t cin = plan.input_channels, cout = plan.output_channels;
  T* out = static_cast<T*>(packed->data);
  for (const PackedFilters::Group& g : packed->groups) {
    for (int t = 0; t < g.taps; ++t) {
      const std::array<int64_t, 3>& off = g.tap_offsets[t];
      const int64_t kd = off[0] / plan.dilation[0], kh = off[1] / plan.dilation[1], kw = off[2] / plan.dilation[2];
      const int64_t tap = (kd * plan.kernel_size[1] + kh) * plan.kernel_size[2] + kw;
      const S* src = filters + tap * cout * cin;  // [out][in]
      T* dst = out + g.offset + t * cin * cout;   // [in][out]
      for (int64_t co = 0; co < cout; ++co)
        for (int64_t ci = 0; ci < cin; ++ci) dst[ci * cout + co] = convert(src[co * cin + ci]);
    }
  }
}

struct WorkItem {
  int phase;
  int64_t batch, row;  // row: jd * count_h + jh within the phase
  int64_t begin, end;  // phase pixels along the width
};

// Work items: batch x output rows x stretches of kSegmentPixels output columns.
int64_t output_segments(const ConvTransposePlan& p) { return (p.output_size[2] + kSegmentPixels - 1) / kSegmentPixels; }

template <typename T>
struct Job {
  const ConvTransposePlan* plan;
  const PackedFilters* packed;
  const T* rows;  // planar padded input
  RowPadding pad;
  void* output;
  std::vector<Phase> phases;
  // Per thread: the item's live taps (input row and packed filter pointers,
  // and the phase pixels along the width whose input lies inside the row).
  const T** tap_inputs;
  const T** tap_filters;
  int64_t* tap_ranges;  // [begin, end) pairs
};

// Output element index of (n, od, oh, ow, c) in the plan's layout.
inline int64_t output_index(const ConvTransposePlan& p, int64_t n, int64_t od, int64_t oh, int64_t ow, int64_t c) {
  const int64_t spatial = (od * p.output_size[1] + oh) * p.output_size[2] + ow;
  return p.channels_first ? (n * p.output_channels + c) * p.output_spatial() + spatial
                          : (n * p.output_spatial() + spatial) * p.output_channels + c;
}

template <typename T>
void store(DType dtype, void* out, int64_t index, T v) {
  switch (dtype) {
    case DType::kFloat16: static_cast<uint16_t*>(out)[index] = float_to_float16(static_cast<float>(v)); break;
    case DType::kBFloat16: static_cast<uint16_t*>(out)[index] = float_to_bfloat16(static_cast<float>(v)); break;
    default: static_cast<T*>(out)[index] = v; break;
  }
}

// One tap over all input channels for a tile of 2 vectors of pixels:
// acc[c] += x * w[c]. kMasked: lanes whose mask is 0 add exactly nothing
// (the product is cleared, so 0 * Inf does not become NaN).
template <typename T, int CO, bool kMasked>
inline void accumulate_tap(const T* x, const T* w, int64_t cin, int64_t plane, typename Vec16<T>::mask m0,
                           typename Vec16<T>::mask m1, typename Vec16<T>::type* acc0,
                           typename Vec16<T>::type* acc1) {
  typedef typename Vec16<T>::type V;
  typedef typename Vec16<T>::mask M;
  constexpr int L = Vec16<T>::kLanes;
  for (int64_t ci = 0; ci < cin; ++ci, x += plane, w += CO) {
    V x0, x1;
    std::memcpy(&x0, x, sizeof(V));
    std::memcpy(&x1, x + L, sizeof(V));
    for (int c = 0; c < CO; ++c) {
      const V wc = Vec16<T>::splat(w[c]);
      if (kMasked) {
        acc0[c] += reinterpret_cast<V>(reinterpret_cast<M>(x0 * wc) & m0);
        acc1[c] += reinterpret_cast<V>(reinterpret_cast<M>(x1 * wc) & m1);
      } else {
        acc0[c] += x0 * wc;
        acc1[c] += x1 * wc;
      }
    }
  }
}

// One item for CO output channels: tiles of kTilePixels phase pixels along the width.
template <typename T, int CO>
void run_item_channels(Job<T>& job, const WorkItem& item, int thread_index) {
  typedef typename Vec16<T>::type V;
  constexpr int L = Vec16<T>::kLanes;
  constexpr int64_t PX = kTilePixels<T>;
  const ConvTransposePlan& p = *job.plan;
  const Phase& phase = job.phases[item.phase];
  const PackedFilters::Group& group = job.packed->groups[phase.group];
  const int64_t cin = p.input_channels;
  const int64_t jd = item.row / phase.count[1], jh = item.row % phase.count[1];
  const int64_t od = phase.first[0] + jd * p.stride[0];
  const int64_t oh = phase.first[1] + jh * p.stride[1];
  const int64_t plane = p.input_size[0] * p.input_size[1] * job.pad.length;  // one input channel

  // The taps whose depth and height land inside the input, for this output row.
  const T** inputs = job.tap_inputs + static_cast<size_t>(job.packed->max_taps) * thread_index;
  const T** filters = job.tap_filters + static_cast<size_t>(job.packed->max_taps) * thread_index;
  int64_t* ranges = job.tap_ranges + 2 * static_cast<size_t>(job.packed->max_taps) * thread_index;
  int live = 0;
  for (int t = 0; t < group.taps; ++t) {
    const std::array<int64_t, 3>& off = group.tap_offsets[t];
    const int64_t id = input_coordinate(od, p.pad_before[0], off[0], p.stride[0]);
    const int64_t ih = input_coordinate(oh, p.pad_before[1], off[1], p.stride[1]);
    if (od + p.pad_before[0] - off[0] < 0 || id >= p.input_size[0] || oh + p.pad_before[1] - off[1] < 0 ||
        ih >= p.input_size[1])
      continue;
    const int64_t iw0 = input_coordinate(phase.first[2], p.pad_before[2], off[2], p.stride[2]);
    inputs[live] = job.rows + ((item.batch * cin * p.input_size[0] + id) * p.input_size[1] + ih) * job.pad.length +
                   job.pad.left + iw0;
    filters[live] = static_cast<const T*>(job.packed->data) + group.offset + static_cast<size_t>(t) * cin * CO;
    // Phase pixel j reads input column iw0 + j: inside for j in [-iw0, width - iw0).
    ranges[2 * live] = std::max<int64_t>(0, -iw0);
    ranges[2 * live + 1] = std::min<int64_t>(phase.count[2], p.input_size[2] - iw0);
    ++live;
  }

  for (int64_t j0 = item.begin; j0 < item.end; j0 += PX) {
    V acc0[CO], acc1[CO];
    for (int c = 0; c < CO; ++c) acc0[c] = acc1[c] = V{};
    for (int t = 0; t < live; ++t) {
      const int64_t lo = ranges[2 * t], hi = ranges[2 * t + 1];
      if (j0 >= hi || j0 + PX <= lo) continue;  // no pixel of this tile reaches the input
      const T* x = inputs[t] + j0;
      const T* w = filters[t];
      if (j0 >= lo && j0 + PX <= hi) {
        accumulate_tap<T, CO, false>(x, w, cin, plane, typename Vec16<T>::mask{}, typename Vec16<T>::mask{}, acc0, acc1);
      } else {
        // An edge tile: lanes outside [lo, hi) must add nothing at all.
        typedef typename Vec16<T>::mask M;
        typedef typename Vec16<T>::lane_int I;
        // The tile's valid lanes, relative to j0 (clamped into the tile's small range).
        const I first = static_cast<I>(std::max<int64_t>(lo - j0, 0));
        const I last = static_cast<I>(std::min<int64_t>(hi - j0, PX));
        const M lane0 = Vec16<T>::lanes();
        const M lane1 = lane0 + static_cast<I>(L);
        accumulate_tap<T, CO, true>(x, w, cin, plane, (lane0 >= first) & (lane0 < last), (lane1 >= first) & (lane1 < last),
                                    acc0, acc1);
      }
    }
    const int64_t valid = std::min<int64_t>(PX, item.end - j0);
    for (int c = 0; c < CO; ++c) {
      T lanes[PX];
      std::memcpy(lanes, &acc0[c], sizeof(V));
      std::memcpy(lanes + L, &acc1[c], sizeof(V));
      for (int64_t j = 0; j < valid; ++j) {
        const int64_t ow = phase.first[2] + (j0 + j) * p.stride[2];
        store<T>(p.dtype, job.output, output_index(p, item.batch, od, oh, ow, c), lanes[j]);
      }
    }
  }
}

template <typename T>
void run_item(void* context, size_t item_index, int thread_index) {
  // An item owns a stretch of one output row in full, across every phase
  // that lands there: with a few channels, pixels of neighbouring phases
  // share cache lines, and threads writing them at once would contend.
  Job<T>& job = *static_cast<Job<T>*>(context);
  const ConvTransposePlan& p = *job.plan;
  const int64_t segments = output_segments(p), rows = p.output_size[0] * p.output_size[1];
  const int64_t index = static_cast<int64_t>(item_index);
  const int64_t ow0 = index % segments * kSegmentPixels;
  const int64_t ow1 = std::min(ow0 + kSegmentPixels, p.output_size[2]);
  const int64_t row = index / segments % rows;
  const int64_t od = row / p.output_size[1], oh = row % p.output_size[1];
  WorkItem item;
  item.batch = index / segments / rows;
  for (size_t ph = 0; ph < job.phases.size(); ++ph) {
    const Phase& phase = job.phases[ph];
    if (od % p.stride[0] != phase.first[0] || oh % p.stride[1] != phase.first[1]) continue;
    const int64_t first_w = phase.first[2], s_w = p.stride[2];
    // The phase pixels j whose output column first_w + j * s_w lies in [ow0, ow1).
    item.phase = static_cast<int>(ph);
    item.row = (od / p.stride[0]) * phase.count[1] + oh / p.stride[1];
    item.begin = ow0 <= first_w ? 0 : (ow0 - first_w + s_w - 1) / s_w;
    item.end = ow1 <= first_w ? 0 : std::min(phase.count[2], (ow1 - first_w + s_w - 1) / s_w);
    if (item.begin >= item.end) continue;
    switch (p.output_channels) {
      case 1: run_item_channels<T, 1>(job, item, thread_index); break;
      case 2: run_item_channels<T, 2>(job, item, thread_index); break;
      case 3: run_item_channels<T, 3>(job, item, thread_index); break;
      default: run_item_channels<T, 4>(job, item, thread_index); break;
    }
  }
}

template <typename T>
Status run_typed(const ConvTransposePlan& p, const PackedFilters& packed, const void* input, void* output,
                 ThreadPool* pool) {
  Job<T> job;
  job.plan = &p;
  job.packed = &packed;
  job.output = output;
  job.pad = row_padding(p, kTilePixels<T>);
  bool uncovered = false;
  job.phases = output_phases(p, packed, &uncovered);
  if (uncovered) zero_output(p, output);

  const int64_t cin = p.input_channels;
  const int64_t row_count = p.batch * cin * p.input_size[0] * p.input_size[1];
  const int threads = pool ? pool->threads() : 1;
  const size_t tap_slots = static_cast<size_t>(std::max(packed.max_taps, 1)) * threads;
  T* rows = static_cast<T*>(std::calloc(static_cast<size_t>(std::max<int64_t>(row_count * job.pad.length, 1)), sizeof(T)));
  job.tap_inputs = static_cast<const T**>(std::malloc(tap_slots * sizeof(T*)));
  job.tap_filters = static_cast<const T**>(std::malloc(tap_slots * sizeof(T*)));
  job.tap_ranges = static_cast<int64_t*>(std::malloc(2 * tap_slots * sizeof(int64_t)));
  const bool allocated = rows && job.tap_inputs && job.tap_filters && job.tap_ranges;
  if (allocated) {
    // Relayout: any input layout and dtype -> planar rows in the compute type.
    relayout_input<T>(p, input, rows, /*planar=*/true, job.pad.length, job.pad.left);
    job.rows = rows;

    const int64_t items = p.batch * p.output_size[0] * p.output_size[1] * output_segments(p);
    if (pool) {
      pool->parallel_for(static_cast<size_t>(items), &run_item<T>, &job);
    } else {
      for (int64_t i = 0; i < items; ++i) run_item<T>(&job, static_cast<size_t>(i), 0);
    }
  }
  std::free(rows);
  std::free(const_cast<T**>(job.tap_inputs));
  std::free(const_cast<T**>(job.tap_filters));
  std::free(job.tap_ranges);
  return allocated ? Status::Ok() : Status::Error("conv_transpose: out of memory for kernel scratch");
}

}  // namespace

int64_t narrow_packed_elements(const ConvTransposePlan& plan) {
  return plan.kernel_spatial() * plan.input_channels * plan.output_channels;
}

uint64_t narrow_scratch_bytes(const ConvTransposePlan& plan) {
  const int64_t tile = uses_double(plan.dtype) ? kTilePixels<double> : kTilePixels<float>;
  const uint64_t rows =
      static_cast<uint64_t>(plan.batch) * plan.input_channels * plan.input_size[0] * plan.input_size[1];
  return (rows * static_cast<uint64_t>(row_padding(plan, tile).length)) * compute_size(plan.dtype) +
         4ull * kMaxThreadsForScratch * static_cast<uint64_t>(plan.kernel_spatial() + 1) * sizeof(void*);
}

void narrow_pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* p) {
  with_storage(plan.dtype, filters, [&](auto src, auto convert) {
    pack_taps<decltype(convert(*src))>(plan, src, p, convert);
  });
}

Status narrow_run(const ConvTransposePlan& plan, const PackedFilters& packed, const void* input, void* output,
                  ThreadPool* pool) {
  return uses_double(plan.dtype) ? run_typed<double>(plan, packed, input, output, pool)
                                 : run_typed<float>(plan, packed, input, output, pool);
}

}  // namespace ctw
