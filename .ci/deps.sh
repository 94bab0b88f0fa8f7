#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh Debian machine, only when
# missing: Debian packages (emscripten, clang, chromium, jansson, zlib, brotli,
# clickhouse-server) and the npm dev dependencies. Without root it prints the command to
# run instead.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v emcc      >/dev/null || missing+=(emscripten)
command -v wasm-opt  >/dev/null || missing+=(binaryen)
command -v clang     >/dev/null || missing+=(clang)
command -v chromium  >/dev/null || missing+=(chromium)
command -v brotli    >/dev/null || missing+=(brotli)
command -v gzip      >/dev/null || missing+=(gzip)
[ -f /usr/include/jansson.h ]   || missing+=(libjansson-dev)
# The collector's ClickHouse store is tested against a real server (make test-clickhouse).
[ -x "${CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}" ] || missing+=(clickhouse-server)
# zlib: the reference inflater of the encoder's tests and fuzzer (never in the core).
[ -f /usr/include/zlib.h ]      || missing+=(zlib1g-dev)
# libFuzzer and the sanitizer runtimes ship with clang's runtime package.
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing+=(libclang-rt-dev)

if [ ${#missing[@]} -gt 0 ]; then
  echo "# installing: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

command -v node >/dev/null || { echo "error: Node.js 20 or newer is needed (apt-get install -y nodejs npm)" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "# npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi
