// Per-thread scratch: a slice per thread, each on cache lines of its own.
//
// Neighbouring slices in one plain allocation share a cache line wherever a
// slice's size is not a multiple of the line, and two threads writing that
// line by turns stall each other (a 4-pixel-row kernel ran slower on two
// threads than on one, depending on where malloc placed the buffer). The
// same rule holds for any memory one thread writes while another reads it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace ctw {

// Bytes that one thread writes and another reads should not share (two
// 64-byte lines: adjacent-line prefetch pairs them).
constexpr size_t kCacheLine = 128;

inline size_t round_up_to_line(size_t bytes) { return (bytes + kCacheLine - 1) / kCacheLine * kCacheLine; }

// `threads` slices of `bytes` each, every slice starting on a line of its own.
class PerThreadBytes {
 public:
  PerThreadBytes() = default;
  PerThreadBytes(const PerThreadBytes&) = delete;
  PerThreadBytes& operator=(const PerThreadBytes&) = delete;
  ~PerThreadBytes() { std::free(data_); }

  // False when memory runs out (the old slices are gone either way).
  bool allocate(size_t bytes, int threads) {
    release();
    stride_ = round_up_to_line(std::max<size_t>(bytes, 1));
    threads_ = std::max(threads, 1);
    data_ = std::aligned_alloc(kCacheLine, stride_ * static_cast<size_t>(threads_));
    if (!data_) threads_ = 0;
    return data_ != nullptr;
  }
  void release() {
    std::free(data_);
    data_ = nullptr;
    threads_ = 0;
  }
  int threads() const { return threads_; }
  size_t bytes() const { return stride_; }
  void* slice(int thread) const { return static_cast<char*>(data_) + stride_ * static_cast<size_t>(thread); }

 private:
  void* data_ = nullptr;
  size_t stride_ = 0;
  int threads_ = 0;
};

// A thread's slice cut into arrays: add() reserves room for `count` T
// (16-byte aligned, for vector loads) and returns its offset; at() finds it
// in a slice. Kernels describe their per-thread arrays once, at reshape.
class SliceLayout {
 public:
  template <typename T>
  size_t add(size_t count) {
    const size_t offset = bytes_;
    bytes_ += (std::max<size_t>(count, 1) * sizeof(T) + 15) / 16 * 16;
    return offset;
  }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

template <typename T>
T* slice_array(void* slice, size_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(slice) + offset);
}

}  // namespace ctw
