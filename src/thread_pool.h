// A persistent thread pool: workers are created once (at init) and then
// woken for each parallel loop, so a call pays no thread creation.
//
// parallel_for hands out item indices from one atomic counter; the calling
// thread works too. Items must write disjoint memory. After a loop, workers
// spin for a short while before they sleep, so back-to-back calls (a model's
// layers) wake them without a futex round trip; the caller spins for the
// stragglers rather than sleeping. In a build without threads (or with one
// thread) the loop simply runs inline.
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
  using Task = void (*)(void* context, size_t item, int thread_index);
  void parallel_for(size_t count, Task fn, void* context);

 private:
  void worker_main(int thread_index);
  void run_items(int thread_index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};  // bumped for every parallel_for
  std::atomic<int> pending_workers_{0};  // workers still in the current loop
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> stopping_{false};
  // The current loop; written before generation_ is bumped.
  Task task_ = nullptr;
  void* context_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_item_{0};
};

}  // namespace ctw
