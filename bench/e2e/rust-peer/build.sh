#!/usr/bin/env bash
# Build the public Rust LunaRoute (https://github.com/erans/lunaroute, Apache-2.0), the
# `--with-rust-peer` entry of bench/e2e/run_bench.py: `cargo build --release -p lunaroute-server`.
#
# Usage: bash bench/e2e/rust-peer/build.sh [--src DIR] [--rev REV] [--target-dir DIR]
#   --src DIR         a checkout of erans/lunaroute to build (default: bench/e2e/rust-peer/src,
#                     cloned from GitHub when missing; an existing checkout is used as it is)
#   --rev REV         check this commit/tag out in the clone first (default: what is checked out)
#   --target-dir DIR  cargo's target dir (default: bench/e2e/rust-peer/target, so the binary is
#                     bench/e2e/rust-peer/target/release/lunaroute-server, where run_bench.py
#                     looks by default; pass the checkout's own target/ to reuse a build there)
# Needs git and a Rust toolchain recent enough for the checkout (cargo, rustc). The binary's
# path is printed last; run_bench.py also takes it as --rust-peer-bin PATH or $LUNAROUTE_RS_BIN.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC="$HERE/src"
REV=""
TARGET="$HERE/target"
while [ $# -gt 0 ]; do
  case "$1" in
    --src) SRC=$2; shift 2 ;;
    --rev) REV=$2; shift 2 ;;
    --target-dir) TARGET=$2; shift 2 ;;
    *) echo "build.sh: unknown argument $1 (usage: build.sh [--src DIR] [--rev REV] [--target-dir DIR])" >&2; exit 2 ;;
  esac
done

command -v cargo >/dev/null || { echo "build.sh: cargo not found (install a Rust toolchain)" >&2; exit 1; }
if [ ! -f "$SRC/Cargo.toml" ]; then
  git clone --quiet https://github.com/erans/lunaroute "$SRC"
fi
if [ -n "$REV" ]; then
  git -C "$SRC" checkout --quiet "$REV"
fi
echo "building erans/lunaroute $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '(not a git checkout)') from $SRC" >&2
CARGO_TARGET_DIR="$TARGET" cargo build --release -p lunaroute-server --manifest-path "$SRC/Cargo.toml"
BIN="$TARGET/release/lunaroute-server"
"$BIN" --version >&2
echo "$BIN"
