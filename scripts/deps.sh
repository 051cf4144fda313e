#!/usr/bin/env bash
# Makes sure what SableDB needs beyond crates is installed: clang/libclang (RocksDB's bindings and C++ build) and,
# with --test, redis-tools and redis-server (redis-cli, redis-benchmark and the reference server for tests) and
# python3-redis (redis-py, a client the end-to-end tests also drive).
# Installs with apt-get when running as root; otherwise stops with a one-line message naming what is missing.
set -euo pipefail
need_pkgs=()
command -v clang >/dev/null 2>&1 || need_pkgs+=(clang)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 || need_pkgs+=(libclang-dev)
if [ "${1:-}" = "--test" ]; then
  command -v redis-cli >/dev/null 2>&1 || need_pkgs+=(redis-tools)
  command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
  command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
  /usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || need_pkgs+=(python3-redis)
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "sabledb: a Rust toolchain is needed (cargo not found): see https://rustup.rs" >&2
  exit 1
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need_pkgs[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "sabledb: please install: sudo apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
fi
