// ThreadPool: every item runs exactly once, thread indices stay in range,
// the pool survives many consecutive loops (no lost wake-ups, no stale
// loop state), and a side task runs once, on the caller, while the workers
// take items.
#include "runtime/thread_pool.h"

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

// The side task: what it saw, and a hold that keeps it running until a
// worker has taken an item (so the test shows the overlap, not a race).
struct Side {
  Tally* tally = nullptr;
  int runs = 0;
  std::thread::id thread;
  int caller_items_at_start = -1;  // items the caller had run when the side task began
  bool saw_worker_item = false;
};

void side_task(void* context) {
  Side& s = *static_cast<Side*>(context);
  ++s.runs;
  s.thread = std::this_thread::get_id();
  if (s.tally) s.caller_items_at_start = s.tally->per_thread[0].load();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.tally && std::chrono::steady_clock::now() < give_up) {
    int by_workers = 0;
    for (size_t t = 1; t < s.tally->per_thread.size(); ++t) by_workers += s.tally->per_thread[t].load();
    if (by_workers > 0) {
      s.saw_worker_item = true;
      return;
    }
    std::this_thread::yield();
  }
}

TEST(ThreadPool, SideTaskRunsOnceOnTheCallerWhileWorkersTakeItems) {
  for (int threads = 2; threads <= 4; ++threads) {
    ctw::ThreadPool pool(threads);
    Tally tally(1000, pool.threads());
    Side side;
    side.tally = &tally;
    pool.set_side_task(&side_task, &side);
    EXPECT_TRUE(pool.side_task_pending());
    pool.parallel_for(tally.runs.size(), &count_item, &tally);
    EXPECT_EQ(side.runs, 1);
    EXPECT_EQ(side.thread, std::this_thread::get_id());
    EXPECT_EQ(side.caller_items_at_start, 0) << "the side task must come before the caller's own items";
    EXPECT_TRUE(side.saw_worker_item) << "no worker took an item while the side task ran (threads " << threads << ")";
    EXPECT_FALSE(pool.side_task_pending());
    for (size_t i = 0; i < tally.runs.size(); ++i) ASSERT_EQ(tally.runs[i].load(), 1) << "item " << i;
    // Taken: the next loop does not run it again.
    Tally again(100, pool.threads());
    pool.parallel_for(again.runs.size(), &count_item, &again);
    EXPECT_EQ(side.runs, 1);
  }
}

// A loop that runs inline (one item, or no workers) leaves the side task
// set for the caller to see; a cleared one never runs.
TEST(ThreadPool, SideTaskWaitsForALoopWithWorkersAndCanBeCleared) {
  for (int threads = 1; threads <= 2; ++threads) {
    ctw::ThreadPool pool(threads);
    Side side;
    pool.set_side_task(&side_task, &side);
    Tally one(threads == 1 ? 50 : 1, pool.threads());
    pool.parallel_for(one.runs.size(), &count_item, &one);
    EXPECT_EQ(side.runs, 0) << "threads " << threads;
    EXPECT_TRUE(pool.side_task_pending());
    pool.clear_side_task();
    EXPECT_FALSE(pool.side_task_pending());
    Tally more(100, pool.threads());
    pool.parallel_for(more.runs.size(), &count_item, &more);
    EXPECT_EQ(side.runs, 0) << "threads " << threads;
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
