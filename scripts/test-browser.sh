#!/usr/bin/env bash
# Browser tests: the example page (examples/browser/) and the library's
# browser loading paths in headless Chromium, checked against Node; then,
# unless --no-package, the package tests (npm pack -> install -> CJS, ESM,
# TypeScript, a Vite build loaded in Chromium).
#
#   bash scripts/test-browser.sh                 # both suites
#   bash scripts/test-browser.sh --no-package    # only tests/browser/
#   bash scripts/test-browser.sh --only-package  # only tests/package/
#
# Needs dist/ (npm run build; built here when missing), playwright-core (a
# devDependency) and Debian's Chromium at /usr/bin/chromium, installed here
# when missing (as root or with sudo). A screenshot of the example page goes
# to tests/artifacts/example-page.png.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=1
package=1
for arg in "$@"; do
  case "$arg" in
    --no-package) package=0 ;;
    --only-package) browser=0 ;;
    *) echo "test-browser: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "test-browser: installing Debian's chromium"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules/playwright-core ]; then
  echo "test-browser: node_modules/playwright-core is missing: run npm ci (or bash scripts/setup.sh)" >&2
  exit 1
fi
if [ ! -f dist/conv-transpose-wasm.js ] || [ ! -f dist/wasm/ctw-simd-threads.wasm ]; then
  echo "test-browser: dist/ is incomplete; npm run build"
  npm run --silent build
fi

mkdir -p tests/artifacts
status=0
if [ "$browser" = 1 ]; then
  echo "test-browser: tests/browser (example page, threads, fallback, worker mode)"
  node --test --test-concurrency=1 tests/browser/ || status=1
fi
if [ "$package" = 1 ]; then
  echo "test-browser: tests/package (npm pack, CJS, ESM, types, Vite)"
  node --test --test-concurrency=1 tests/package/ || status=1
fi
exit $status
