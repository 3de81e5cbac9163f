#!/usr/bin/env bash
# Sets up a fresh Debian machine for conv-transpose-wasm and builds it:
#   - Debian packages: Emscripten (3.1.6, the only one reachable here), CMake,
#     g++ and GoogleTest for the native tests;
#   - npm packages from the lockfile (tfjs for the comparison tests, TypeScript);
#   - npm run build: dist/wasm (the three wasm builds; the relaxed-SIMD one is
#     checked after linking by binaryen's wasm-dis, which Debian's emscripten
#     package brings) and dist/*.js + types.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v emcmake >/dev/null 2>&1 || need+=(emscripten)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v g++ >/dev/null 2>&1 || need+=(g++)
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building (npm run build)"
npm run --silent build
