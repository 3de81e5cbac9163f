#!/usr/bin/env bash
# Builds the libFuzzer target (tests/fuzz/conv_transpose_fuzzer.cc) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs it for a bounded
# time on the seed corpus (tests/fuzz/corpus/). Exits non-zero on a crash, a
# sanitizer report, a timeout or a mismatch between the fast and the reference
# kernel; the failing input is written to build/fuzz/artifacts/.
#
#   bash scripts/fuzz.sh [seconds]        # default 60
#   bash scripts/fuzz.sh 0 FILE...        # replay FILEs only (e.g. a crash artifact);
#                                         # CTW_FUZZ_PRINT=1 prints each input's arguments
#
# Environment: BUILD_DIR (default build/fuzz); FUZZ_CXXFLAGS, extra compiler
# flags placed after the sanitizer flags, to look past a known finding while
# it is being fixed (use another BUILD_DIR for such a build), e.g.
#   BUILD_DIR=build/fuzz-triage FUZZ_CXXFLAGS="-fno-sanitize=pointer-overflow -DCTW_FUZZ_SKIP_NONFINITE"
# New inputs libFuzzer finds go to build/fuzz/corpus (not committed);
# tests/fuzz/corpus is read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
shift || true
BUILD_DIR=${BUILD_DIR:-build/fuzz}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# clang and its fuzzer runtime (libclang_rt.fuzzer), installed when missing.
fuzzer_links() {
  local dir
  dir=$(mktemp -d)
  printf '#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
    > "$dir/t.cc"
  clang++ -fsanitize=fuzzer,address,undefined "$dir/t.cc" -o "$dir/t" >/dev/null 2>&1
  local rc=$?
  rm -rf "$dir"
  return $rc
}
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: installing clang"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq clang >/dev/null
fi
if ! fuzzer_links; then
  echo "fuzz: the libFuzzer runtime is missing; installing libclang-rt-14-dev"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libclang-rt-14-dev >/dev/null
  fuzzer_links || { echo "fuzz: clang++ -fsanitize=fuzzer still does not link" >&2; exit 1; }
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCTW_BUILD_TESTS=OFF -DCTW_BUILD_FUZZER=ON "-DCTW_FUZZ_EXTRA_FLAGS=${FUZZ_CXXFLAGS:-}" >/dev/null
cmake --build "$BUILD_DIR" --target conv_transpose_fuzzer -j"$(nproc)"
FUZZER="$BUILD_DIR/conv_transpose_fuzzer"

mkdir -p "$BUILD_DIR/corpus" "$BUILD_DIR/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
common=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -artifact_prefix="$BUILD_DIR/artifacts/")

if [ "$SECONDS_TO_RUN" = 0 ]; then
  # Replay: the given files, or the seed corpus.
  if [ $# -gt 0 ]; then
    "$FUZZER" "${common[@]}" "$@"
  else
    "$FUZZER" "${common[@]}" -runs=0 tests/fuzz/corpus
  fi
  exit $?
fi

echo "fuzz: running $FUZZER for ${SECONDS_TO_RUN}s"
set +e
"$FUZZER" "${common[@]}" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 \
  "$BUILD_DIR/corpus" tests/fuzz/corpus 2>&1 | tee "$BUILD_DIR/last-run.log" | grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)'
rc=${PIPESTATUS[0]}
set -e
execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$BUILD_DIR/last-run.log" | grep -Eo '[0-9]+$' | tail -1 || true)
if [ "$rc" != 0 ]; then
  echo "fuzz: FAILED (exit $rc); the input is in $BUILD_DIR/artifacts/ (replay: bash scripts/fuzz.sh 0 FILE)" >&2
  exit "$rc"
fi
grep -E '^conv_transpose_fuzzer: [0-9]+ inputs' "$BUILD_DIR/last-run.log" | tail -1 || true
echo "fuzz: OK, ${execs:-?} executions in ${SECONDS_TO_RUN}s, no crash or mismatch"
