#!/usr/bin/env bash
# Traffic-sample benchmark: generates (once) a hospital mix of at least 2,000,000 packets with our own generator,
# then times, alternating in one run, VirtSecScan's scan of the file, tcpdump's raw libpcap read, ndpiReader and
# tshark's TCP conversation table. Prints wall and CPU time, packets per second, peak memory and the ratios.
# Usage: bench/pcap/run.sh [FILE] [ROUNDS]      (needs: dotnet, tcpdump, tshark, libndpi-bin, GNU time)
set -euo pipefail
cd "$(dirname "$0")/../.."
file="${1:-${TMPDIR:-/tmp}/virtsecscan-bench/hospital-mix.pcap}"
rounds="${2:-2}"
packets=2000000
mkdir -p "$(dirname "$file")"

dotnet build bench/pcap/PcapGen -c Release -v quiet -nologo >/dev/null
dotnet build src/VirtSecScan.Cli -c Release -v quiet -nologo >/dev/null
if [ ! -s "$file" ]; then
  echo "generating $file ($packets packets) ..."
  dotnet bench/pcap/PcapGen/bin/Release/net10.0/PcapGen.dll bench "$file" "$packets"
fi
count=$(capinfos -c -M "$file" 2>/dev/null | awk -F': *' '/Number of packets/{print $2}' || true)
count=${count:-$packets}
size=$(stat -c %s "$file")
cat "$file" > /dev/null   # warm the page cache once, so every tool reads from memory

have() { command -v "$1" >/dev/null 2>&1; }
declare -A cmd
cmd[virtsecscan]="dotnet src/VirtSecScan.Cli/bin/Release/net10.0/virtsecscan.dll --rules rulesets scan $file --site fixtures/demo-hospital/site.yaml --format json --no-progress --output /dev/null"
cmd[tcpdump]="tcpdump -r $file -w /dev/null"
cmd[ndpiReader]="ndpiReader -i $file -q"
cmd[tshark]="tshark -r $file -q -z conv,tcp"
tools=(virtsecscan tcpdump ndpiReader tshark)
declare -A best_wall best_cpu best_rss
timing="$(mktemp)"
trap 'rm -f "$timing"' EXIT
for t in "${tools[@]}"; do
  exe=${cmd[$t]%% *}
  if ! have "$exe"; then echo "note: $t is not installed; skipped"; fi
done

for r in $(seq 1 "$rounds"); do
  for t in "${tools[@]}"; do
    exe=${cmd[$t]%% *}
    have "$exe" || continue
    /usr/bin/time -o "$timing" -f '%e %U %S %M' ${cmd[$t]} >/dev/null 2>&1 || true
    read -r wall user sys rss < <(tail -n 1 "$timing")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')
    echo "round $r  $t: wall ${wall}s cpu ${cpu}s maxrss $((rss / 1024)) MB"
    if [ -z "${best_wall[$t]:-}" ] || awk -v a="$wall" -v b="${best_wall[$t]}" 'BEGIN{exit !(a<b)}'; then best_wall[$t]=$wall; fi
    if [ -z "${best_cpu[$t]:-}" ] || awk -v a="$cpu" -v b="${best_cpu[$t]}" 'BEGIN{exit !(a<b)}'; then best_cpu[$t]=$cpu; fi
    best_rss[$t]=$(( rss / 1024 > ${best_rss[$t]:-0} ? rss / 1024 : ${best_rss[$t]:-0} ))
  done
done

echo
echo "file: $file, $count packets, $((size / 1000000)) MB; machine: $(nproc) CPUs, $(awk '/MemTotal/{printf "%d GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %10s %10s %14s %14s %10s\n' tool "wall s" "cpu s" "pkts/s wall" "pkts/s cpu" "peak MB"
for t in "${tools[@]}"; do
  [ -n "${best_wall[$t]:-}" ] || continue
  awk -v t="$t" -v w="${best_wall[$t]}" -v c="${best_cpu[$t]}" -v n="$count" -v m="${best_rss[$t]}" \
    'BEGIN{printf "%-12s %10.2f %10.2f %14.0f %14.0f %10d\n", t, w, c, n/w, n/(c>0?c:0.01), m}'
done
v_w=${best_wall[virtsecscan]}; v_c=${best_cpu[virtsecscan]}
for t in tcpdump ndpiReader tshark; do
  [ -n "${best_wall[$t]:-}" ] || continue
  awk -v t="$t" -v vw="$v_w" -v vc="$v_c" -v w="${best_wall[$t]}" -v c="${best_cpu[$t]}" \
    'BEGIN{printf "virtsecscan / %-10s packets/s ratio: %.2fx by wall time, %.2fx by CPU time\n", t, w/vw, c/(vc>0?vc:0.01)}'
done
