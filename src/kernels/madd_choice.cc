#include "kernels/madd_choice.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <vector>

#include "microkernels/igemm_tile.h"

namespace ctw {
namespace {

// -1: not measured yet; 0: multiply and add; 1: relaxed madd.
std::atomic<int> g_mode{-1};

// Seconds for `reps` runs of one 4 x 8 float tile over k products, in the
// given form; the output is kept so that the work is not optimized away.
// Not inlined: each call runs the engine's newest code for it (see measure).
template <bool kFused>
__attribute__((noinline)) double time_tile(const std::vector<const float*>& rows, const float* w, size_t k, const float* zero, float* out,
                 int reps) {
  float* out_rows[4] = {out, out + 8, out + 16, out + 24};
  const TileOutput<float> tile = {out_rows, 1, 4, 8, true};
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) igemm_tile<float, kFused>(1, k, rows.data(), 0, w, 0, zero, true, tile);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The engine first runs a module from a quick baseline compile and swaps in
// optimized code while it runs (V8's Liftoff, then TurboFan): the first
// rounds time the baseline code. So the rounds go on, interleaved, for
// kProbeSeconds, and each form's fastest round counts: by then both run
// optimized code, and a round slowed by another process only loses.
constexpr double kProbeSeconds = 0.025;
constexpr int kMinRounds = 8;

bool measure() {
  if (!kRelaxedMadd) return false;
  // 4 rows x 512 products, 16 KiB of weights: in L1/L2, as the kernel's K
  // blocks are; a round is about 0.1 ms of each form on a current core.
  constexpr size_t k = 512;
  std::vector<float> a(4 * k, 0.5f), w(k * 8, 0.25f), zero(k, 0.f), out(32, 0.f);
  const std::vector<const float*> rows = {a.data(), a.data() + k, a.data() + 2 * k, a.data() + 3 * k};
  constexpr int reps = 16;
  double fused = 1e30, separate = 1e30;
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0;; ++round) {
    const double f = time_tile<true>(rows, w.data(), k, zero.data(), out.data(), reps);
    const double s = time_tile<false>(rows, w.data(), k, zero.data(), out.data(), reps);
    if (f < fused) fused = f;
    if (s < separate) separate = s;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (round + 1 >= kMinRounds && elapsed >= kProbeSeconds) break;
  }
  // The fused form only when it is clearly faster: the separate one is the
  // SIMD build's, whose speed the benchmarks report.
  return fused < 0.97 * separate;
}

}  // namespace

bool igemm_fused_madd() {
  int mode = g_mode.load(std::memory_order_acquire);
  if (mode < 0) {
    mode = measure() ? 1 : 0;
    g_mode.store(mode, std::memory_order_release);
  }
  return mode == 1;
}

void set_igemm_fused_madd(int mode) { g_mode.store(mode < 0 ? -1 : (mode ? 1 : 0), std::memory_order_release); }

}  // namespace ctw
