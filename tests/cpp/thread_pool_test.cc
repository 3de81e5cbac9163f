// ThreadPool: every item runs exactly once, thread indices stay in range,
// and the pool survives many consecutive loops (no lost wake-ups, no stale
// loop state).
#include "thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace {

struct Tally {
  std::vector<std::atomic<int>> runs;
  std::atomic<int> bad_thread{0};
  std::vector<std::atomic<int>> per_thread;
  int threads = 0;
  explicit Tally(size_t count, int threads) : runs(count), per_thread(static_cast<size_t>(threads)), threads(threads) {}
};

void count_item(void* context, size_t item, int thread_index) {
  Tally& t = *static_cast<Tally*>(context);
  if (thread_index < 0 || thread_index >= t.threads) {
    t.bad_thread.fetch_add(1);
  } else {
    t.per_thread[static_cast<size_t>(thread_index)].fetch_add(1);
  }
  if (item < t.runs.size()) t.runs[item].fetch_add(1);
}

TEST(ThreadPool, ThreadsCountsTheCaller) {
  for (int n = 1; n <= 4; ++n) {
    ctw::ThreadPool pool(n);
    EXPECT_EQ(pool.threads(), n);
  }
}

TEST(ThreadPool, EveryItemExactlyOnce) {
  for (int threads = 1; threads <= 4; ++threads) {
    ctw::ThreadPool pool(threads);
    for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{1000}}) {
      Tally tally(count, pool.threads());
      pool.parallel_for(count, &count_item, &tally);
      for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(tally.runs[i].load(), 1) << "threads " << threads << ", count " << count << ", item " << i;
      }
      EXPECT_EQ(tally.bad_thread.load(), 0) << "thread_index out of [0, threads()) with threads " << threads;
      int total = 0;
      for (auto& c : tally.per_thread) total += c.load();
      EXPECT_EQ(static_cast<size_t>(total), count);
    }
  }
}

TEST(ThreadPool, ManyConsecutiveLoops) {
  for (int threads = 1; threads <= 4; ++threads) {
    ctw::ThreadPool pool(threads);
    const size_t kMax = 37;
    Tally tally(kMax, pool.threads());
    size_t expected_total = 0;
    std::vector<int> expected(kMax, 0);
    for (int call = 0; call < 2000; ++call) {
      const size_t count = static_cast<size_t>(call * 7) % (kMax + 1);  // 0 .. kMax, including 0 and 1
      pool.parallel_for(count, &count_item, &tally);
      for (size_t i = 0; i < count; ++i) expected[i]++;
      expected_total += count;
    }
    for (size_t i = 0; i < kMax; ++i) EXPECT_EQ(tally.runs[i].load(), expected[i]) << "threads " << threads << " item " << i;
    EXPECT_EQ(tally.bad_thread.load(), 0);
    int total = 0;
    for (auto& c : tally.per_thread) total += c.load();
    EXPECT_EQ(static_cast<size_t>(total), expected_total);
  }
}

// Items that take a while let every worker join in; with uneven work the
// atomic counter must still hand out each item once.
struct SlowContext {
  std::vector<std::atomic<int>> runs;
  std::vector<std::atomic<int>> seen_thread;
  explicit SlowContext(size_t n, int threads) : runs(n), seen_thread(static_cast<size_t>(threads)) {}
};

void slow_item(void* context, size_t item, int thread_index) {
  SlowContext& c = *static_cast<SlowContext*>(context);
  volatile double x = 0;
  for (size_t i = 0; i < 2000 * (item % 5 + 1); ++i) x = x + 1e-9 * static_cast<double>(i);
  c.runs[item].fetch_add(1);
  c.seen_thread[static_cast<size_t>(thread_index)].fetch_add(1);
}

TEST(ThreadPool, UnevenItemsEachOnceThreadIndexInRange) {
  for (int threads = 2; threads <= 4; ++threads) {
    ctw::ThreadPool pool(threads);
    SlowContext c(300, pool.threads());
    pool.parallel_for(c.runs.size(), &slow_item, &c);
    for (size_t i = 0; i < c.runs.size(); ++i) EXPECT_EQ(c.runs[i].load(), 1) << i;
  }
}

// The caller of parallel_for may be any thread, and the results must be
// visible to it when the call returns (plain, non-atomic writes).
void write_plain(void* context, size_t item, int) { (*static_cast<std::vector<int>*>(context))[item] = static_cast<int>(item) + 1; }

TEST(ThreadPool, WritesVisibleAfterReturn) {
  ctw::ThreadPool pool(3);
  for (int round = 0; round < 200; ++round) {
    std::vector<int> out(257, 0);
    pool.parallel_for(out.size(), &write_plain, &out);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], static_cast<int>(i) + 1) << "round " << round;
  }
}

// A pool made on one thread may be driven from another (e.g. a worker
// thread that runs a model), one caller at a time.
TEST(ThreadPool, DrivenFromAnotherThread) {
  ctw::ThreadPool pool(3);
  std::thread other([&] {
    for (int round = 0; round < 100; ++round) {
      Tally tally(100, pool.threads());
      pool.parallel_for(100, &count_item, &tally);
      for (size_t i = 0; i < 100; ++i) EXPECT_EQ(tally.runs[i].load(), 1);
      EXPECT_EQ(tally.bad_thread.load(), 0);
    }
  });
  other.join();
  Tally tally(10, pool.threads());
  pool.parallel_for(10, &count_item, &tally);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(tally.runs[i].load(), 1);
}

// The caller returns once every item is done and no worker is inside the
// loop, without waiting for workers that have not woken yet. Workers that
// wake late (after a pause long enough for them to fall asleep, or during a
// burst of tiny loops) must neither run an item of a finished loop nor read
// a loop's fields while the caller rewrites them for the next one; each
// loop's context lives on the caller's stack and dies when the call returns.
TEST(ThreadPool, LateWorkersNeverTouchAFinishedLoop) {
  for (int threads = 2; threads <= 4; ++threads) {
    ctw::ThreadPool pool(threads);
    for (int round = 0; round < 300; ++round) {
      if (round % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go to sleep
      const size_t count = 2 + static_cast<size_t>(round % 3);
      Tally tally(count, pool.threads());
      pool.parallel_for(count, &count_item, &tally);
      for (size_t i = 0; i < count; ++i) ASSERT_EQ(tally.runs[i].load(), 1) << "round " << round << " item " << i;
      ASSERT_EQ(tally.bad_thread.load(), 0);
    }
  }
}

TEST(ThreadPool, CreateAndDestroyWithoutWork) {
  for (int i = 0; i < 50; ++i) {
    ctw::ThreadPool pool(1 + i % 4);
    if (i % 2) {
      std::vector<int> out(5, 0);
      pool.parallel_for(out.size(), &write_plain, &out);
      EXPECT_EQ(out[4], 5);
    }
  }
}

}  // namespace
