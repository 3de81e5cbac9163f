// How a kernel's work is cut into items for the thread pool: one
// description for every kernel (ruy's BlockMap, widened to several parts).
//
// The work is a list of parts (a kernel's output phases, or its whole
// output), each a grid of up to three dimensions cut into blocks; an item
// is one block. Items are numbered part after part, and within a part
// row-major (the last dimension fastest), and are never listed: item i is
// found from the parts' running totals, so nothing here grows with the
// number of items (a list would be an allocation proportional to the
// output, outside the memory budget).
//
// Each item writes its own output: a kernel chooses its dimensions and
// block sizes so that no two blocks share an output element (and, for the
// narrow kernels, an output cache line).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace ctw {

class WorkSplit {
 public:
  using Dims = std::array<int64_t, 3>;

  // One item's block: [begin[d], end[d]) of each dimension of part `part`.
  struct Block {
    int part = 0;
    Dims begin{}, end{};
  };

  void clear() {
    parts_.clear();
    ends_.clear();
    items_ = 0;
  }

  // A part of `extent` (per dimension; 0 gives no item) cut into blocks of
  // `block` (each at least 1).
  void add_part(const Dims& extent, const Dims& block) {
    Part p{extent, block, {}};
    int64_t items = 1;
    for (int d = 0; d < 3; ++d) {
      p.blocks[d] = (extent[d] + block[d] - 1) / block[d];
      items *= p.blocks[d];
    }
    parts_.push_back(p);
    ends_.push_back(items_ += items);
  }

  int64_t items() const { return items_; }
  int parts() const { return static_cast<int>(parts_.size()); }

  Block block(int64_t item) const {
    const size_t p = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), item) - ends_.begin());
    const Part& part = parts_[p];
    int64_t local = item - (p == 0 ? 0 : ends_[p - 1]);
    Block b;
    b.part = static_cast<int>(p);
    for (int d = 2; d >= 0; --d) {
      const int64_t index = local % part.blocks[d];
      local /= part.blocks[d];
      b.begin[d] = index * part.block[d];
      b.end[d] = std::min(b.begin[d] + part.block[d], part.extent[d]);
    }
    return b;
  }

 private:
  struct Part {
    Dims extent, block, blocks;
  };
  std::vector<Part> parts_;
  std::vector<int64_t> ends_;  // running item totals, one per part
  int64_t items_ = 0;
};

}  // namespace ctw
