#include "runtime/thread_pool.h"

#include <chrono>

namespace ctw {
namespace {
// How long a worker spins for the next loop before it sleeps. Between two
// calls from JS lie the copies in and out (hundreds of microseconds for
// megabyte tensors); a worker asleep by then is woken by a futex, and in a
// virtual machine whose idle vCPU has halted that wake-up can take
// milliseconds, during which the caller works alone. Two milliseconds of
// spinning bridge a model's back-to-back layers; the clock is read once
// every kClockEvery checks.
constexpr auto kSpinTime = std::chrono::microseconds(2000);
constexpr int kClockEvery = 1024;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back(&ThreadPool::worker_main, this, i);
  // Returns once every worker runs: a thread's start (in wasm, its
  // thread-local storage, allocated in the worker) then lies inside the
  // constructor, not in whatever call happens to follow it, so the memory
  // a loaded module holds is the same whenever it is looked at.
  while (started_.load(std::memory_order_acquire) < static_cast<int>(workers_.size())) std::this_thread::yield();
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_relaxed);
    // A new (closed) generation wakes every worker; none can enter it.
    const uint64_t next = generation_of(state_.load(std::memory_order_relaxed)) + 1;
    state_.store(next << kGenerationShift | kClosed, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_items(int thread_index) {
  for (;;) {
    const size_t item = next_item_.fetch_add(1, std::memory_order_relaxed);
    if (item >= count_) return;
    task_(context_, item, thread_index);
  }
}

bool ThreadPool::enter(uint64_t generation) {
  uint64_t s = state_.load(std::memory_order_acquire);
  while (generation_of(s) == generation && !(s & kClosed)) {
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire, std::memory_order_acquire)) return true;
  }
  return false;
}

void ThreadPool::worker_main(int thread_index) {
  started_.fetch_add(1, std::memory_order_release);
  uint64_t seen = 0;
  auto moved_on = [&] { return generation_of(state_.load(std::memory_order_acquire)) != seen; };
  for (;;) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 1; !moved_on(); ++i) {
      if (i % kClockEvery == 0 && std::chrono::steady_clock::now() >= spin_until) break;
    }
    if (!moved_on()) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_workers_.fetch_add(1, std::memory_order_relaxed);
      wake_.wait(lock, moved_on);
      sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stopping_.load(std::memory_order_relaxed)) return;
    seen = generation_of(state_.load(std::memory_order_acquire));
    if (!enter(seen)) continue;  // the caller finished (or a newer loop began) first
    run_items(thread_index);
    state_.fetch_sub(1, std::memory_order_release);  // leave: our writes happen before the caller's close
  }
}

void ThreadPool::parallel_for(size_t count, Task fn, void* context) {
  if (count == 0) return;
  if (workers_.empty() || count == 1) {
    for (size_t i = 0; i < count; ++i) fn(context, i, 0);
    return;
  }
  // The previous loop is closed and empty (see below): no worker reads these now.
  task_ = fn;
  context_ = context;
  count_ = count;
  next_item_.store(0, std::memory_order_relaxed);
  {
    // Under the lock, so that a worker between its check and its wait cannot miss the bump.
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t next = generation_of(state_.load(std::memory_order_relaxed)) + 1;
    state_.store(next << kGenerationShift, std::memory_order_release);  // open, nobody inside
  }
  if (sleeping_workers_.load(std::memory_order_relaxed) > 0) wake_.notify_all();
  if (side_task_) {
    const SideTask side = side_task_;
    side_task_ = nullptr;
    side(side_context_);  // the workers take items meanwhile
  }
  run_items(0);
  // Every item is taken; close the loop once no worker is inside it.
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s & kInsideMask) != 0) {
      std::this_thread::yield();
      s = state_.load(std::memory_order_acquire);
      continue;
    }
    if (state_.compare_exchange_weak(s, s | kClosed, std::memory_order_acq_rel, std::memory_order_acquire)) break;
  }
}

}  // namespace ctw
