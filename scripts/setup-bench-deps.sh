#!/usr/bin/env bash
# Installs what the benchmarks pull from (Debian's docker-registry) and measure against: nginx (the central HTTP baseline), aria2 and
# opentracker and mktorrent (the BitTorrent baseline), curl and openssl (the copy-and-hash baseline), gcc (the
# swarm's plain-TCP floor), iproute2 (the namespaces).
exec bash "$(dirname "$0")/apt-ensure.sh" setup-bench-deps docker-registry:docker-registry nginx:nginx-light aria2c:aria2 opentracker:opentracker mktorrent:mktorrent \
  curl:curl openssl:openssl gcc:gcc ip:iproute2
