// A persistent thread pool: workers are created once (at init) and then
// woken for each parallel loop, so a call pays no thread creation.
//
// parallel_for hands out item indices from one atomic counter; the calling
// thread works too. Items must write disjoint memory.
//
// The caller returns as soon as every item is done and no worker is inside
// the loop: it never waits for a worker that has not woken up yet (on a
// small loop the caller often does every item itself before a sleeping
// worker is scheduled). One atomic word holds the loop's generation, a
// "closed" flag and the number of workers inside the loop. A worker enters
// only by a compare-and-swap that sees the current generation open, and only
// then reads the loop's fields; the caller closes the loop by a
// compare-and-swap that sees no worker inside, and only then may rewrite
// the fields for the next loop. A worker that wakes after the close finds
// the generation closed (or newer) and does not touch the old fields.
//
// A side task (set_side_task) lets the caller do work of its own, not the
// loop's, after waking the workers and before taking items: the JS binding
// makes the result array there.
//
// After a loop, workers spin for 2 ms before they sleep, so
// back-to-back calls (a model's layers) reach them without a futex round
// trip. In a build without threads (or with one thread) the loop simply
// runs inline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ctw {

class ThreadPool {
 public:
  // `threads` counts the caller: ThreadPool(1) starts no worker.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(context, item, thread_index) for item in [0, count); thread_index < threads().
  // One caller at a time.
  using Task = void (*)(void* context, size_t item, int thread_index);
  void parallel_for(size_t count, Task fn, void* context);

  // Work of the caller's own that need not wait for the next loop's items:
  // the next parallel_for that has workers calls fn(context) on the calling
  // thread once the workers are woken, before it takes items itself (the JS
  // binding allocates the result array there, so that the allocation and
  // its page faults overlap the workers' share instead of following the
  // loop). A loop that runs inline (no workers, or one item) leaves it set;
  // side_task_pending() says whether it ran. Cleared by the loop that runs
  // it or by clear_side_task.
  using SideTask = void (*)(void* context);
  void set_side_task(SideTask fn, void* context) {
    side_task_ = fn;
    side_context_ = context;
  }
  bool side_task_pending() const { return side_task_ != nullptr; }
  void clear_side_task() { side_task_ = nullptr; }

 private:
  // The state word: generation << kGenerationShift | closed flag | workers inside.
  static constexpr uint64_t kInsideMask = 0xffff;
  static constexpr uint64_t kClosed = uint64_t{1} << 16;
  static constexpr int kGenerationShift = 17;
  static uint64_t generation_of(uint64_t state) { return state >> kGenerationShift; }

  void worker_main(int thread_index);
  void run_items(int thread_index);
  // Enters the loop of `generation` if it is still open; false if it closed or moved on.
  bool enter(uint64_t generation);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> state_{kClosed};  // generation 0, closed, nobody inside
  std::atomic<int> sleeping_workers_{0};
  std::atomic<int> started_{0};  // workers that have entered worker_main
  std::atomic<bool> stopping_{false};
  // The current loop: written by the caller while the loop is closed and
  // empty, read by workers only between enter() and leaving.
  Task task_ = nullptr;
  void* context_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_item_{0};
  // The caller's side task (set_side_task); only the calling thread touches these.
  SideTask side_task_ = nullptr;
  void* side_context_ = nullptr;
};

// Calls fn(context, item, thread_index) for item in [0, count): on `pool`'s
// threads, or on the calling thread alone (thread_index 0) when pool is null.
// Kernels take a null pool for calls too small to share.
inline void parallel_for(ThreadPool* pool, size_t count, ThreadPool::Task fn, void* context) {
  if (pool) {
    pool->parallel_for(count, fn, context);
  } else {
    for (size_t i = 0; i < count; ++i) fn(context, i, 0);
  }
}

// How many threads a loop on `pool` may use (1 for none).
inline int thread_count(const ThreadPool* pool) { return pool ? pool->threads() : 1; }

}  // namespace ctw
