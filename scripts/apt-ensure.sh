#!/usr/bin/env bash
# Installs the Debian packages that provide commands, for the tests and benchmarks.
# Usage: apt-ensure.sh NAME COMMAND:PACKAGE...  Does nothing when every command is there and its
# package installed; the packaged services must not start (the scripts start their own).
set -euo pipefail

name=$1; shift
# No pipe into `grep -q`: under pipefail, grep quitting at its match can kill dpkg with SIGPIPE
# while it still prints a long description, and an installed package then reads as missing.
installed () { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]; }

missing=()
for pair in "$@"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 && installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "$name: ${missing[*]} missing and not root; install them with apt-get" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
# A failing postinst (service start) leaves the package unconfigured; configure again and judge by dpkg.
apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1 || dpkg --configure -a >>"$log" 2>&1 || true

for pair in "$@"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1 || ! installed "$pkg"; then
    cat "$log" >&2
    echo "$name: could not install $pkg (for $cmd)" >&2
    exit 1
  fi
done
rm -f "$log"
echo "$name: installed ${missing[*]}"
