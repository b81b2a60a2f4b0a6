#!/usr/bin/env bash
# vSphere collection benchmark: starts the vCenter simulator (tests/tools/vcsimlite, Debian packages golang-go and
# golang-github-vmware-govmomi-dev) with 1,000 VMs on 4 hosts, then
#   1. runs `virtsecscan scan --targets` against it (one bulk PropertyCollector retrieval) under /usr/bin/time -v and
#      prints its round trips, the target's collection time, and the whole scan's wall and CPU time;
#   2. runs the peer bench/vsphere/per_object_retrieval.py, which reads the same properties with one request per
#      host or VM (the per-object pattern), and prints its round trips and time.
# Both talk to the same simulator on loopback, in the same run. Loopback has almost no latency, so the time ratio
# understates what round trips cost against a real vCenter; the round-trip ratio is the figure that carries over.
#
# usage: bench/run-vsphere.sh [VMS_PER_POOL]    (default 500: 2 resource pools x 500 = 1,000 VMs)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
per_pool="${1:-500}"
work="$(mktemp -d "${TMPDIR:-/tmp}/virtsecscan-vsphere.XXXXXX")"
[ -x /usr/bin/time ] || { echo "run-vsphere.sh needs GNU time (Debian package 'time')" >&2; exit 2; }

echo "building the simulator launcher and VirtSecScan (Release) ..." >&2
sim="$(bash "$repo/tests/tools/vcsimlite/build.sh")"
dotnet build "$repo/src/VirtSecScan.Cli" -c Release -nologo -v quiet >&2
cli="$repo/src/VirtSecScan.Cli/bin/Release/net10.0/virtsecscan.dll"

start=$(date +%s.%N)
"$sim" -l 127.0.0.1:0 -host 3 -vm "$per_pool" -username bench -password bench-password > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; wait $sim_pid 2>/dev/null || true' EXIT
until grep -q VCSIM_URL "$work/sim.out"; do
    kill -0 $sim_pid 2>/dev/null || { cat "$work/sim.err" >&2; exit 1; }
    sleep 0.2
done
ready=$(date +%s.%N)
port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/sim.out" | cut -d: -f2)
url="https://127.0.0.1:$port/sdk"
thumb=$(echo | openssl s_client -connect "127.0.0.1:$port" 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)
cat > "$work/targets.yaml" <<YAML
targets:
  - name: vc
    kind: vsphere
    url: $url
    usernameEnv: BENCH_VC_USER
    passwordEnv: BENCH_VC_PASS
    thumbprint: "$thumb"
    timeoutSeconds: 600
    commandTimeoutSeconds: 300
YAML
echo "simulator ready in $(echo "$ready - $start" | bc) s ($(ps -o rss= -p $sim_pid | awk '{printf "%d MB", $1/1024}') resident)" >&2

export BENCH_VC_USER=bench BENCH_VC_PASS=bench-password
# Warm-up (JIT disk cache), then the measured run.
dotnet "$cli" scan --targets "$work/targets.yaml" --format json --no-progress > /dev/null 2>&1 || true
/usr/bin/time -v -o "$work/time.txt" dotnet "$cli" scan --targets "$work/targets.yaml" --format json --no-progress --output "$work/report.json" 2> "$work/stderr.txt" || true
read -r status trips collect objects < <(python3 -c "
import json; t = json.load(open('$work/report.json'))['scan']['targets'][0]
print(t['status'], t.get('roundTrips'), t['durationMs'] / 1000, sum(1 for r in t['resources'] if r['name'] != 'about'))")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/time.txt")

peer=$(python3 "$repo/bench/vsphere/per_object_retrieval.py" "$url" bench bench-password)
peer_trips=$(echo "$peer" | sed -n 's/.*round_trips=\([0-9]*\).*/\1/p')
peer_seconds=$(echo "$peer" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')

echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %12s %14s\n' "" "objects" "round trips" "collect (s)"
printf '%-44s %8s %12s %14s\n' "VirtSecScan vsphere target (status $status)" "$objects" "$trips" "$collect"
printf '%-44s %8s %12s %14s\n' "per-object retrieval (peer)" "$(echo "$peer" | sed -n 's/.*objects=\([0-9]*\).*/\1/p')" "$peer_trips" "$peer_seconds"
echo
echo "round trips: $(echo "scale=1; $peer_trips / $trips" | bc)x fewer than the peer"
echo "collection time: $(echo "scale=2; $collect / $peer_seconds" | bc)x the peer's on loopback"
echo "whole scan (collect + rules + report): ${wall} s wall, ${cpu} s CPU"
echo "work folder: $work" >&2
