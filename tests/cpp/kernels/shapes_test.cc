// Targeted shapes: each kernel's blocking, edges and copies at and past
// their limits (K blocks, channel blocks, work items, tap runs, planar and
// pooled input copies, the columns kernel's macro pixels), against the
// reference.
#include <gtest/gtest.h>

#include "kernels/problem.h"

namespace {

// ---------------------------------------------------------------------------
// Targeted shapes
// ---------------------------------------------------------------------------

// Input channels beyond the igemm kernel's K block: one tap's channels are
// cut into several K slices that accumulate into the output.
TEST(Kernel, InputChannelsBeyondKBlock) {
  const int64_t kb = ctw::kIgemmKBlock;
  // Cin kb + 44 and Cout 70: two K slices, 9 (float32) or 18 (float64) NR blocks.
  check_spec(make_spec(2, false, DType::kFloat32, 1, kb + 44, 70, {4, 5}, {3, 3}, {2, 2}, {1, 1}, "SAME"), 1);
  check_spec(make_spec(2, true, DType::kFloat64, 1, kb + 44, 70, {3, 4}, {2, 3}, {1, 2}, {1, 1}, "VALID"), 2);
  check_spec(make_spec(1, false, DType::kBFloat16, 2, kb + 44, 9, {9}, {3}, {2}, {2}, "SAME"), 3);
  check_spec(make_spec(1, true, DType::kFloat16, 1, kb + 44, 5, {7}, {4}, {3}, {1}, "VALID"), 4);
  // At and around the K block size, and two full blocks.
  for (int64_t cin : {kb - 1, kb, kb + 1, 2 * kb, 2 * kb + 1}) {
    check_spec(make_spec(1, cin % 2 == 1, DType::kFloat32, 1, cin, 9, {6}, {3}, {2}, {1}, "SAME"), 10 + cin);
  }
  // Whole taps of fewer channels that fill a K block unevenly (3 taps of kb / 2 + 1).
  check_spec(make_spec(1, false, DType::kFloat32, 1, kb / 2 + 1, 3, {5}, {3}, {1}, {1}, "SAME"), 20);
}

// Output channels in several NR blocks and several channel-block work items,
// with a partial last block.
TEST(Kernel, OutputChannelBlocks) {
  for (DType t : kAllTypes) {
    for (int64_t cout : {7, 8, 9, 17, 63, 64, 65, 70, 129}) {
      check_spec(make_spec(2, cout % 2 == 0, t, 1, 3, cout, {3, 4}, {2, 2}, {2, 1}, {1, 1}, "SAME"),
                 100 + cout);
    }
  }
}

// More output pixels per phase than one work item takes (64).
TEST(Kernel, ManyPixelsSeveralWorkItems) {
  for (DType t : kAllTypes) {
    check_spec(make_spec(2, false, t, 3, 4, 5, {20, 20}, {3, 3}, {1, 1}, {1, 1}, "SAME"), 200);
    check_spec(make_spec(2, true, t, 2, 3, 9, {12, 13}, {3, 2}, {2, 2}, {1, 1}, "VALID"), 201);
    check_spec(make_spec(3, false, t, 1, 2, 3, {5, 6, 6}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, "SAME"), 202);
    check_spec(make_spec(1, true, t, 2, 5, 4, {300}, {5}, {3}, {1}, "SAME"), 203);
  }
}

// Kernels smaller than the stride: phases no tap reaches must be exactly 0.
TEST(Kernel, KernelSmallerThanStrideGivesExactZeros) {
  for (DType t : kAllTypes) {
    const std::vector<Spec> specs = {
        make_spec(1, false, t, 2, 3, 4, {7}, {1}, {3}, {1}, "VALID"),
        make_spec(1, true, t, 1, 3, 4, {7}, {2}, {4}, {1}, "SAME"),
        make_spec(2, false, t, 1, 5, 3, {4, 5}, {1, 2}, {3, 4}, {1, 1}, "SAME", {12, 20}),
        make_spec(2, true, t, 2, 4, 9, {5, 3}, {2, 1}, {3, 2}, {1, 1}, "VALID", {15, 6}),
        make_spec(3, false, t, 1, 3, 2, {2, 3, 3}, {1, 2, 1}, {2, 3, 4}, {1, 1, 1}, "SAME", {4, 9, 12}),
    };
    for (const Spec& sp : specs) {
      Rng rng(300);
      Problem pr;
      ASSERT_TRUE(make_problem(sp, rng, &pr, false));
      const Expected e = gather(pr);
      int64_t zeros = 0;
      for (int64_t x : e.terms) zeros += x == 0;
      EXPECT_GT(zeros, 0) << "the case should have unreached outputs: " << sp.describe();
      check_problem(pr);
    }
  }
  // Explicit padding that crops past the reached outputs, with a dilation.
  Spec sp = make_spec(1, false, DType::kFloat32, 1, 2, 3, {5}, {2}, {4}, {3}, "EXPLICIT");
  sp.pad_before = {2};
  sp.pad_after = {1};
  choose_output(&sp);
  check_spec(sp, 301);
}

// A dilation that is a multiple of the stride puts every tap in one phase.
TEST(Kernel, DilationMultipleOfStride) {
  for (DType t : kAllTypes) {
    check_spec(make_spec(1, false, t, 1, 3, 5, {6}, {3}, {2}, {2}, "VALID"), 400);
    check_spec(make_spec(2, true, t, 2, 4, 3, {4, 4}, {3, 2}, {3, 2}, {3, 2}, "SAME"), 401);
    check_spec(make_spec(2, false, t, 1, 2, 2, {3, 3}, {2, 3}, {2, 2}, {4, 3}, "VALID"), 402);
  }
}

// More taps x channels in one phase than one K block takes: the taps are
// cut into blocks that accumulate.
TEST(Kernel, ManyTapsTapBlocks) {
  const int64_t kb = ctw::kIgemmKBlock;
  // 343 taps (7 x 7 x 7), 1600 taps (40 x 40) or kb + 44 taps of 1 channel, over one K block.
  check_spec(make_spec(3, false, DType::kFloat32, 1, kb / 343 + 1, 3, {3, 3, 3}, {7, 7, 7}, {1, 1, 1}, {1, 1, 1}, "VALID"), 500);
  check_spec(make_spec(3, true, DType::kFloat64, 1, kb / 343 + 2, 5, {2, 3, 2}, {7, 7, 7}, {1, 1, 1}, {1, 1, 1}, "SAME"), 501);
  check_spec(make_spec(1, false, DType::kFloat16, 1, 1, 2, {10}, {kb + 44}, {1}, {1}, "VALID"), 502);
  check_spec(make_spec(2, false, DType::kBFloat16, 1, kb / 1600 + 1, 4, {4, 4}, {40, 40}, {1, 1}, {1, 1}, "SAME"), 503);
}

// Large explicit padding (crop) and SAME with an even kernel.
TEST(Kernel, ExplicitPaddingCrops) {
  for (DType t : kAllTypes) {
    Spec sp = make_spec(2, t == DType::kFloat64, t, 2, 3, 4, {5, 6}, {4, 3}, {2, 3}, {1, 2}, "EXPLICIT");
    sp.pad_before = {3, 0};
    sp.pad_after = {1, 4};
    choose_output(&sp);
    check_spec(sp, 600);
    Spec three = make_spec(3, true, t, 1, 2, 3, {3, 2, 4}, {2, 3, 2}, {2, 1, 3}, {2, 1, 1}, "EXPLICIT");
    three.pad_before = {1, 2, 0};
    three.pad_after = {2, 0, 1};
    choose_output(&three);
    check_spec(three, 601);
  }
}

// 1 to 4 output channels: two kernels besides the channel-lane igemm, each
// run on every narrow plan (check_problem forces each kernel in turn):
//   - input channels in lanes (dot_kernel.cc): channels padded to the vector
//     width (a copy of the input when they are not a multiple of it, or the
//     input is channels first or 16-bit), tiles of a few pixels whose rows
//     start and end inside or outside each tap's reach;
//   - pixels in lanes (pixel_kernel.cc): zero-padded planar rows, tiles
//     masked at the edges of each tap's reach.
// Work items own stretches of output rows (at least 512 columns) across phases.
TEST(Kernel, NarrowOutputChannels) {
  for (DType t : kAllTypes) {
    for (int64_t cout = 1; cout <= 4; ++cout) {
      for (int64_t cin : {1, 3, 4, 5, 17, 64}) {
        const uint64_t seed = 2000 + 100 * static_cast<uint64_t>(t) + 10 * static_cast<uint64_t>(cout) +
                              static_cast<uint64_t>(cin);
        std::vector<Spec> specs = {
            // Several width segments (1100 > 2 * 512) in one phase.
            make_spec(1, false, t, 1, cin, cout, {1100}, {4}, {1}, {1}, "SAME"),
            // Stride and dilation, channels first, widths not a multiple of any tile.
            make_spec(1, true, t, 2, cin, cout, {61}, {5}, {3}, {2}, "VALID"),
            make_spec(2, false, t, 2, cin, cout, {7, 11}, {3, 3}, {2, 2}, {1, 1}, "SAME"),
            make_spec(2, true, t, 1, cin, cout, {5, 9}, {5, 4}, {3, 2}, {1, 2}, "VALID"),
            make_spec(3, cin % 2 == 0, t, 1, cin, cout, {2, 3, 4}, {2, 2, 3}, {2, 1, 3}, {1, 2, 1}, "SAME"),
            // Kernel smaller than the stride; a long 1-D filter with stride 8 (signal interpolation).
            make_spec(2, false, t, 1, cin, cout, {4, 5}, {1, 2}, {3, 4}, {1, 1}, "VALID"),
            make_spec(1, cout % 2 == 0, t, 1, cin, cout, {90}, {32}, {8}, {1}, "SAME"),
            // kDotMaxRowRuns and one more runs of width taps per phase row: the
            // dot kernel sets up at most that many once per row for its inner
            // tiles (more: every tile takes the edge path).
            make_spec(2, false, t, 1, cin, cout, {18, 13}, {ctw::kDotMaxRowRuns, 3}, {1, 2}, {1, 1}, "SAME"),
            make_spec(2, false, t, 1, cin, cout, {18, 13}, {ctw::kDotMaxRowRuns + 1, 5}, {1, 2}, {1, 1}, "VALID"),
        };
        Spec three = make_spec(3, cout % 2 == 1, t, 1, cin, cout, {3, 4, 5}, {2, 3, 2}, {1, 2, 3}, {1, 1, 2}, "EXPLICIT");
        three.pad_before = {0, 2, 1};
        three.pad_after = {1, 1, 3};
        choose_output(&three);
        specs.push_back(three);
        for (size_t i = 0; i < specs.size(); ++i) {
          check_spec(specs[i], seed + i);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

// The pixel kernel's planar copy of a channels-last input: 16-bit values are
// widened up to kPlanarWidenBlock elements (whole pixels) at a time, and
// element by element when a pixel has more channels than a block holds.
// Widths of several blocks (with 7 channels the last block short), blocks
// of one pixel, and more channels than a block.
TEST(Kernel, PlanarCopyOfChannelsLastInput) {
  const int64_t block = ctw::kPlanarWidenBlock;
  for (DType t : kAllTypes) {
    for (int64_t cin : {int64_t{7}, block / 2 + 1, block, block + 3}) {
      const int64_t width = 2 * block / cin + 3;  // more pixels than two blocks hold
      const uint64_t seed = 7000 + 10 * static_cast<uint64_t>(t) + static_cast<uint64_t>(cin);
      check_spec(make_spec(1, false, t, 1, cin, 2, {width}, {3}, {2}, {1}, "SAME"), seed);
      if (HasFatalFailure()) return;
      check_spec(make_spec(2, false, t, 2, cin, 1, {2, width}, {2, 2}, {1, 3}, {1, 1}, "VALID"), seed + 1);
      if (HasFatalFailure()) return;
    }
  }
}

// Width kernels a multiple of the width stride: the output-column kernel
// (kernels/columns.cc), run on each plan with every other kernel that serves
// it. Macro pixels (s output columns) whose input window passes an end of
// the input row (the edge path), padding that is not a multiple of the
// stride (macro pixels cut by the output's ends), inputs narrower than a
// window, filter rows (kd, kh) not evenly spaced (3-D), several blocks of
// (column, channel) values, channels first.
TEST(Kernel, ColumnsKernel) {
  for (DType t : kAllTypes) {
    const uint64_t seed = 3300 + 100 * static_cast<uint64_t>(t);
    std::vector<Spec> specs = {
        // A signal interpolation filter: 64 taps, stride 8, SAME pads 28 on the left.
        make_spec(1, false, t, 1, 1, 1, {300}, {64}, {8}, {1}, "SAME"),
        make_spec(1, true, t, 2, 3, 2, {50}, {16}, {4}, {1}, "VALID"),
        // Windows of 8 macro taps on a 3-pixel input.
        make_spec(1, false, t, 1, 2, 1, {3}, {32}, {4}, {1}, "SAME"),
        make_spec(2, false, t, 1, 64, 3, {9, 13}, {4, 4}, {2, 2}, {1, 1}, "SAME"),
        make_spec(2, true, t, 2, 5, 4, {6, 7}, {3, 4}, {2, 2}, {2, 1}, "SAME"),
        // Nine output channels: 18 values per macro pixel, several blocks.
        make_spec(2, false, t, 1, 4, 9, {5, 6}, {4, 4}, {2, 2}, {1, 1}, "VALID"),
        make_spec(3, false, t, 1, 5, 2, {3, 4, 5}, {3, 3, 4}, {2, 2, 2}, {1, 1, 1}, "SAME"),
    };
    Spec explicit_pads = make_spec(2, t == DType::kFloat16, t, 1, 3, 2, {4, 9}, {2, 6}, {1, 3}, {1, 1}, "EXPLICIT");
    explicit_pads.pad_before = {0, 4};
    explicit_pads.pad_after = {1, 5};
    choose_output(&explicit_pads);
    specs.push_back(explicit_pads);
    for (size_t i = 0; i < specs.size(); ++i) {
      Rng rng(seed + i);
      Problem pr;
      ASSERT_TRUE(make_problem(specs[i], rng, &pr, false));
      ASSERT_TRUE(ctw::kernel_serves(ctw::KernelKind::kColumns, pr.plan)) << specs[i].describe();
      check_problem(pr);
      if (HasFatalFailure()) return;
    }
  }
  // A kernel width that is not a multiple of the stride, or dilated, is refused by name.
  for (const Spec& sp : {make_spec(1, false, DType::kFloat32, 1, 2, 1, {10}, {5}, {2}, {1}, "SAME"),
                         make_spec(1, false, DType::kFloat32, 1, 2, 1, {10}, {4}, {2}, {2}, "SAME"),
                         make_spec(1, false, DType::kFloat32, 1, 2, 1, {10}, {4}, {1}, {1}, "SAME")}) {
    Rng rng(3390);
    Problem pr;
    ASSERT_TRUE(make_problem(sp, rng, &pr, false));
    std::unique_ptr<ctw::ConvTransposeOp> op;
    EXPECT_TRUE(ctw_test::IsErrorWith(
        ctw::ConvTransposeOp::create(ctw::filter_args(pr.args), ctw::KernelKind::kColumns, &op),
        {"kernel='columns' serves filters whose width is a multiple of the width stride"}));
    EXPECT_EQ(op, nullptr);
  }
}

// Inputs large enough that the copy into the kernel's layout is split into
// several work items on the pool (channels first, 16-bit, padded channels).
TEST(Kernel, InputCopiedOnThePool) {
  check_spec(make_spec(2, true, DType::kFloat32, 2, 6, 9, {40, 48}, {3, 3}, {2, 2}, {1, 1}, "SAME"), 3100);
  check_spec(make_spec(2, false, DType::kFloat16, 1, 12, 3, {50, 40}, {2, 2}, {2, 2}, {1, 1}, "VALID"), 3101);
  check_spec(make_spec(2, true, DType::kBFloat16, 1, 2, 2, {60, 70}, {3, 3}, {1, 1}, {1, 1}, "SAME"), 3102);
  check_spec(make_spec(1, false, DType::kFloat64, 3, 5, 1, {4000}, {4}, {2}, {1}, "SAME"), 3103);
}

}  // namespace
