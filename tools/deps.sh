#!/usr/bin/env bash
# Install the Debian 12 packages the toolkit builds, tests and benchmarks with (nothing else is downloaded).
# Runs `apt-get update` once and installs only if something is missing.
set -euo pipefail
packages=(
  gcc g++ meson ninja-build pkg-config binutils python3   # build
  check libbenchmark-dev                                   # tests, benchmarks
  libsodium-dev libprotobuf-c-dev protobuf-c-compiler      # CSPRNG + ristretto255; ONNX import
  zlib1g-dev libpng-dev libjpeg62-turbo-dev                # gzip IDX datasets; PNG and JPEG inputs
  clang clang-format libclang-rt-14-dev                    # format check, libFuzzer
  gnuplot-nox iproute2                                     # plots; namespace/tc recipes
  dataset-fashion-mnist                                    # the demo's images
  libonnx-testdata                                         # ONNX's operator tests (conformance test)
  libflint-dev                                             # second oracle of the NTT tests
  haproxy                                                  # the scale-out recipe's balancer (tests/e2e/operations.sh)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
