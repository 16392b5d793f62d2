#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (a real docker-registry, curl, and promtool
# from prometheus to check /metrics, and chromium for the dashboard tests).
exec bash "$(dirname "$0")/apt-ensure.sh" setup-test-deps docker-registry:docker-registry curl:curl promtool:prometheus chromium:chromium
