#!/bin/sh
# bench/compare.sh — the scenario comparisons of BENCHMARKS.md (P1–P5).
# Installs aria2 from Debian's packages when aria2c is missing, builds
# oafetch once, then runs each scenario RUNS times (default 3) and prints
# one line per run and one median line per scenario. Heavy: run it on an
# otherwise idle machine, or at least note `uptime` next to the figures.
#
#   bench/compare.sh            # every scenario
#   bench/compare.sh p1 p3      # some of them
#   RUNS=1 bench/compare.sh p1  # one run each
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
if ! command -v aria2c >/dev/null 2>&1; then
	echo "compare.sh: installing aria2 (apt-get)" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq aria2
fi
BIN=$(mktemp -d)/oafetch
go build -o "$BIN" ./cmd/oafetch
trap 'rm -rf "$(dirname "$BIN")"' EXIT
scenarios=${*:-"p1 p1big p2 p3 p4 p4flat"}
echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores; aria2c $(aria2c --version | head -1 | awk '{print $3}'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $scenarios; do
	case $s in
	p1) go run ./bench/scenario -bin "$BIN" -runs "$RUNS" -scenario p1 -n 5000 -size 102400 -workers 16 ;;
	p1big) go run ./bench/scenario -bin "$BIN" -runs "$RUNS" -scenario p1 -n 200 -size 20971520 -workers 16 ;;
	p2 | p5) go run ./bench/scenario -bin "$BIN" -runs "$RUNS" -scenario p2 -n 100000 -workers 16 ;;
	p3) go run ./bench/scenario -bin "$BIN" -runs "$RUNS" -scenario p3 -n 1000000 ;;
	p4) go run ./bench/scenario -bin "$BIN" -runs "$RUNS" -scenario p4 -n 8 -size 1073741824 -workers 8 ;;
	p4flat) go run ./bench/scenario -bin "$BIN" -runs "$RUNS" -scenario p4flat -n 1000000 -active 10000 -workers 16 ;;
	*) echo "compare.sh: unknown scenario $s (p1 p1big p2 p3 p4 p4flat)" >&2; exit 2 ;;
	esac
done
