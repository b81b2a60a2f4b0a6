#!/usr/bin/env bash
# Scale benchmark: builds VirtSecScan in Release, generates synthetic estates of 1,000 and 10,000 VMs
# (bench/generate-estate.py, fixed seed) and scans each end to end, printing wall time, peak memory
# (from /usr/bin/time -v) and facts per second (settings collected / wall time).
#
# usage: bench/run-scale.sh [WORKDIR]     (default WORKDIR: a new folder under ${TMPDIR:-/tmp})
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/virtsecscan-bench.XXXXXX")}"
mkdir -p "$work"
rm -f "$work/walls.txt"

if [ ! -x /usr/bin/time ]; then
    echo "run-scale.sh needs GNU time (/usr/bin/time; Debian package 'time')" >&2
    exit 2
fi

echo "building Release ..." >&2
dotnet build "$repo/src/VirtSecScan.Cli" -c Release -nologo -v quiet >&2
cli="$repo/src/VirtSecScan.Cli/bin/Release/net10.0/virtsecscan.dll"

printf '%-8s %-6s %10s %9s %12s %14s %12s\n' "VMs" "hosts" "wall (s)" "CPU (s)" "peak RSS MB" "facts" "facts/s"
for spec in "1000 50" "10000 500"; do
    set -- $spec
    vms=$1 hosts=$2
    estate="$work/estate-$vms"
    if [ ! -d "$estate" ]; then
        python3 "$repo/bench/generate-estate.py" "$estate" --vms "$vms" --hosts "$hosts" >&2
    fi

    # One warm-up run (file cache, JIT disk cache), then the measured run.
    dotnet "$cli" scan "$estate" --format json --no-progress > /dev/null 2>&1 || true
    /usr/bin/time -v -o "$work/time-$vms.txt" dotnet "$cli" scan "$estate" --format json --no-progress --output "$work/report-$vms.json" 2> "$work/stderr-$vms.txt" || {
        rc=$?
        # exit 3 means findings at or above --fail-on; anything else is a failed scan
        if [ "$rc" -ne 3 ]; then echo "scan of $estate failed (exit $rc); see $work/stderr-$vms.txt" >&2; exit 1; fi
    }

    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time-$vms.txt")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$work/time-$vms.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time-$vms.txt")
    facts=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(sum(c['facts'] for c in r['scan']['collected']))" "$work/report-$vms.json")
    rate=$(python3 -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]):,.0f}')" "$facts" "$wall")
    printf '%-8s %-6s %10s %9s %12s %14s %12s\n' "$vms" "$hosts" "$wall" "$cpu" "$rss" "$facts" "$rate"
    echo "$vms $wall $cpu" >> "$work/walls.txt"
done

python3 - "$work/walls.txt" <<'PY'
import sys
rows = {line.split()[0]: line.split()[1:] for line in open(sys.argv[1]) if line.strip()}
(w1, c1), (w10, c10) = map(float, rows["1000"]), map(float, rows["10000"])
print(f"scaling 1,000 -> 10,000 VMs: {w10 / w1:.1f}x wall time, {c10 / c1:.1f}x CPU time for 10x input")
PY
echo "work folder: $work" >&2
