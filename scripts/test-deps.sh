#!/usr/bin/env bash
# System packages some tests need (headless Chromium for the web-page tests, PostgreSQL
# for the server-backed ones). Installed when missing and when we may (root with apt);
# tests that need a missing one are skipped with the reason, never faked.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: installing ${need[*]} (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "test-deps: could not install ${need[*]}; tests needing them will be skipped"
else
  echo "test-deps: ${need[*]} missing and cannot install here; tests needing them will be skipped"
fi
exit 0
