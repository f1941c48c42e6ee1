#!/usr/bin/env bash
# Builds Berth's busybox test image, without internet, as an OCI image layout
# in OUTDIR (which must not exist yet), from Debian's busybox-static.
#
# Tags in the layout:
#   latest   the image for this host's architecture, three layers:
#              1. rootfs: /bin/busybox + applet symlinks, /etc/passwd and /etc/group
#                 (root, app 1000:1000, nobody), /home/app, /root, /tmp 1777
#              2. whiteouts: deletes /etc/removed-file (etc/.wh.removed-file), makes
#                 /opt/opaque opaque (opt/opaque/.wh..wh..opq) with new content,
#                 rewrites /etc/motd
#              3. links: /opt/links/file, a hardlink to it, relative, absolute
#                 and directory symlinks, a file with a user.berth xattr
#   variant  a distinguishable image for the other architecture (amd64 <-> arm64):
#            one more layer (/etc/berth-platform) and its own label
#   multi    an OCI image index: this architecture -> latest, the other -> variant
#   zstd     latest with zstd-compressed layers
#
# Usage: build-busybox.sh OUTDIR
set -euo pipefail
export LC_ALL=C

if [ $# -ne 1 ]; then echo "usage: $0 OUTDIR" >&2; exit 2; fi
out=$1
if [ -e "$out" ]; then echo "$0: $out already exists" >&2; exit 1; fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busybox=$(command -v busybox) || { echo "$0: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
for tool in umoci skopeo tar setfattr node; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

case "$(uname -m)" in
  x86_64) arch=amd64 other=arm64 ;;
  aarch64) arch=arm64 other=amd64 ;;
  *) echo "$0: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

# Scratch space beside OUTDIR (same filesystem: xattrs work, no tmpfs surprises).
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/.busybox-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
layout=$work/layout

# Reproducible tar streams: sorted, fixed mtime, numeric owners, no atime/ctime.
created='2024-01-01T00:00:00Z'
mktar() { # mktar DIR OUT.tar NAMES...
  local dir=$1 dest=$2
  shift 2
  tar --create --file "$dest" --directory "$dir" --format=pax --sort=name --numeric-owner \
    --mtime="$created" --xattrs --xattrs-include='user.*' \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime "$@"
}
add_layer() { # add_layer TAG TAR COMMENT
  umoci raw add-layer --image "$layout:$1" --history.created "$created" --history.created_by "$3" "$2"
}

umoci init --layout "$layout"
umoci new --image "$layout:latest"

# Layer 1: the root filesystem.
r=$work/l1
mkdir -p "$r"/{bin,etc,home/app,root,tmp,opt/opaque}
cp "$busybox" "$r/bin/busybox"
chmod 0755 "$r/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$r/bin/$applet"
done
cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$r/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
echo 'hello from layer 1' >"$r/etc/motd"
echo 'deleted by layer 2' >"$r/etc/removed-file"
echo 'hidden by the opaque dir of layer 2' >"$r/opt/opaque/old-a"
echo 'hidden by the opaque dir of layer 2' >"$r/opt/opaque/old-b"
chmod 0644 "$r"/etc/* "$r"/opt/opaque/*
chmod 0755 "$r"/{bin,etc,home,opt,opt/opaque} "$r/home/app"
chmod 0700 "$r/root"
chmod 1777 "$r/tmp"
chown 1000:1000 "$r/home/app"
mktar "$r" "$work/l1.tar" bin etc home opt root tmp
add_layer latest "$work/l1.tar" 'busybox rootfs from busybox-static'

# Layer 2: whiteouts (a deleted file, an opaque directory) and a changed file.
r=$work/l2
mkdir -p "$r/etc" "$r/opt/opaque"
echo 'hello from layer 2' >"$r/etc/motd"
: >"$r/etc/.wh.removed-file"
: >"$r/opt/opaque/.wh..wh..opq"
echo 'new in layer 2' >"$r/opt/opaque/new-c"
chmod 0644 "$r/etc/motd" "$r/etc/.wh.removed-file" "$r/opt/opaque/.wh..wh..opq" "$r/opt/opaque/new-c"
chmod 0755 "$r/etc" "$r/opt" "$r/opt/opaque"
mktar "$r" "$work/l2.tar" etc opt
add_layer latest "$work/l2.tar" 'whiteouts: delete /etc/removed-file, opaque /opt/opaque'

# Layer 3: a hardlink, symlinks and an xattr.
r=$work/l3
mkdir -p "$r/opt/links"
echo 'linked content' >"$r/opt/links/file"
ln "$r/opt/links/file" "$r/opt/links/hardlink" # sorts after file: stored as a link to it
ln -s file "$r/opt/links/symlink"
ln -s /etc/motd "$r/opt/links/abs-symlink"
ln -s ../../etc "$r/opt/links/dir-symlink"
echo 'has a user xattr' >"$r/opt/links/xattr-file"
setfattr -n user.berth -v test "$r/opt/links/xattr-file"
chmod 0644 "$r/opt/links/file" "$r/opt/links/xattr-file"
chmod 0755 "$r/opt" "$r/opt/links"
mktar "$r" "$work/l3.tar" opt
add_layer latest "$work/l3.tar" 'links: hardlink, symlinks, xattr'

umoci config --image "$layout:latest" --created "$created" --history.created "$created" \
  --os linux --architecture "$arch" \
  --config.cmd sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.opencontainers.image.title=berth-test-busybox \
  --config.label org.berth.test=busybox \
  --config.label "org.berth.test.platform=linux/$arch"

# The variant for the other architecture: one more layer, its own label.
r=$work/l4
mkdir -p "$r/etc"
echo "linux/$other" >"$r/etc/berth-platform"
chmod 0644 "$r/etc/berth-platform"
chmod 0755 "$r/etc"
mktar "$r" "$work/l4.tar" etc
umoci config --image "$layout:latest" --tag variant --created "$created" --history.created "$created" \
  --architecture "$other" --config.label "org.berth.test.platform=linux/$other"
add_layer variant "$work/l4.tar" "platform marker for linux/$other"

# The index: this architecture -> latest, the other -> variant.
node "$here/make-index.mjs" "$layout" multi "latest=linux/$arch" "variant=linux/$other"

# zstd: latest recompressed, made in a layout of its own (skopeo would reuse the
# gzip blobs of a destination that has them), then merged in. Push it with
# --preserve-digests so that a registry holding the gzip blobs keeps it zstd.
skopeo --insecure-policy copy --quiet --dest-compress-format zstd "oci:$layout:latest" "oci:$work/zstd:zstd"
cp -n "$work/zstd/blobs/sha256/"* "$layout/blobs/sha256/"
node -e '
  const fs = require("node:fs");
  const [dest, src] = process.argv.slice(1).map((d) => d + "/index.json");
  const index = JSON.parse(fs.readFileSync(dest, "utf8"));
  index.manifests.push(...JSON.parse(fs.readFileSync(src, "utf8")).manifests);
  fs.writeFileSync(dest, JSON.stringify(index));
' "$layout" "$work/zstd"

umoci gc --layout "$layout"
mv "$layout" "$out"
