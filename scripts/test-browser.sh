#!/usr/bin/env bash
# Browser tests: the example page (examples/browser/), the library's browser
# loading paths and a Vite-built app, in every engine of
# tests/browser/engines.mjs, headless, checked against Node and a float64
# reference; then, unless --no-package, the package tests (npm pack ->
# install -> CJS, ESM, TypeScript, a Vite build loaded in Chromium).
#
#   bash scripts/test-browser.sh                 # both suites, every engine
#   bash scripts/test-browser.sh --no-package    # only tests/browser/
#   bash scripts/test-browser.sh --only-package  # only tests/package/
#   BROWSER_ENGINES=firefox,webkit bash scripts/test-browser.sh --no-package
#
# Engines: chromium (Debian's chromium, driven by playwright-core), firefox
# (firefox-esr, by puppeteer-core over WebDriver BiDi), webkit (WebKitGTK's
# MiniBrowser by WebKitWebDriver under Xvfb) and webkit-sab (the same with
# JSC_useSharedArrayBuffer=1, which WebKitGTK needs for SharedArrayBuffer;
# Safari does not). Each engine runs in its own process with a time limit,
# and a failure names the engine. The Debian packages are installed here
# when missing (as root or with sudo). Screenshots of the example page go to
# tests/artifacts/example-page*.png. Needs dist/ (built here when missing)
# and the npm devDependencies (npm ci).
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

engines="${BROWSER_ENGINES:-chromium,firefox,webkit,webkit-sab}"
if [ "$browser" = 0 ]; then engines=chromium; fi # the package tests use Chromium

# Debian packages each engine needs, by a file that shows it is there.
need=()
want() { if [ ! -e "$2" ]; then need+=("$1"); fi; }
for engine in ${engines//,/ }; do
  case "$engine" in
    chromium) [ -n "${CHROMIUM_PATH:-}" ] || want chromium /usr/bin/chromium ;;
    firefox) [ -n "${FIREFOX_PATH:-}" ] || want firefox-esr /usr/bin/firefox-esr ;;
    webkit | webkit-sab)
      want webkit2gtk-driver /usr/bin/WebKitWebDriver
      want xvfb /usr/bin/xvfb-run
      want xauth /usr/bin/xauth
      want libgl1-mesa-dri /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so
      ;;
    *) echo "test-browser: unknown engine '$engine' in BROWSER_ENGINES" >&2; exit 2 ;;
  esac
done
if [ "$package" = 1 ] && [ -z "${CHROMIUM_PATH:-}" ]; then want chromium /usr/bin/chromium; fi
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "test-browser: installing Debian packages: ${need[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
for mod in playwright-core puppeteer-core; do
  if [ ! -d "node_modules/$mod" ]; then
    echo "test-browser: node_modules/$mod is missing: run npm ci (or bash scripts/setup.sh)" >&2
    exit 1
  fi
done
if [ ! -f dist/conv-transpose-wasm.js ] || [ ! -f dist/wasm/ctw-simd-threads.wasm ] || [ ! -f dist/wasm/ctw-relaxed-simd-threads.wasm ]; then
  echo "test-browser: dist/ is incomplete; npm run build"
  npm run --silent build
fi

mkdir -p tests/artifacts
failed=()
# One process per engine, each with a time limit: an engine that hangs
# fails alone, and its name is in the summary.
if [ "$browser" = 1 ]; then
  for engine in ${engines//,/ }; do
    echo "test-browser: $engine: tests/browser (example page, threads, fallback, worker mode, Vite app)"
    start=$SECONDS
    if ! BROWSER_ENGINES="$engine" timeout -k 10 900 node --test --test-concurrency=1 tests/browser/; then
      failed+=("$engine")
    fi
    echo "test-browser: $engine: $((SECONDS - start)) s"
  done
fi
if [ "$package" = 1 ]; then
  echo "test-browser: tests/package (npm pack, CJS, ESM, types, Vite in Chromium)"
  start=$SECONDS
  if ! timeout -k 10 900 node --test --test-concurrency=1 tests/package/; then
    failed+=("package tests")
  fi
  echo "test-browser: tests/package: $((SECONDS - start)) s"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-browser: FAILED in: ${failed[*]}" >&2
  exit 1
fi
echo "test-browser: passed (${engines//,/, }$([ "$package" = 1 ] && echo ', package tests'))"
