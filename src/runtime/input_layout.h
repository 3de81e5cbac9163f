// The fast kernels' view of the input: the one place that maps a dtype to
// its storage type (with_storage), and the copies that turn the caller's
// input (any dtype, channels first or last) into the layout a kernel reads:
//   - channels last with `stride` elements per pixel (igemm: stride =
//     channels; dot: channels rounded up to the vector width, the rest 0);
//   - planar rows ([n][c][d][h] rows of `stride` elements, the width starting
//     at `row_left`, zeros around it) for the pixel-lane kernel.
// A copy is made row by row on the pool's threads; 16-bit inputs are
// widened eight at a time with vector integer operations, and channels-last
// float rows go planar by 4x4 transposes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "runtime/thread_pool.h"
#include "semantics/dtype.h"
#include "semantics/plan.h"
#include "simd/half_vec.h"
#include "simd/vec.h"

namespace ctw {

// The planar copy widens 16-bit channels-last input this many elements
// (whole pixels) at a time into a stack buffer, then transposes that into
// the channels' rows; pixels with more channels are widened one element at
// a time.
constexpr int64_t kPlanarWidenBlock = 1024;

// Calls f(source pointer, convert) with the tensor's storage type and a
// converter from it to the compute type (double for float64, float else).
template <typename F>
void with_storage(DType dtype, const void* data, F&& f) {
  switch (dtype) {
    case DType::kFloat64: f(static_cast<const double*>(data), [](double v) { return v; }); break;
    case DType::kFloat32: f(static_cast<const float*>(data), [](float v) { return v; }); break;
    case DType::kFloat16: f(static_cast<const uint16_t*>(data), [](uint16_t v) { return float16_to_float(v); }); break;
    case DType::kBFloat16: f(static_cast<const uint16_t*>(data), [](uint16_t v) { return bfloat16_to_float(v); }); break;
  }
}

namespace input_detail {

// dst[i] = convert(src[i]) for n contiguous elements.
template <typename T, typename S, typename Convert>
inline void convert_span(const S* src, T* dst, int64_t n, DType dtype, Convert convert) {
  if constexpr (sizeof(S) == 2 && sizeof(T) == 4) {
    if (dtype == DType::kFloat16) {
      sixteen_bit_span_to_float(src, dst, n, [](half_vec::U32x4 h) { return float16_high_bits_to_float(h); }, convert);
    } else {
      sixteen_bit_span_to_float(src, dst, n, [](half_vec::U32x4 h) { return bfloat16_high_bits_to_float(h); }, convert);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(convert(src[i]));
}

// Channels-last floats in[w][c] (width x channels) to planar rows
// out[c * channel_step + w]: blocks of 4 pixels x 4 channels as one 4x4
// transpose (four vector loads and stores for sixteen values), the rest one
// by one.
inline void transpose_to_planar(const float* in, float* out, int64_t channel_step, int64_t width, int64_t channels) {
  int64_t c = 0;
  for (; c + 4 <= channels; c += 4) {
    float* o = out + c * channel_step;
    int64_t w = 0;
    for (; w + 4 <= width; w += 4) {
      const float* i = in + w * channels + c;
      Vec<float> r0 = load_vec(i), r1 = load_vec(i + channels), r2 = load_vec(i + 2 * channels),
                 r3 = load_vec(i + 3 * channels);
      transpose4(r0, r1, r2, r3);
      store_vec(o + w, r0);
      store_vec(o + channel_step + w, r1);
      store_vec(o + 2 * channel_step + w, r2);
      store_vec(o + 3 * channel_step + w, r3);
    }
    for (; w < width; ++w) {
      for (int64_t k = 0; k < 4; ++k) o[k * channel_step + w] = in[w * channels + c + k];
    }
  }
  for (; c < channels; ++c) {
    for (int64_t w = 0; w < width; ++w) out[c * channel_step + w] = in[w * channels + c];
  }
}

// Channels-last pixels in[w][c] (width x channels) to planar rows
// out[c * channel_step + w]. 16-bit values are first widened a block of
// pixels at a time (up to kPlanarWidenBlock elements) into a stack buffer
// with convert_span's vector path, then transposed as floats: the vector
// decoder needs eight consecutive values, which a channel's column of a
// channels-last row does not have.
template <typename T, typename S, typename Convert>
void gather_planar(const S* in, T* out, int64_t channel_step, int64_t width, int64_t channels, DType dtype,
                   Convert convert) {
  if constexpr (std::is_same<T, float>::value && std::is_same<S, float>::value) {
    transpose_to_planar(in, out, channel_step, width, channels);
    return;
  } else if constexpr (sizeof(S) == 2 && std::is_same<T, float>::value) {
    if (channels <= kPlanarWidenBlock) {
      alignas(16) float block[kPlanarWidenBlock];
      const int64_t pixels = kPlanarWidenBlock / channels;
      for (int64_t w0 = 0; w0 < width; w0 += pixels) {
        const int64_t count = std::min(pixels, width - w0);
        convert_span(in + w0 * channels, block, count * channels, dtype, convert);
        transpose_to_planar(block, out + w0, channel_step, count, channels);
      }
      return;
    }
  }
  for (int64_t c = 0; c < channels; ++c) {
    T* o = out + c * channel_step;
    for (int64_t w = 0; w < width; ++w) o[w] = static_cast<T>(convert(in[w * channels + c]));
  }
}

}  // namespace input_detail

// Where relayout_input writes.
struct InputLayout {
  bool planar = false;   // planar rows, else channels last
  int64_t stride = 0;    // elements per pixel (channels last) or per row (planar)
  int64_t row_left = 0;  // planar: zeros before each row's first pixel
};

// One input row (batch n, row r of depth x height) from src to dst.
template <typename T, typename S, typename Convert>
void relayout_row(const ConvTransposePlan& p, const S* src, T* dst, const InputLayout& layout, int64_t n, int64_t r,
                  Convert convert) {
  using input_detail::convert_span;
  using input_detail::gather_planar;
  const int64_t channels = p.input_channels, rows = p.input_size[0] * p.input_size[1], width = p.input_size[2];
  const int64_t stride = layout.stride;
  if (layout.planar) {
    T* const first = dst + (n * channels * rows + r) * stride + layout.row_left;  // channel 0's first pixel
    const int64_t channel_step = rows * stride;
    for (int64_t c = 0; c < channels; ++c) {
      T* out = first + c * channel_step;
      std::fill(out - layout.row_left, out, T(0));
      std::fill(out + width, out - layout.row_left + stride, T(0));
      if (p.channels_first) convert_span(src + ((n * channels + c) * rows + r) * width, out, width, p.dtype, convert);
    }
    if (!p.channels_first) gather_planar(src + (n * rows + r) * width * channels, first, channel_step, width, channels,
                                         p.dtype, convert);
    return;
  }
  T* out = dst + (n * rows + r) * width * stride;
  if (p.channels_first) {
    for (int64_t c = 0; c < channels; ++c) {
      const S* in = src + ((n * channels + c) * rows + r) * width;
      for (int64_t w = 0; w < width; ++w) out[w * stride + c] = static_cast<T>(convert(in[w]));
    }
  } else if (stride == channels) {
    convert_span(src + (n * rows + r) * width * channels, out, width * channels, p.dtype, convert);
  } else {
    const S* in = src + (n * rows + r) * width * channels;
    for (int64_t w = 0; w < width; ++w) convert_span(in + w * channels, out + w * stride, channels, p.dtype, convert);
  }
  if (stride > channels) {
    for (int64_t w = 0; w < width; ++w) std::fill(out + w * stride + channels, out + (w + 1) * stride, T(0));
  }
}

// Copies the input (plan.dtype, plan layout) into compute type T laid out
// as `layout`, in row-sized work items on the pool when there is enough to
// share (pool may be null).
template <typename T>
void relayout_input(const ConvTransposePlan& p, const void* input, T* dst, const InputLayout& layout,
                    ThreadPool* pool) {
  struct Context {
    const ConvTransposePlan* plan;
    const void* input;
    T* dst;
    InputLayout layout;
    int64_t rows_per_item, rows;
  };
  const int64_t rows = p.input_size[0] * p.input_size[1];
  const int64_t row_elements = std::max<int64_t>(1, p.input_size[2] * p.input_channels);
  constexpr int64_t kElementsPerItem = 16384;
  Context context{&p, input, dst, layout, std::max<int64_t>(1, kElementsPerItem / row_elements), rows};
  const int64_t total = p.batch * rows;
  const int64_t items = (total + context.rows_per_item - 1) / context.rows_per_item;
  auto task = [](void* c, size_t item, int) {
    const Context& ctx = *static_cast<const Context*>(c);
    const int64_t begin = static_cast<int64_t>(item) * ctx.rows_per_item;
    const int64_t end = std::min(begin + ctx.rows_per_item, ctx.plan->batch * ctx.rows);
    with_storage(ctx.plan->dtype, ctx.input, [&](auto src, auto convert) {
      for (int64_t i = begin; i < end; ++i) relayout_row(*ctx.plan, src, ctx.dst, ctx.layout, i / ctx.rows, i % ctx.rows, convert);
    });
  };
  parallel_for(items > 1 ? pool : nullptr, static_cast<size_t>(items), task, &context);
}

// Whether channels_last_input must copy: the input is not already its
// compute type (16-bit is computed in float), channels last, `stride` apart.
inline bool channels_last_input_copies(const ConvTransposePlan& p, int64_t stride) {
  return p.channels_first || dtype_size(p.dtype) == 2 || stride != p.input_channels;
}

// The input in compute type T, channels last with `stride` elements per
// pixel (>= input_channels; the rest zero): the caller's own memory when it
// already is that, else a copy that *owned keeps (free it with std::free).
// Null only when the copy cannot be allocated.
template <typename T>
const T* channels_last_input(const ConvTransposePlan& p, const void* input, int64_t stride, ThreadPool* pool,
                             void** owned) {
  *owned = nullptr;
  if (!channels_last_input_copies(p, stride)) return static_cast<const T*>(input);
  const int64_t elements = p.batch * p.input_spatial() * stride;
  T* copy = static_cast<T*>(std::malloc(static_cast<size_t>(std::max<int64_t>(elements, 1)) * sizeof(T)));
  if (!copy) return nullptr;
  *owned = copy;
  InputLayout layout;
  layout.stride = stride;
  relayout_input<T>(p, input, copy, layout, pool);
  return copy;
}

// Bytes channels_last_input allocates for this plan and stride.
inline uint64_t channels_last_input_bytes(const ConvTransposePlan& p, int64_t stride) {
  return channels_last_input_copies(p, stride)
             ? static_cast<uint64_t>(p.batch * p.input_spatial() * stride) * compute_bytes(p.dtype)
             : 0;
}

}  // namespace ctw
