#!/bin/sh
# Install the build into a scratch root, then compile and run embed.c with `pkg-config --cflags --libs fusion`,
# once against the shared library and once statically; the program runs a whole Fusion query on a server thread.
set -eu
build=$1 src=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null
pcdir=$(dirname "$(find "$root" -name fusion.pc | head -n 1)")
export PKG_CONFIG_PATH="$pcdir"
flags="--define-variable=prefix=$root$(sed -n 's/^prefix=//p' "$pcdir/fusion.pc")"
cc -std=c17 -pthread $(pkg-config $flags --cflags fusion) "$src" -o "$root/embed" $(pkg-config $flags --libs fusion)
LD_LIBRARY_PATH="$(pkg-config $flags --variable=libdir fusion)" "$root/embed"
cc -std=c17 -pthread $(pkg-config $flags --cflags fusion) "$src" -o "$root/embed-static" \
  "$(pkg-config $flags --variable=libdir fusion)/libfusion.a" $(pkg-config $flags --libs --static fusion | sed 's/-lfusion//')
"$root/embed-static"
