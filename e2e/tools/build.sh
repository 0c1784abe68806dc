#!/usr/bin/env bash
# Build every tool `make e2e` runs from source, at the versions in versions.env, into
# $E2E_TOOLS_DIR (default: .e2e-tools/ at the repository root, git-ignored), one folder per
# tool and version. A folder that is complete (it holds .built) is reused; a build goes to
# a temporary folder first and is renamed into place only when it succeeded, so an
# interrupted build never leaves a half tool behind. Everything comes from the Go module
# proxy (each wrapper module's go.sum pins every hash); nothing else is downloaded.
#
#   e2e/tools/build.sh            build what is missing, print the tools' folder
#   e2e/tools/build.sh --env      print shell assignments of every tool's path
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
out=${E2E_TOOLS_DIR:-$root/.e2e-tools}
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0

pulumi_dir=$out/pulumi-$PULUMI_VERSION
provider_dir=$out/pulumi-resource-kubernetes-$PULUMI_KUBERNETES_VERSION
kubernetes_dir=$out/kubernetes-$KUBERNETES_VERSION
kwok_dir=$out/kwok-$KWOK_VERSION

if [ "${1:-}" = "--env" ]; then
  echo "PULUMI=$pulumi_dir/bin/pulumi"
  echo "PULUMI_RESOURCE_KUBERNETES=$provider_dir/bin/pulumi-resource-kubernetes"
  echo "PULUMI_KUBERNETES_VERSION=$PULUMI_KUBERNETES_VERSION"
  echo "KUBE_BIN=$kubernetes_dir/bin"
  echo "KWOK=$kwok_dir/bin/kwok"
  echo "KWOK_STAGES=$kwok_dir/stages"
  echo "ETCD=$(command -v etcd || echo etcd)"
  exit 0
fi

log() { echo "e2e-tools: $*" >&2; }
die() { log "$*"; exit 1; }

# The wrapper modules must require exactly the pinned versions.
need_require() { # module-dir module version
  grep -qE "^[[:space:]]*(require )?$2 $3\$" "$here/$1/go.mod" ||
    die "$1/go.mod does not require $2 $3 (versions.env): regenerate it"
}
need_require pulumi github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_VERSION"
need_require pulumi-kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4 "$PULUMI_KUBERNETES_MODULE_VERSION"
need_require kubernetes k8s.io/kubernetes "v$KUBERNETES_VERSION"
need_require kwok sigs.k8s.io/kwok "v$KWOK_VERSION"
command -v go >/dev/null || die "go is not installed (Go 1.26 or newer is needed)"

# build NAME DEST FUNCTION: run FUNCTION TMP, then move TMP to DEST.
build() {
  local name=$1 dest=$2 fn=$3 tmp start
  if [ -f "$dest/.built" ]; then
    log "$name: cached in $dest"
    return
  fi
  mkdir -p "$out"
  tmp=$(mktemp -d "$out/.building-$name-XXXXXX")
  start=$(date +%s)
  "$fn" "$tmp"
  date -u +%FT%TZ >"$tmp/.built"
  # a folder without .built is not a build of this script (builds land whole, by rename):
  # never remove it
  [ ! -e "$dest" ] || die "$dest: exists and is not a tool this script built; move it away"
  mv "$tmp" "$dest"
  log "$name: built in $(($(date +%s) - start)) s, $(du -sh "$dest" | cut -f1) in $dest"
}

build_pulumi() {
  (cd "$here/pulumi" && go build -trimpath -o "$1/bin/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_provider() {
  local module=github.com/pulumi/pulumi-kubernetes/provider/v4 src
  # The provider's module zip lacks the schema files its main package embeds (they are
  # git-ignored upstream): copy the module, generate them from the committed schema.json
  # with the version set, and build the copy through the wrapper module.
  src=$(cd "$here/pulumi-kubernetes" && go mod download -json "$module@$PULUMI_KUBERNETES_MODULE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || die "pulumi-kubernetes: module download failed"
  cp -r "$src" "$1/src"
  chmod -R u+w "$1/src"
  cp "$here/pulumi-kubernetes/go.mod" "$here/pulumi-kubernetes/go.sum" "$here/pulumi-kubernetes/tools.go" "$1/"
  (cd "$1" && go mod edit -replace "$module=./src" &&
    cd src/cmd/pulumi-resource-kubernetes &&
    VERSION=$PULUMI_KUBERNETES_VERSION GOFLAGS=-mod=mod go run generate.go &&
    cd "$1" && GOFLAGS=-mod=mod go build -trimpath -o "$1/bin/pulumi-resource-kubernetes" \
      -ldflags "-s -w -X $module/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
      "$module/cmd/pulumi-resource-kubernetes")
  rm -rf "$1/src" "$1/go.mod" "$1/go.sum" "$1/tools.go"
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION major minor flags=""
  major=${v%%.*} minor=${v#*.} minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags="$flags -X $pkg.gitVersion=v$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags="$flags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$1/bin"
  (cd "$here/kubernetes" && go build -trimpath -o "$1/bin/" -ldflags "-s -w $flags" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_kwok() {
  local src
  (cd "$here/kwok" && go build -trimpath -o "$1/bin/kwok" \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok)
  # the node and pod lifecycles kwok plays, as the module ships them
  src=$(cd "$here/kwok" && go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$1/stages"
  for stage in node/fast node/heartbeat-with-lease pod/fast; do
    [ -d "$src/kustomize/stage/$stage" ] || die "kwok: no $stage stages in the module"
    for file in "$src/kustomize/stage/$stage/"*.yaml; do
      [ "$(basename "$file")" = kustomization.yaml ] || cp "$file" "$1/stages/"
    done
  done
}

build pulumi "$pulumi_dir" build_pulumi
build pulumi-resource-kubernetes "$provider_dir" build_provider
build kubernetes "$kubernetes_dir" build_kubernetes
build kwok "$kwok_dir" build_kwok
command -v etcd >/dev/null || die "etcd is not installed: apt-get install etcd-server (Debian)"
echo "$out"
