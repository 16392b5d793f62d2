#!/bin/bash
# Builds the native modules (native/*.c: the sha256 chain step, page-aligned buffers) into
# dist/native/. It needs a C compiler and the headers that the nodejs package installs beside the
# node binary; OpenSSL's SHA256 functions come from the node binary itself at load time.
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=$(readlink -f "$(command -v node)")
inc=$(dirname "$(dirname "$node_bin")")/include/node
stale=()
for src in native/*.c; do
  out=dist/native/$(basename "$src" .c).node
  if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then stale+=("$src"); fi
done
if [ ${#stale[@]} -eq 0 ]; then exit 0; fi
if [ ! -f "$inc/node_api.h" ] || [ ! -f "$inc/openssl/sha.h" ]; then
  echo "build-native: no Node.js headers at $inc (they come with the nodejs package)" >&2; exit 1
fi
# A C compiler: Debian's gcc, installed when missing (as root; otherwise it says so and stops).
bash scripts/apt-ensure.sh build-native gcc:gcc
mkdir -p dist/native
for src in "${stale[@]}"; do
  out=dist/native/$(basename "$src" .c).node
  gcc -O2 -Wall -Werror -shared -fPIC -I"$inc" "$src" -o "$out.tmp"
  mv "$out.tmp" "$out"
done
