#!/usr/bin/env bash
# Builds the vcsimlite launcher (main.go next to this script) against Debian's packaged govmomi
# simulator library, in GOPATH mode, into a cache folder; prints the binary's path on stdout.
# Rebuilds only when main.go changed (a SHA-256 stamp next to the binary).
#
#   tests/tools/vcsimlite/build.sh            # -> /tmp/virtsecscan-vcsim/vcsimlite
#   VIRTSECSCAN_VCSIM_DIR=/some/dir build.sh
#
# Needs: apt-get install golang-go golang-github-vmware-govmomi-dev
set -euo pipefail

src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${VIRTSECSCAN_VCSIM_DIR:-/tmp/virtsecscan-vcsim}"
gocode=/usr/share/gocode
library="$gocode/src/github.com/vmware/govmomi/simulator"

if ! command -v go >/dev/null 2>&1; then
  echo "vcsimlite build: the Go toolchain (go) is missing: install golang-go golang-github-vmware-govmomi-dev" >&2
  exit 1
fi
if [ ! -d "$library" ]; then
  echo "vcsimlite build: the govmomi simulator library ($library) is missing: install golang-go golang-github-vmware-govmomi-dev" >&2
  exit 1
fi

mkdir -p "$cache"
# One build at a time across processes (parallel test projects share the cache folder).
exec 9>"$cache/build.lock"
flock 9
binary="$cache/vcsimlite"
stamp="$cache/vcsimlite.sha256"
want="$( (sha256sum "$src_dir/main.go" | cut -d' ' -f1; go version) | sha256sum | cut -d' ' -f1)"

if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$binary"
  exit 0
fi

# A private GOPATH entry holding only this package; the library comes from the packaged GOPATH.
gopath="$(mktemp -d "$cache/gopath.XXXXXX")"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/virtsecscan/vcsimlite"
cp "$src_dir/main.go" "$gopath/src/virtsecscan/vcsimlite/main.go"

tmp_binary="$(mktemp "$cache/vcsimlite.XXXXXX")"
if ! GO111MODULE=off GOFLAGS= GOPATH="$gopath:$gocode" GOCACHE="$cache/gocache" \
    go build -ldflags="-s -w" -o "$tmp_binary" virtsecscan/vcsimlite >&2; then
  rm -f "$tmp_binary"
  echo "vcsimlite build: go build failed (see above)" >&2
  exit 1
fi
chmod 755 "$tmp_binary"
# Rename is atomic: a concurrent reader sees the old or the new binary, never half of one.
mv -f "$tmp_binary" "$binary"
echo "$want" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
echo "$binary"
