#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (a real docker-registry, curl).
# Idempotent: does nothing when they are already installed.
set -euo pipefail

installed () { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

missing=()
[ -x /usr/bin/docker-registry ] && installed docker-registry || missing+=(docker-registry)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-test-deps: ${missing[*]} missing and not root; install them with apt-get" >&2
  exit 1
fi

# Tests start their own registry; the packaged service must not start (and cannot, without systemd).
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

for p in "${missing[@]}"; do
  if ! installed "$p"; then
    cat "$log" >&2
    echo "setup-test-deps: could not install $p" >&2
    exit 1
  fi
done
rm -f "$log"
[ -x /usr/bin/docker-registry ] || { echo "setup-test-deps: /usr/bin/docker-registry missing after install" >&2; exit 1; }
echo "setup-test-deps: installed ${missing[*]}"
