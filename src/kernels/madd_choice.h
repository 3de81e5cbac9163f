// Whether the igemm kernel's tiles run relaxed SIMD's multiply-add or a
// multiply and an add, in the relaxed-SIMD build.
//
// The engine runs relaxed madd as a fused multiply-add where the CPU has
// one. That is one instruction instead of two, but its latency is longer
// than an add's, and the igemm tile's sums are chains of them: on CPUs that
// issue a separate multiply and add as fast as one FMA (AMD's Zen cores
// have adders beside their FMA units) the fused form only adds latency, and
// the tile ran about 10% slower; on CPUs where FMA doubles the multiply-add
// rate (Intel's) it runs faster. Neither a browser nor the module can name
// the CPU, so the choice is measured: the first time it is asked (when the
// relaxed build loads), both forms of the tile run on a small in-cache
// problem, interleaved, for 25 ms, and the fused form serves the process
// when it was clearly the faster. The narrow kernels, whose sums are not such
// chains, always use relaxed madd in that build.
#pragma once

namespace ctw {

// True when the igemm tiles use relaxed madd (measured once; always false
// outside the relaxed-SIMD build).
bool igemm_fused_madd();

// For tests and benchmarks: 1 forces relaxed madd, 0 a multiply and an add,
// -1 measures again on the next igemm_fused_madd(). Call while no
// transposed convolution runs.
void set_igemm_fused_madd(int mode);

}  // namespace ctw
