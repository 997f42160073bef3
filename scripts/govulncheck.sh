#!/bin/sh
# govulncheck.sh GOVULNCHECK DB: reports the vulnerabilities the binaries can
# reach (exit 1 when there are some) when the database DB (https:// or
# file://) can be read; when it cannot (no network), says so and succeeds, so
# `make lint` works offline. It scans the built binaries (-mode binary): the
# source mode of govulncheck v1.10.0 cannot yet load go1.27's standard library
# ("generic method requires go1.27 or later").
set -u
bin=$1
db=$2
case "$db" in
file://*)
	reachable=false
	[ -r "${db#file://}/index/db.json" ] && reachable=true
	;;
*)
	reachable=false
	if command -v curl >/dev/null 2>&1 && curl -fsS -m 10 -o /dev/null "$db/index/db.json" 2>/dev/null; then
		reachable=true
	fi
	;;
esac
if [ "$reachable" != true ]; then
	echo "govulncheck: skipped, its vulnerability database $db cannot be reached (set GOVULNDB=file:///path to a local copy)"
	exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -trimpath -o "$out/" ./cmd/... || exit 1
status=0
for b in "$out"/*; do
	echo "govulncheck -mode binary -db $db $(basename "$b")"
	"$bin" -mode binary -db "$db" "$b" || status=1
done
exit $status
