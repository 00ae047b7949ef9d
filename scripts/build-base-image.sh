#!/usr/bin/env bash
# Makes the Debian root filesystem that test/e2e/container.test.ts builds the image on (there is no image
# registry on the test machines) with debootstrap from the machine's own Debian mirror, and caches it as a tarball
# outside the repository, keyed by what it is made from. A tarball already in the cache is never remade.
# Prints `rootfs=path` (stdout; progress goes to stderr). Needs root and debootstrap.
set -euo pipefail

# The release of the Containerfile's default NODE_IMAGE (node:24-bookworm-slim).
SUITE=bookworm
VARIANT=minbase
CACHE_DIR="${NETWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/netwatch}"
IMAGE_DIR="$CACHE_DIR/images"
mkdir -p "$IMAGE_DIR"

log() { printf '[build-base-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The first Debian archive apt uses (deb822 .sources files first, then one-line .list files), so the rootfs comes
# from wherever this machine is allowed to fetch packages.
apt_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ && $2 !~ /security/ { print $2; exit }' "$f")
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(sed 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $2 ~ /\/debian\/?$/ && $2 !~ /security/ { print $2; exit }')
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
}
MIRROR="${NETWATCH_DEBIAN_MIRROR:-$(apt_mirror)}"
[[ -n $MIRROR ]] || { log "no Debian mirror in /etc/apt; set NETWATCH_DEBIAN_MIRROR"; exit 1; }

arch=$(dpkg --print-architecture)
key=$(printf '%s\n' "$SUITE" "$VARIANT" "$arch" "$MIRROR" "$(debootstrap --version)" | sha256sum | cut -c1-16)
tarball="$IMAGE_DIR/debian-$SUITE-$VARIANT-$arch-$key.tar"

# Test files may run in parallel: one makes the tarball, the others wait for it.
exec 9>"$IMAGE_DIR/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi

if [[ -f $tarball ]]; then
  log "$SUITE/$VARIANT rootfs cached"
else
  command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
  started=$SECONDS
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  log "debootstrap --variant=$VARIANT $SUITE from $MIRROR (about a minute)"
  if ! debootstrap --variant="$VARIANT" "$SUITE" "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    log "debootstrap failed"
    exit 1
  fi
  # apt's downloaded packages are half the size and no image needs them.
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work"; trap - EXIT
  log "rootfs made in $((SECONDS - started))s -> $tarball"
fi

echo "rootfs=$tarball"
