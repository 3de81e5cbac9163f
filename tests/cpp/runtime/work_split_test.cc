// WorkSplit: the one description of how kernels cut their work into items.
// Every cell of every part must lie in exactly one item's block, blocks are
// clipped at the part's extent, items run part after part and row-major
// within a part, and empty parts give no items.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <tuple>
#include <vector>

#include "runtime/work_split.h"

namespace {

using Dims = ctw::WorkSplit::Dims;

TEST(WorkSplit, BlocksCoverEveryCellOnce) {
  const std::vector<std::pair<Dims, Dims>> parts = {
      {{2, 130, 3}, {1, 64, 8}},  // igemm-like: batch, pixels, channel blocks
      {{0, 5, 5}, {1, 2, 2}},     // an empty part
      {{7, 1000, 1}, {1, 512, 1}},
      {{1, 1, 1}, {1, 1, 1}},
      {{3, 5, 7}, {2, 3, 4}},
  };
  ctw::WorkSplit split;
  int64_t cells = 0;
  for (const auto& p : parts) {
    split.add_part(p.first, p.second);
    cells += p.first[0] * p.first[1] * p.first[2];
  }
  EXPECT_EQ(split.parts(), static_cast<int>(parts.size()));
  std::map<std::tuple<int, int64_t, int64_t, int64_t>, int> seen;
  int last_part = 0;
  std::array<int64_t, 3> last_begin{-1, -1, -1};
  for (int64_t i = 0; i < split.items(); ++i) {
    const ctw::WorkSplit::Block b = split.block(i);
    ASSERT_GE(b.part, last_part) << "items run part after part";
    if (b.part != last_part) last_begin = {-1, -1, -1};
    EXPECT_GT(b.begin, last_begin) << "row-major within a part, item " << i;
    last_part = b.part;
    last_begin = b.begin;
    const Dims& extent = parts[static_cast<size_t>(b.part)].first;
    const Dims& block = parts[static_cast<size_t>(b.part)].second;
    for (int d = 0; d < 3; ++d) {
      ASSERT_LT(b.begin[d], b.end[d]) << "an empty block, item " << i;
      EXPECT_EQ(b.begin[d] % block[d], 0);
      EXPECT_EQ(b.end[d], std::min(b.begin[d] + block[d], extent[d]));
    }
    for (int64_t x = b.begin[0]; x < b.end[0]; ++x)
      for (int64_t y = b.begin[1]; y < b.end[1]; ++y)
        for (int64_t z = b.begin[2]; z < b.end[2]; ++z) ++seen[{b.part, x, y, z}];
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), cells);
  for (const auto& kv : seen) EXPECT_EQ(kv.second, 1);
}

TEST(WorkSplit, ItemCountsAndClear) {
  ctw::WorkSplit split;
  EXPECT_EQ(split.items(), 0);
  split.add_part({2, 130, 3}, {1, 64, 8});  // 2 * 3 * 1
  EXPECT_EQ(split.items(), 6);
  split.add_part({4, 0, 1}, {1, 1, 1});
  EXPECT_EQ(split.items(), 6);
  split.add_part({1, 513, 1}, {1, 512, 1});  // 2
  EXPECT_EQ(split.items(), 8);
  EXPECT_EQ(split.block(6).part, 2);
  EXPECT_EQ(split.block(7).begin[1], 512);
  EXPECT_EQ(split.block(7).end[1], 513);
  split.clear();
  EXPECT_EQ(split.items(), 0);
  EXPECT_EQ(split.parts(), 0);
}

}  // namespace
