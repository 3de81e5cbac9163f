#!/usr/bin/env bash
# Builds the two wasm modules into dist/wasm with Emscripten (emcmake).
# Debian's emcc runs its JS optimizer with /usr/bin/node, which does not look
# in Debian's node module folder: NODE_PATH points it there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v emcmake >/dev/null 2>&1; then
  echo "build-wasm: emcmake not found. Install Emscripten (Debian: apt-get install -y emscripten) or activate emsdk." >&2
  exit 1
fi
if [ -d /usr/share/nodejs ]; then
  export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
fi
BUILD_DIR=${BUILD_DIR:-build/wasm}
emcmake cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
ls -l dist/wasm
