#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages pyprobe needs to build, test and demo. Idempotent:
# does nothing (and needs no network) when everything is present.
set -e
PKGS="make gcc clang llvm pkg-config libbpf-dev libelf-dev libjansson-dev zlib1g-dev bpftool bats jq procps util-linux python3"
# --test: also what the tests check with (go tool pprof, man, systemd-analyze, libFuzzer, perf, bpftrace,
# promtool).
# prometheus: promtool and a real server scraping /metrics; curl and iproute2 (ss) talk to it.
# --bench: the anchors make bench compares with (perf record, bpftrace), and curl for scrapes.
[ "${1:-}" = --bench ] && PKGS="$PKGS linux-perf bpftrace curl"
[ "${1:-}" = --test ] && PKGS="$PKGS golang-go man-db systemd libclang-rt-14-dev prometheus curl iproute2 libcap2-bin gunicorn python3-flask apache2-utils linux-perf bpftrace"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
