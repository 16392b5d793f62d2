#!/bin/bash
# Builds the native sha256 chain step (native/sha256_chain.c) into dist/native/. It needs a C
# compiler and the headers that the nodejs package installs beside the node binary; OpenSSL's
# SHA256 functions come from the node binary itself at load time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist/native/sha256_chain.node
src=native/sha256_chain.c
if [ -f "$out" ] && [ "$out" -nt "$src" ]; then exit 0; fi
node_bin=$(readlink -f "$(command -v node)")
inc=$(dirname "$(dirname "$node_bin")")/include/node
if [ ! -f "$inc/node_api.h" ] || [ ! -f "$inc/openssl/sha.h" ]; then
  echo "build-native: no Node.js headers at $inc (they come with the nodejs package)" >&2; exit 1
fi
# A C compiler: Debian's gcc, installed when missing (as root; otherwise it says so and stops).
bash scripts/apt-ensure.sh build-native gcc:gcc
mkdir -p dist/native
gcc -O2 -Wall -Werror -shared -fPIC -I"$inc" "$src" -o "$out.tmp"
mv "$out.tmp" "$out"
