#!/usr/bin/env bash
# Runs every fuzz target in the module for $FUZZTIME (default 30s) each.
# Crashers land in the package's testdata/fuzz/ and become regression seeds.
# FUZZFLAGS adds go test flags (e.g. FUZZFLAGS=-parallel=1 beside other work).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $f ($FUZZTIME)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$FUZZTIME" ${FUZZFLAGS:-} "$pkg"
  done
done
