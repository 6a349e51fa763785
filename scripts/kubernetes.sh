# The test control plane's binaries, built once and cached outside the repository.
# Sourced by scripts/provision.sh (which defines say, die, as_root, apt_install_missing and
# CACHE_DIR, and holds the provisioning lock).
#
# Two releases:
#   - current (the default for tests, benchmarks and the demo): kube-apiserver,
#     kube-controller-manager and etcd built from Go's module proxy. v1.37.2 is the newest
#     Kubernetes served there; its go.mod asks for Go 1.26.0, so the machine's Go 1.26.8
#     builds it without a toolchain download. etcd is the version that Kubernetes release
#     requires in its own go.mod (go.etcd.io/etcd/server/v3 v3.7.0), so one module graph
#     builds all three.
#   - oldest supported: v1.20.2 from Debian bookworm's `kubernetes` source package, with
#     Debian's etcd 3.4 (package etcd-server).
#
# Each cache directory holds bin/ and a BUILD-INFO naming its recipe; a changed recipe
# number rebuilds.

K8S_CURRENT_VERSION=1.37.2
K8S_CURRENT_RECIPE=1
K8S_OLDEST_VERSION=1.20.2
K8S_OLDEST_RECIPE=2
# Debian bookworm ships 1.20.2 under this upstream version string.
K8S_OLDEST_SOURCE_DIR=kubernetes-1.20.5+really1.20.2

k8s_dir() { printf '%s/k8s-%s' "$CACHE_DIR" "$1"; }

# k8s_cached VERSION RECIPE PROGRAM...: the programs are there, report VERSION, and were
# built by this recipe.
k8s_cached() {
    local version=$1 recipe=$2 dir program
    dir=$(k8s_dir "$version")
    shift 2
    for program in "$@"; do [ -x "$dir/bin/$program" ] || return 1; done
    "$dir/bin/kube-apiserver" --version 2>/dev/null | grep -q "v$version\$" &&
        grep -q "recipe $recipe" "$dir/BUILD-INFO" 2>/dev/null
}

# provision_k8s_current: kube-apiserver, kube-controller-manager and etcd from Go modules.
provision_k8s_current() {
    local version=$K8S_CURRENT_VERSION dir
    dir=$(k8s_dir "$version")
    if k8s_cached "$version" "$K8S_CURRENT_RECIPE" kube-apiserver kube-controller-manager etcd; then
        say "Control plane v$version cached: $dir/bin ($(cat "$dir/BUILD-INFO"))"
        return
    fi
    command -v go >/dev/null || die "Go is needed to build Kubernetes v$version from the module proxy (the machine's Go 1.26.8 is expected)"
    local started=$SECONDS build
    build=$(mktemp -d "$CACHE_DIR/build-k8s-$version.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the trap must remove this build's directory
    trap "rm -rf '$build'" EXIT
    say "Building kube-apiserver, kube-controller-manager and etcd for Kubernetes v$version from Go's module proxy (about 10-15 minutes on 2 cores the first time)"
    write_k8s_build_module "$version" "$build" || die "could not write the build module for Kubernetes v$version"
    local pkg=k8s.io/component-base/version
    local ldflags="-s -w -X $pkg.gitVersion=v$version -X $pkg.gitMajor=${version%%.*}"
    ldflags+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$version") -X $pkg.gitTreeState=clean"
    say "  compiling (log: $build/build.log)"
    if ! (cd "$build" && go mod tidy >"$build/build.log" 2>&1 &&
        CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$build/bin/" \
            k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
            ./cmd/etcd >>"$build/build.log" 2>&1); then
        tail -30 "$build/build.log" >&2
        die "building Kubernetes v$version failed (see above)"
    fi
    local etcd_version
    etcd_version=$(cd "$build" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
    mkdir -p "$dir"
    rm -rf "$dir/bin" && mv "$build/bin" "$dir/bin"
    printf 'built %s from k8s.io/kubernetes v%s and go.etcd.io/etcd/server/v3 %s with %s, recipe %s\n' \
        "$(date -u +%FT%TZ)" "$version" "$etcd_version" "$(go env GOVERSION)" "$K8S_CURRENT_RECIPE" >"$dir/BUILD-INFO"
    rm -rf "$build"
    trap - EXIT
    say "Built and cached in $dir/bin ($((SECONDS - started))s)"
}

# provision_k8s_node: what makes a real node for the current release — kubelet and
# kube-scheduler from the same module graph as the control plane (without a scheduler no
# Pod is ever bound to the node). Kept in a directory of its own (k8s-VERSION-node), so the
# control plane's cache stays valid and only tests that want a node pay for it. containerd,
# runc and the CNI plugins are Debian's (provision.sh's package list).
K8S_NODE_RECIPE=1
provision_k8s_node() {
    local version=$K8S_CURRENT_VERSION dir
    dir=$(k8s_dir "$version")-node
    if [ -x "$dir/bin/kubelet" ] && [ -x "$dir/bin/kube-scheduler" ] &&
        "$dir/bin/kubelet" --version 2>/dev/null | grep -q "v$version\$" &&
        grep -q "recipe $K8S_NODE_RECIPE" "$dir/BUILD-INFO" 2>/dev/null; then
        say "Node v$version cached: $dir/bin ($(cat "$dir/BUILD-INFO"))"
        return
    fi
    command -v go >/dev/null || die "Go is needed to build the kubelet v$version from the module proxy"
    local started=$SECONDS build
    build=$(mktemp -d "$CACHE_DIR/build-k8s-node-$version.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the trap must remove this build's directory
    trap "rm -rf '$build'" EXIT
    say "Building kubelet and kube-scheduler for Kubernetes v$version from Go's module proxy (a few minutes once the control plane is built)"
    write_k8s_build_module "$version" "$build" kubelet kube-scheduler ||
        die "could not write the build module for the kubelet v$version"
    local pkg=k8s.io/component-base/version
    local ldflags="-s -w -X $pkg.gitVersion=v$version -X $pkg.gitMajor=${version%%.*}"
    ldflags+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$version") -X $pkg.gitTreeState=clean"
    say "  compiling (log: $build/build.log)"
    if ! (cd "$build" && go mod tidy >"$build/build.log" 2>&1 &&
        CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$build/bin/" \
            k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler >>"$build/build.log" 2>&1); then
        tail -30 "$build/build.log" >&2
        die "building the kubelet v$version failed (see above)"
    fi
    mkdir -p "$dir"
    rm -rf "$dir/bin" && mv "$build/bin" "$dir/bin"
    printf 'built %s from k8s.io/kubernetes v%s with %s, recipe %s\n' \
        "$(date -u +%FT%TZ)" "$version" "$(go env GOVERSION)" "$K8S_NODE_RECIPE" >"$dir/BUILD-INFO"
    rm -rf "$build"
    trap - EXIT
    say "Built and cached in $dir/bin ($((SECONDS - started))s)"
}

# write_k8s_build_module VERSION DIR [COMMAND...]: a module that builds Kubernetes' commands
# (kube-apiserver and kube-controller-manager unless others are named) and etcd.
# The k8s.io/kubernetes module replaces its k8s.io/* staging modules with directories its
# zip leaves out, so this module pins each of them to the matching published v0.X.Y. The
# list is read from that release's own go.mod, so a new release needs no edit here.
write_k8s_build_module() {
    local version=$1 dir=$2 staging command
    shift 2
    [ $# -gt 0 ] || set -- kube-apiserver kube-controller-manager
    staging=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$version" |
        sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
    [ -f "$staging" ] || return 1
    mkdir -p "$dir/cmd/etcd"
    {
        printf 'module plumb.dev/k8s-build\n\ngo %s\n\n' "$(sed -n 's/^go //p' "$staging")"
        printf 'require (\n\tk8s.io/kubernetes v%s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\nreplace (\n' \
            "$version" "$(sed -n 's/^\tgo.etcd.io\/etcd\/server\/v3 \(v[^ ]*\).*/\1/p' "$staging")"
        # Every staging module but the samples, which are not published (and not needed).
        sed -n 's/^\t\(k8s.io\/[a-z-]*\) => \.\/staging\/.*/\1/p' "$staging" | grep -v '^k8s.io/sample-' |
            while read -r module; do printf '\t%s => %s v0.%s\n' "$module" "$module" "${version#*.}"; done
        printf ')\n'
    } >"$dir/go.mod"
    {
        printf '//go:build tools\n\n'
        printf '// Package tools names the commands this module builds, so `go mod tidy` keeps them.\n'
        printf 'package tools\n\nimport (\n'
        for command in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$command"; done
        printf ')\n'
    } >"$dir/tools.go"
    cat >"$dir/cmd/etcd/main.go" <<'EOF'
// Command etcd is etcd's server, at the version the Kubernetes release requires.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
}

# provision_k8s_oldest: kube-apiserver and kube-controller-manager v1.20.2 from Debian's
# source package; etcd is Debian's etcd-server (installed with the other packages).
provision_k8s_oldest() {
    local version=$K8S_OLDEST_VERSION dir
    dir=$(k8s_dir "$version")
    if k8s_cached "$version" "$K8S_OLDEST_RECIPE" kube-apiserver kube-controller-manager; then
        say "Control plane v$version cached: $dir/bin ($(cat "$dir/BUILD-INFO"))"
        return
    fi
    ensure_deb_src
    local started=$SECONDS build
    build=$(mktemp -d "$CACHE_DIR/build-k8s-$version.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the trap must remove this build's directory
    trap "rm -rf '$build'" EXIT
    say "Building kube-apiserver and kube-controller-manager v$version from Debian's source package (about 5-8 minutes on 2 cores)"
    say "  fetching source: apt-get source kubernetes (into $build)"
    (cd "$build" && apt-get -o APT::Sandbox::User=root source -qq kubernetes >/dev/null 2>"$build/apt-source.log") ||
        die "apt-get source kubernetes failed: $(tail -5 "$build/apt-source.log")"
    local src="$build/$K8S_OLDEST_SOURCE_DIR"
    [ -d "$src" ] || die "expected $src after apt-get source; Debian's kubernetes package has changed version"
    # Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, whose map iteration crashes the API
    # server (SIGSEGV in reflect.mapiterinit) when built with Go >= 1.18, as Debian's Go 1.19
    # is — e.g. on the first custom resource it serialises. Debian ships the fixed 1.0.2.
    local reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
    [ -f "$reflect2/go_above_118.go" ] || die "$reflect2 lacks the Go 1.18 fix (golang-github-modern-go-reflect2-dev >= 1.0.2 needed)"
    rm -rf "$src/vendor/github.com/modern-go/reflect2"
    cp -rL "$reflect2" "$src/vendor/github.com/modern-go/reflect2"
    rm -f "$src/vendor/github.com/modern-go/reflect2/go.mod"
    # The GOPATH layout of the package's debian/rules: the tree is k8s.io/kubernetes.
    mkdir -p "$src/.go/src/k8s.io"
    ln -sfn ../../.. "$src/.go/src/k8s.io/kubernetes"
    say "  compiling (log: $build/make.log)"
    if ! (cd "$src" && env GOPATH="$src/.go" GOCACHE="$build/gocache" PATH="/usr/lib/go/bin:$PATH" \
        CGO_ENABLED=0 HOME="$build" \
        make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$build/make.log" 2>&1); then
        tail -30 "$build/make.log" >&2
        die "the kubernetes build failed (see above)"
    fi
    mkdir -p "$dir/bin.new"
    cp "$src/_output/bin/kube-apiserver" "$src/_output/bin/kube-controller-manager" "$dir/bin.new/"
    rm -rf "$dir/bin" && mv "$dir/bin.new" "$dir/bin"
    printf 'built %s from Debian source package %s, recipe %s (reflect2 1.0.2)\n' "$(date -u +%FT%TZ)" \
        "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)" "$K8S_OLDEST_RECIPE" >"$dir/BUILD-INFO"
    rm -rf "$build"
    trap - EXIT
    say "Built and cached in $dir/bin ($((SECONDS - started))s)"
}

ensure_deb_src() {
    # Whatever line provides it, apt must know the source package.
    if apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes'; then
        return
    fi
    say "Adding a deb-src line for bookworm main (/etc/apt/sources.list.d/plumb-bookworm-src.sources)"
    as_root tee /etc/apt/sources.list.d/plumb-bookworm-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
}
