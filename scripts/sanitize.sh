#!/usr/bin/env bash
# Runs the native GoogleTest suite under sanitizers:
#   1. AddressSanitizer + UndefinedBehaviorSanitizer (g++): the core and the
#      whole suite, through CTest (SANITIZE=1 scripts/test-cpp.sh, build/native-asan).
#      LeakSanitizer runs with ASan, so a leak fails the run too.
#   2. ThreadSanitizer (clang++; TSAN_CXX=g++ to use g++): the thread pool and
#      the kernel tests (everything that runs work on a ThreadPool), build/native-tsan.
# Any report fails the script (halt_on_error / -fno-sanitize-recover).
#
#   bash scripts/sanitize.sh            # both
#   bash scripts/sanitize.sh asan       # only 1
#   bash scripts/sanitize.sh tsan       # only 2
#
# Takes about 3-4 minutes on 2 cores from a clean build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
jobs=$(nproc)

if [ "$what" = all ] || [ "$what" = asan ]; then
  echo "== sanitize: AddressSanitizer + UndefinedBehaviorSanitizer (g++), whole GoogleTest suite"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  SANITIZE=1 bash scripts/test-cpp.sh
fi

if [ "$what" = all ] || [ "$what" = tsan ]; then
  CXX_TSAN=${TSAN_CXX:-clang++}
  TSAN_DIR=${TSAN_BUILD_DIR:-build/native-tsan}
  echo "== sanitize: ThreadSanitizer ($CXX_TSAN), thread pool and kernel tests"
  cmake -S . -B "$TSAN_DIR" -DCMAKE_CXX_COMPILER="$CXX_TSAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" >/dev/null
  cmake --build "$TSAN_DIR" --target ctw_tests -j"$jobs"
  # The suites that drive a ThreadPool: the pool's own tests, every kernel test and the operator's
  # (the kernel tests run each problem with pools of 1, 2 and 3 threads).
  filter=${TSAN_FILTER:-'ThreadPool.*:Kernel.*:Operator.*:*RandomPlans*:*Fast*'}
  TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
    "$TSAN_DIR/ctw_tests" --gtest_filter="$filter" --gtest_brief=1
fi
echo "== sanitize: OK"
