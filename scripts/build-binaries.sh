#!/usr/bin/env bash
# Builds the real control-plane binaries the tests and the sandbox run (etcd, kube-apiserver,
# kube-controller-manager, maxtac) and the test-only NetworkPolicy engine (kube-router) with this machine's Go from
# the Go module proxy, and caches them outside the repository, keyed by version. Also fetches cert-manager's CRDs
# (the manifests test checks the cert-manager overlay against them).
# A binary already in the cache is never rebuilt. Prints `name=path` of each binary it stands for, one per line
# (stdout; progress goes to stderr).
set -euo pipefail

ETCD_VERSION="${NETWATCH_ETCD_VERSION:-v3.6.16}"
KUBE_VERSION="${NETWATCH_KUBE_VERSION:-v1.36.3}"
MAXTAC_VERSION="${NETWATCH_MAXTAC_VERSION:-v0.3.0}"
KUBE_ROUTER_VERSION="${NETWATCH_KUBE_ROUTER_VERSION:-v2.1.0}"
CERT_MANAGER_VERSION="${NETWATCH_CERT_MANAGER_VERSION:-v1.21.2}"
CACHE_DIR="${NETWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/netwatch}"
BIN_DIR="$CACHE_DIR/bin"
mkdir -p "$BIN_DIR"

log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Test files run in parallel and each calls this script: one builds, the others wait for it.
exec 9>"$CACHE_DIR/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi

# go build -v names every package as it compiles it; show a running count instead of thousands of lines.
progress() {
  local label=$1 n=0
  while IFS= read -r line; do
    case "$line" in
      *error*|*Error*|*cannot*|*undefined*) printf '%s\n' "$line" >&2 ;;
    esac
    n=$((n + 1))
    if (( n % 100 == 0 )); then log "$label: $n packages compiled"; fi
  done
  log "$label: $n packages compiled"
}

build_in_wrapper() { # name version out-file module-dir-setup-fn build-target
  local name=$1 out=$2 target=$3 dir=$4
  local started=$SECONDS
  log "building $name (this takes several minutes the first time)"
  (cd "$dir" && CGO_ENABLED=0 go build -v -trimpath ${LDFLAGS:+-ldflags "$LDFLAGS"} -o "$out.tmp" "$target" 2>&1) | progress "$name"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { log "$name build failed"; exit 1; }
  mv "$out.tmp" "$out"
  log "$name built in $((SECONDS - started))s -> $out"
}

etcd_bin="$BIN_DIR/etcd-$ETCD_VERSION"
if [[ ! -x "$etcd_bin" ]]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  cat >"$work/go.mod" <<GOMOD
module netwatch.local/etcdwrapper

go 1.24
GOMOD
  cat >"$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1) \
    || { log "resolving etcd $ETCD_VERSION failed"; (cd "$work" && go mod tidy); exit 1; }
  build_in_wrapper etcd "$etcd_bin" . "$work"
  rm -rf "$work"; trap - EXIT
else
  log "etcd $ETCD_VERSION cached"
fi

# kube-apiserver and kube-controller-manager come from a wrapper module that requires k8s.io/kubernetes.
kube_wrapper() { # dir component
  local work=$1 component=$2
  local staging_version="v0.${KUBE_VERSION#v1.}"
  (cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >"$work/dl.json")
  local kube_gomod
  kube_gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$work/dl.json")
  {
    echo "module netwatch.local/kubewrapper"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    # k8s.io/kubernetes replaces every staging module with a local path; a dependent module must name the
    # published v0.X.Y of each instead.
    grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$kube_gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  cat >"$work/tools.go" <<GO
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/$component"
GO
  log "resolving Kubernetes $KUBE_VERSION modules for $component"
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && GOFLAGS=-mod=mod go list -tags tools "k8s.io/kubernetes/cmd/$component" >/dev/null)
}

kube_ldflags() {
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

# kube-controller-manager runs only its garbage collector (scripts/controlplane.ts), as in every real cluster. Most of
# its packages are kube-apiserver's too: built second, it compiles only its own few hundred from Go's build cache.
for component in kube-apiserver kube-controller-manager; do
  bin="$BIN_DIR/$component-$KUBE_VERSION"
  if [[ -x "$bin" ]]; then
    log "$component $KUBE_VERSION cached"
    continue
  fi
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  kube_wrapper "$work" "$component"
  LDFLAGS=$(kube_ldflags) GOFLAGS=-mod=mod build_in_wrapper "$component" "$bin" "k8s.io/kubernetes/cmd/$component" "$work"
  rm -rf "$work"; trap - EXIT
done

maxtac_bin="$BIN_DIR/maxtac-$MAXTAC_VERSION"
maxtac_crds="$CACHE_DIR/maxtac-$MAXTAC_VERSION-crds"
if [[ ! -x "$maxtac_bin" || ! -d "$maxtac_crds" ]]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  # The proxy refuses maxtac's version list, which `go install pkg@version` asks for (deprecation check), so
  # build the module's own tree with its own go.mod/go.sum instead: the same code at the same dependencies.
  src=$(cd "$work" && go mod download -json "github.com/Banh-Canh/maxtac@$MAXTAC_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  cp -r "$src" "$work/maxtac" && chmod -R u+w "$work/maxtac"
  rm -rf "$maxtac_crds.tmp" && cp -r "$src/config/crd/bases" "$maxtac_crds.tmp" && chmod -R u+w "$maxtac_crds.tmp"
  GOFLAGS=-mod=mod build_in_wrapper maxtac "$maxtac_bin" ./cmd "$work/maxtac"
  rm -rf "$maxtac_crds" && mv "$maxtac_crds.tmp" "$maxtac_crds"
  rm -rf "$work"; trap - EXIT
else
  log "maxtac $MAXTAC_VERSION cached"
fi

# kube-router, firewall only: the NetworkPolicy engine of the packet-level tests (scripts/dataplane.ts). It is a
# test engine and is never shipped: v2.1.0 is the only version the proxy lists and has published advisories. Its
# module has no replace directives, so go install builds it at its own go.mod's dependencies.
kube_router_bin="$BIN_DIR/kube-router-$KUBE_ROUTER_VERSION"
if [[ ! -x "$kube_router_bin" ]]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  started=$SECONDS
  log "building kube-router $KUBE_ROUTER_VERSION (this takes several minutes the first time)"
  (cd "$work" && CGO_ENABLED=0 GOBIN="$work/bin" go install -v -trimpath \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION" 2>&1) | progress kube-router
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { log "kube-router build failed"; exit 1; }
  mv "$work/bin/kube-router" "$kube_router_bin"
  log "kube-router built in $((SECONDS - started))s -> $kube_router_bin"
  rm -rf "$work"; trap - EXIT
else
  log "kube-router $KUBE_ROUTER_VERSION cached"
fi

# cert-manager's CRDs, as its release installs them (deploy/crds of the module). Its controller and cainjector are
# separate Go modules the proxy does not serve, so they are not built: the test checks the overlay's objects against
# cert-manager's real schemas, not the certificates cert-manager would issue.
cm_crds="$CACHE_DIR/cert-manager-$CERT_MANAGER_VERSION-crds"
if [[ ! -d "$cm_crds" ]]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  src=$(cd "$work" && go mod download -json "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -d "$src/deploy/crds" ]] || { log "cert-manager $CERT_MANAGER_VERSION has no deploy/crds"; exit 1; }
  rm -rf "$cm_crds.tmp" && mkdir -p "$cm_crds.tmp" && cp "$src"/deploy/crds/*.yaml "$cm_crds.tmp/" && chmod -R u+w "$cm_crds.tmp"
  mv "$cm_crds.tmp" "$cm_crds"
  log "cert-manager $CERT_MANAGER_VERSION CRDs fetched"
  rm -rf "$work"; trap - EXIT
else
  log "cert-manager $CERT_MANAGER_VERSION CRDs cached"
fi

echo "etcd=$etcd_bin"
echo "kube-apiserver=$BIN_DIR/kube-apiserver-$KUBE_VERSION"
echo "kube-controller-manager=$BIN_DIR/kube-controller-manager-$KUBE_VERSION"
echo "maxtac=$maxtac_bin"
echo "maxtac-crds=$maxtac_crds"
echo "kube-router=$kube_router_bin"
echo "cert-manager-crds=$cm_crds"
