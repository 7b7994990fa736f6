#!/bin/bash
# udpcpu.sh BIN RATE SECONDS: one daemon (BIN) fed RATE lines/s over UDP on
# loopback by loadgen for SECONDS; prints the daemon's CPU-seconds per
# million lines (utime+stime from /proc, loadgen's run only) and its context
# switches (all threads). LOADGEN names the loadgen binary (default: built
# into the temporary directory). Used for the before/after pairs of issue 10
# in README.md; interleave binaries, the machine is shared.
set -euo pipefail
BIN=$1 RATE=$2 DUR=$3
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
LOADGEN=${LOADGEN:-}
if [ -z "$LOADGEN" ]; then
	LOADGEN=$D/loadgen
	go build -o "$LOADGEN" "$(dirname "$0")/../loadgen"
fi
cat >"$D/gm.toml" <<EOC
data_dir = "$D/data"
timezone = "UTC"
[syslog]
udp = ["127.0.0.1:0"]
tcp = []
[tracelog]
archives = ["AVERAGE:1s:10m", "AVERAGE:1m:1d", "MAX:1m:1d"]
[web]
listen = "127.0.0.1:0"
render_workers = 1
EOC
"$BIN" -config "$D/gm.toml" >"$D/out.log" 2>&1 &
PID=$!
ADDR=
for _ in $(seq 200); do
	ADDR=$(grep -o 'udp listening.*addr=127[0-9.:]*' "$D/out.log" | grep -o '127[0-9.:]*' | head -1 || true)
	[ -n "$ADDR" ] && break
	sleep 0.1
done
[ -n "$ADDR" ] || { echo "no udp address in daemon log" >&2; kill $PID; exit 1; }
cpu() { awk '{print $14 + $15}' /proc/$PID/stat; }
csw() { cat /proc/$PID/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
T0=$(cpu) C0=$(csw)
"$LOADGEN" -udp "$ADDR" -rate "$RATE" -duration "${DUR}s" -header none >"$D/loadgen.json"
T1=$(cpu) C1=$(csw)
kill $PID
wait $PID || true
HZ=$(getconf CLK_TCK)
echo "$(basename "$BIN") rate=$RATE cpu_s_per_Mline=$(echo "scale=2; ($T1-$T0)/$HZ/($RATE*$DUR/1000000)" | bc) ctx_switches=$((C1 - C0))"
