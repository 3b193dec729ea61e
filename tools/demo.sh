#!/usr/bin/env bash
# The main job: install, build, and run the demo. Until the inference engine lands, the demo reports what the
# machine offers and runs the kernel benchmarks briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
meson compile -C build >/dev/null
build/apps/fusion info
build/bench/fusion-bench --benchmark_min_time=0.05
