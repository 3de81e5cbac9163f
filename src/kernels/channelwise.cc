// The channel-lane fast kernel, for grouped transposed convolutions with
// few channels per group: depthwise layers (one input and one output
// channel per group) and their multipliers (one output channel fed by a few
// input channels, or a few output channels from one).
//
// With groups, output channel co = g * b + j (b = out / groups) is
//     out[o, co] = sum over taps t reaching o, and ji < a (a = in / groups) of
//                  x[i_t, g * a + ji] * w[t, j, g * a + ji],
// so for each j the products x[i_t, e] * w[t, j, e] run over every input
// channel e side by side: input channels go in the vector lanes, read
// contiguously from a channels-last input pixel and from the filters' own
// [tap][out / groups][in] layout (the packing only converts to the compute
// type, and the one-call form reads float filters where they are). Per
// output pixel and j, short groups (depthwise) sum those products over the
// taps for every input channel at once (registers, a few vectors at a time,
// then a small per-thread row) and output channel g * b + j adds its
// group's a sums; long groups run a dot product per output channel along
// the group's input channels. A GEMM would run a * b long dot products per
// group: with a or b of 1 its tiles would be mostly empty lanes; and with
// every weight used once or twice (a 1x1 latent projected to 4x4), packing
// the filters would cost more than the products.
//
// The work follows the output phases (phases.h) like the igemm kernel: a
// work item is a block of one phase's pixels; taps outside the input are
// skipped (no product with padding, so an infinite weight never meets a
// missing pixel).
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/epilogue.h"
#include "kernels/kernel.h"
#include "kernels/output_store.h"
#include "runtime/input_layout.h"
#include "simd/vec.h"

namespace ctw {
namespace {

constexpr int64_t kPixelsPerItem = 32;

// The per-thread arrays, in the order reshape lays them out in a slice.
enum SliceArray { kTapInputs = 0, kTapWeights = 1, kSums = 2 };

template <typename T>
struct alignas(kCacheLine) Job {
  const KernelPlan* kp;
  const KernelScratch* scratch;
  const T* input;    // channels last, compute type
  const T* weights;  // [tap][out / groups][in], compute type
  void* output;
  EpilogueOp<T> epilogue;
};

// One output pixel's values (values[g * b + jo], g < groups, jo < b) from
// its live taps: x[t] the tap's input pixel, w[t] the tap's filters
// [out / groups][in]. a, b: input and output channels per group.
template <typename T>
void pixel_values(const T* const* x, const T* const* w, int live, int64_t cin, int64_t groups, int64_t a,
                  int64_t b, T* sums, T* values) {
  typedef Vec<T> V;
  constexpr int L = Vec16<T>::kLanes;
  if (a >= 2 * L) {
    // Long groups: lanes along each group's input channels, a dot product
    // per output channel, its lanes added once.
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t jo = 0; jo < b; ++jo) {
        V acc0{}, acc1{};
        T tail = 0;
        for (int t = 0; t < live; ++t) {
          const T* xt = x[t] + g * a;
          const T* wt = w[t] + jo * cin + g * a;
          int64_t e = 0;
          for (; e + 2 * L <= a; e += 2 * L) {
            acc0 = madd(load_vec(xt + e), load_vec(wt + e), acc0);
            acc1 = madd(load_vec(xt + e + L), load_vec(wt + e + L), acc1);
          }
          for (; e < a; ++e) tail += xt[e] * wt[e];
        }
        const V acc = acc0 + acc1;
        T v = tail;
        for (int l = 0; l < L; ++l) v += acc[l];
        values[g * b + jo] = v;
      }
    }
    return;
  }
  // Short groups (depthwise): lanes across every input channel, then each
  // group's a sums added. One input and one output channel per group: the
  // sums are the values.
  if (a == 1 && b == 1) sums = values;
  for (int64_t jo = 0; jo < b; ++jo) {
    const int64_t wj = jo * cin;
    int64_t e = 0;
    for (; e + 4 * L <= cin; e += 4 * L) {
      V a0{}, a1{}, a2{}, a3{};
      for (int t = 0; t < live; ++t) {
        const T* xt = x[t] + e;
        const T* wt = w[t] + wj + e;
        a0 = madd(load_vec(xt), load_vec(wt), a0);
        a1 = madd(load_vec(xt + L), load_vec(wt + L), a1);
        a2 = madd(load_vec(xt + 2 * L), load_vec(wt + 2 * L), a2);
        a3 = madd(load_vec(xt + 3 * L), load_vec(wt + 3 * L), a3);
      }
      store_vec(sums + e, a0);
      store_vec(sums + e + L, a1);
      store_vec(sums + e + 2 * L, a2);
      store_vec(sums + e + 3 * L, a3);
    }
    for (; e + L <= cin; e += L) {
      V a0{};
      for (int t = 0; t < live; ++t) a0 = madd(load_vec(x[t] + e), load_vec(w[t] + wj + e), a0);
      store_vec(sums + e, a0);
    }
    for (; e < cin; ++e) {
      T a0 = 0;
      for (int t = 0; t < live; ++t) a0 += x[t][e] * w[t][wj + e];
      sums[e] = a0;
    }
    if (sums == values) break;
    for (int64_t g = 0; g < groups; ++g) {
      const T* s = sums + g * a;
      T v = s[0];
      for (int64_t ji = 1; ji < a; ++ji) v += s[ji];
      values[g * b + jo] = v;
    }
  }
}

template <typename T, DType D>
void run_item(void* context, size_t item_index, int thread_index) {
  const Job<T>& job = *static_cast<const Job<T>*>(context);
  const KernelPlan& kp = *job.kp;
  const ConvTransposePlan& p = kp.plan;
  const WorkSplit::Block item = kp.split.block(static_cast<int64_t>(item_index));
  const int64_t batch = item.begin[0];
  const Phase& phase = kp.phases[item.part];
  const PackedFilters::Group& group = kp.packed->groups[phase.group];
  const int64_t cin = p.input_channels, cout = p.output_channels;
  const int64_t a = p.group_input_channels(), b = p.group_output_channels();
  void* slice = job.scratch->threads.slice(thread_index);
  const T** x = slice_array<const T*>(slice, kp.slice_offsets[kTapInputs]);
  const T** w = slice_array<const T*>(slice, kp.slice_offsets[kTapWeights]);
  T* sums = slice_array<T>(slice, kp.slice_offsets[kSums]);  // cin sums, then the pixel's cout values
  T* values = sums + cin;
  const int64_t out_plane = p.output_spatial();
  const int64_t channel_step = p.channels_first ? out_plane : 1;

  for (int64_t j = item.begin[1]; j < item.end[1]; ++j) {
    const int64_t jw = j % phase.count[2];
    const int64_t jh = (j / phase.count[2]) % phase.count[1];
    const int64_t jd = j / (phase.count[2] * phase.count[1]);
    int live = 0;
    for (int t = 0; t < group.taps; ++t) {
      const std::array<int64_t, 3>& base = phase.tap_base[t];
      const int64_t id = jd + base[0], ih = jh + base[1], iw = jw + base[2];
      if (id < 0 || id >= p.input_size[0] || ih < 0 || ih >= p.input_size[1] || iw < 0 || iw >= p.input_size[2])
        continue;
      x[live] = job.input + (((batch * p.input_size[0] + id) * p.input_size[1] + ih) * p.input_size[2] + iw) * cin;
      w[live] = job.weights + group.filter_taps[t] * b * cin;
      ++live;
    }
    pixel_values<T>(x, w, live, cin, p.groups, a, b, sums, values);
    if (!job.epilogue.identity()) job.epilogue.channels(values, cout, 0, 1);
    const int64_t od = phase.first[0] + jd * p.stride[0];
    const int64_t oh = phase.first[1] + jh * p.stride[1];
    const int64_t ow = phase.first[2] + jw * p.stride[2];
    const int64_t out0 = output_index(p, batch, od, oh, ow, 0);
    if constexpr (D == DType::kFloat16 || D == DType::kBFloat16) {
      if (channel_step == 1) {
        float_to_16bit_span(values, static_cast<uint16_t*>(job.output) + out0, cout, D == DType::kFloat16);
        continue;
      }
    } else {
      if (channel_step == 1) {
        std::memcpy(static_cast<T*>(job.output) + out0, values, static_cast<size_t>(cout) * sizeof(T));
        continue;
      }
    }
    for (int64_t c = 0; c < cout; ++c) store_output<D>(job.output, out0 + c * channel_step, values[c]);
  }
}

template <typename T>
bool run_typed(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output, ThreadPool* pool) {
  const ConvTransposePlan& p = kp.plan;
  Job<T> job;
  job.kp = &kp;
  job.scratch = &scratch;
  job.weights = static_cast<const T*>(kp.packed->data);
  job.output = output;
  job.epilogue = epilogue_of<T>(p, kp.packed->bias);
  void* owned = nullptr;
  job.input = channels_last_input<T>(p, input, p.input_channels, pool, &owned);
  if (!job.input && p.input_elements > 0) return false;
  if (kp.zero_first) zero_output(p, output, kp.packed->bias);
  ThreadPool::Task task = nullptr;
  with_output_dtype(p.dtype, [&](auto d) {
    constexpr DType D = decltype(d)::value;
    if constexpr (kComputesOutput<T, D>) task = &run_item<T, D>;
  });
  parallel_for(pool, static_cast<size_t>(kp.split.items()), task, &job);
  std::free(owned);
  return true;
}

}  // namespace

int64_t ChannelwiseKernel::packed_elements(const ConvTransposePlan& plan) { return plan.filter_elements; }

void ChannelwiseKernel::pack(const ConvTransposePlan& plan, const void* filters, PackedFilters* packed,
                             ThreadPool* /*pool: a conversion, as fast as the copy that feeds it*/) {
  with_storage(plan.dtype, filters, [&](auto src, auto convert) {
    using T = decltype(convert(*src));
    T* dst = static_cast<T*>(packed->data);
    for (int64_t i = 0; i < plan.filter_elements; ++i) dst[i] = convert(src[i]);
  });
  packed->finite = true;  // unread: taps outside the input are skipped, never multiplied by zeros
}

ScratchSizes ChannelwiseKernel::reshape(const ConvTransposePlan& plan, int max_taps, KernelPlan* kp) {
  const size_t elem = compute_bytes(plan.dtype);
  SliceLayout layout;
  std::array<size_t, 4> offsets{};
  const size_t taps = static_cast<size_t>(std::max(max_taps, 1));
  offsets[kTapInputs] = layout.add<const void*>(taps);
  offsets[kTapWeights] = layout.add<const void*>(taps);
  const size_t sums = static_cast<size_t>(plan.input_channels + plan.output_channels);
  offsets[kSums] = elem == sizeof(double) ? layout.add<double>(sums) : layout.add<float>(sums);
  if (kp) {
    kp->slice_offsets = offsets;
    kp->phases = output_phases(plan, *kp->packed, &kp->zero_first);
    kp->split.clear();
    for (const Phase& ph : kp->phases) kp->split.add_part({plan.batch, ph.pixels, 1}, {1, kPixelsPerItem, 1});
  }
  ScratchSizes sizes;
  sizes.per_thread = layout.bytes();
  sizes.per_run = channels_last_input_bytes(plan, plan.input_channels);
  return sizes;
}

bool ChannelwiseKernel::run(const KernelPlan& kp, const KernelScratch& scratch, const void* input, void* output,
                            ThreadPool* pool) {
  return with_compute_type(kp.plan.dtype, [&](auto c) {
    return run_typed<decltype(c)>(kp, scratch, input, output, pool);
  });
}

}  // namespace ctw
