#!/usr/bin/env bash
# System packages some tests need (headless Chromium for the web-page tests, the PostgreSQL
# server for `pytest --db postgresql` and the scale-out recipe). Installed when missing and
# when we may (root with apt); tests that need a missing one are skipped with the reason,
# never faked. Under CI=true a missing one is an error: CI runs every test `make test` promises.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: installing ${need[*]} (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null 2>&1 \
    || echo "test-deps: could not install ${need[*]}; tests needing them will be skipped"
  # Debian starts a cluster of its own on install; the tests run private ones instead.
  if printf '%s\n' "${need[@]}" | grep -qx postgresql && command -v pg_ctlcluster >/dev/null 2>&1; then
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do pg_ctlcluster ${c%/*} ${c#*/} stop >/dev/null 2>&1 || true; done
  fi
else
  echo "test-deps: ${need[*]} missing and cannot install here; tests needing them will be skipped"
fi
if [ "${CI:-}" = "true" ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || missing+=(chromium chromium-driver)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "test-deps: CI=true and ${missing[*]} still missing: the tests needing them cannot be skipped in CI" >&2
    exit 1
  fi
fi
exit 0
