#!/usr/bin/env bash
# Builds a minimal Debian bookworm image (debootstrap --variant=minbase) as an
# OCI image layout in OUTDIR (which must not exist yet), tagged `bookworm`.
# Packages come from the Debian mirror this machine's apt uses (or
# $BERTH_DEBIAN_MIRROR); nothing else is downloaded. The finished layout is
# cached in ${BERTH_TEST_CACHE:-/var/cache/berth-test} under a key that changes
# with this script, so later runs only copy it. Needs root.
#
# Usage: build-debian.sh OUTDIR
set -euo pipefail
export LC_ALL=C

if [ $# -ne 1 ]; then echo "usage: $0 OUTDIR" >&2; exit 2; fi
out=$1
if [ -e "$out" ]; then echo "$0: $out already exists" >&2; exit 1; fi
for tool in debootstrap umoci tar flock sha256sum; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

suite=bookworm
cache_root=${BERTH_TEST_CACHE:-/var/cache/berth-test}
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
cache=$cache_root/debian-$suite-$key
mkdir -p "$cache_root"

# The first Debian mirror apt is configured with (deb822 .sources, then one-line lists).
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (uris != "" && suites ~ ("(^| )" suite "( |$)") && uris ~ /debian\/?( |$)/ && uris !~ /security/) { split(uris, u, " "); print u[1]; found = 1; exit } uris = ""; suites = "" }
      /^[ \t]*$/ { flush(); next }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      END { if (!found) flush() }' "$f" || true
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == suite) print $i }' || true
}

build() {
  local mirror work rootfs layout arch
  mirror=${BERTH_DEBIAN_MIRROR:-}
  [ -n "$mirror" ] || mirror=$(find_mirror | head -n1) || true
  [ -n "$mirror" ] || { echo "$0: no Debian $suite mirror in /etc/apt/sources.list*; set BERTH_DEBIAN_MIRROR" >&2; return 1; }
  arch=$(dpkg --print-architecture)
  work=$(mktemp -d "$cache_root/.debian-build.XXXXXX")
  # debootstrap mounts /proc and /sys inside the target: unmount before removing anything.
  # shellcheck disable=SC2064
  trap "cleanup_build '$work'" EXIT
  rootfs=$work/rootfs
  layout=$work/layout
  echo "$0: debootstrap $suite ($arch) from $mirror" >&2
  debootstrap --variant=minbase --arch="$arch" --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; return 1; }
  unmount_below "$rootfs"
  rm -rf --one-file-system "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/bootstrap.log "$rootfs"/var/cache/apt/*.bin "$rootfs"/debootstrap
  tar --create --file "$work/rootfs.tar" --directory "$rootfs" --format=pax --sort=name --numeric-owner \
    --xattrs --xattrs-include='security.capability' --one-file-system \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' --exclude='./tmp/*' .
  umoci init --layout "$layout"
  umoci new --image "$layout:$suite"
  umoci raw add-layer --image "$layout:$suite" --history.created_by "debootstrap --variant=minbase $suite" "$work/rootfs.tar"
  umoci config --image "$layout:$suite" --os linux --architecture "$arch" \
    --config.cmd bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.label org.opencontainers.image.title=berth-test-debian \
    --config.label org.berth.test=debian
  umoci gc --layout "$layout"
  mkdir -p "$cache"
  mv "$layout" "$cache/oci"
  # Layouts cached by older versions of this script are of no further use.
  find "$cache_root" -mindepth 1 -maxdepth 1 -name "debian-$suite-*" ! -path "$cache" -exec rm -rf --one-file-system {} +
  cleanup_build "$work"
  trap - EXIT
}

unmount_below() { # unmount_below DIR: every mount point at or below DIR, deepest first
  local dir mp
  dir=$(realpath "$1")
  awk '{ print $5 }' /proc/self/mountinfo | { grep -E "^$dir(/|$)" || true; } | sort -r |
    while read -r mp; do umount -l "$mp" || true; done
}

cleanup_build() {
  unmount_below "$1"
  rm -rf --one-file-system "$1"
}

# One builder at a time; the others wait and then copy.
exec 9>"$cache_root/.debian-$suite.lock"
flock 9
# Builds killed before their cleanup ran (SIGKILL) may have left mounts and files.
for stale in "$cache_root"/.debian-build.*; do
  [ -d "$stale" ] && cleanup_build "$stale"
done
trap 'exit 143' TERM
trap 'exit 130' INT
if [ ! -f "$cache/oci/index.json" ]; then
  build
fi
# Blobs are immutable: hardlink them when OUTDIR is on the same filesystem.
mkdir -p "$(dirname "$out")"
# index.json is copied, so that a change to OUTDIR's tags never reaches the cache.
if cp -al "$cache/oci" "$out" 2>/dev/null; then
  rm "$out/index.json"
  cp "$cache/oci/index.json" "$out/index.json"
else
  rm -rf "$out"
  cp -a "$cache/oci" "$out"
fi
