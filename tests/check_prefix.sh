#!/bin/sh
# Fail if the static library defines a global symbol without the fsn_/FSN_ prefix.
set -eu
# Sanitizer builds add their own instrumentation symbols (__odr_asan.*, __asan_*): not ours to name.
bad=$(nm -g --defined-only "$1" | awk 'NF == 3 { print $3 }' | grep -v -E '^(fsn_|FSN_|__odr_asan|__asan_)' || true)
if [ -n "$bad" ]; then
  echo "symbols without the fsn_ prefix in $1:"
  echo "$bad"
  exit 1
fi
echo "all $(nm -g --defined-only "$1" | awk 'NF == 3' | wc -l) exported symbols carry the fsn_ prefix"
