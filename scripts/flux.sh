# Flux beside plumb: the source-controller and kustomize-controller of Flux v2.9 (both
# v1.9.6, released together on 2026-10-01), built from Go's module proxy and cached outside
# the repository, never committed. The fleet benchmark (bench/src/bin/fleet.rs --tool flux)
# runs them out of cluster against the test control plane, with the CRDs of their module
# zips (config/crd/bases), which stay in Go's module cache.
# Sourced by scripts/provision.sh (which defines say, die and CACHE_DIR, and holds the
# provisioning lock). Optional: provisioning builds them only with PLUMB_FLUX=1, and a
# failed build is reported without failing provisioning (ensure_flux returns non-zero).
#
# Why a wrapper module: each controller's go.mod replaces its own api module with ./api,
# a nested module that its zip leaves out, so `go install module@version` refuses it. The
# wrapper is a go.mod of our own that requires the controller at its version and repeats
# the controller's other replace directives (read from its go.mod in the module cache: a
# go-digest fork with BLAKE3, and for kustomize-controller pinned kustomize and yaml.v3);
# the api module then comes at the version the controller requires, as published. Both
# ask for Go 1.26.0, so the machine's Go 1.26.8 builds them without a toolchain download.
# v1.10 asks for Go 1.27.0 and would need GOTOOLCHAIN=go1.27.3 everywhere: not taken.
#
# One substitution: source-controller v1.9.6 requires github.com/fluxcd/pkg/artifact v0.18.3,
# which the module proxy refuses ("403 Forbidden: This module version is not available",
# 2026-12); it serves v0.3.0, v0.5.0, v0.8.0, v0.18.0 and v0.29.0 of it (every
# source-controller it serves asks for an unserved one: v1.9.4 v0.18.2, v1.9.5 v0.18.3,
# v1.8.5 v0.8.1). The wrapper replaces it with v0.18.0, the same minor release, whose API
# the controller compiles against unchanged. FLUX_SUBSTITUTES lists such replacements.
#
# The build flags are the release's (Makefile: -s -w, tags netgo,osusergo,static_build,
# CGO off). The cache directory holds bin/source-controller, bin/kustomize-controller,
# crd/NAME (links to config/crd/bases of each module in Go's module cache), BUILD-INFO
# naming the recipe (a changed recipe number rebuilds), build.log, and the wrapper
# modules under wrap/.

FLUX_SOURCE_VERSION=1.9.6
FLUX_KUSTOMIZE_VERSION=1.9.6
FLUX_RECIPE=1
FLUX_SUBSTITUTES=(github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0)

flux_dir() { printf '%s/flux-sc%s-kc%s' "$CACHE_DIR" "$FLUX_SOURCE_VERSION" "$FLUX_KUSTOMIZE_VERSION"; }

# flux_cached: both binaries are there, answer --help, and were built by this recipe.
flux_cached() {
    local dir name
    dir=$(flux_dir)
    for name in source-controller kustomize-controller; do
        [ -x "$dir/bin/$name" ] || return 1
        "$dir/bin/$name" --help 2>&1 | grep -q -- '--metrics-addr' || return 1
        ls "$dir/crd/$name/"*.yaml >/dev/null 2>&1 || return 1
    done
    grep -q "recipe $FLUX_RECIPE\$" "$dir/BUILD-INFO" 2>/dev/null
}

# flux_build_one NAME VERSION WRAP BIN LOG: builds github.com/fluxcd/NAME@vVERSION into
# BIN/NAME through a wrapper module in WRAP/NAME.
flux_build_one() {
    local name=$1 version=$2 wrap=$3/$1 bin=$4 log=$5 module=github.com/fluxcd/$1
    local source replaces
    rm -rf "$wrap" && mkdir -p "$wrap"
    source=$(cd "$wrap" && GOFLAGS= go mod download -json "$module@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') ||
        return 1
    [ -f "$source/go.mod" ] || { echo "no go.mod in the module cache for $module@v$version" >&2; return 1; }
    printf 'module plumb.local/flux-build/%s\n\ngo 1.26.0\n' "$name" >"$wrap/go.mod"
    # The controller's replace directives but those pointing into its own tree (./api).
    replaces=$(cd "$wrap" && GOFLAGS= go mod edit -json "$source/go.mod" |
        python3 -c 'import json,sys
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"], r["New"]
    if "Version" not in new: continue
    print((old["Path"] + ("@" + old["Version"] if old.get("Version") else "")) + "=" + new["Path"] + "@" + new["Version"])') ||
        return 1
    local replace
    for replace in $replaces "${FLUX_SUBSTITUTES[@]}"; do
        (cd "$wrap" && GOFLAGS= go mod edit -replace="$replace") || return 1
    done
    (cd "$wrap" && env GOFLAGS= go get "$module@v$version") || return 1
    (cd "$wrap" && env CGO_ENABLED=0 GOFLAGS= go build -trimpath -ldflags '-s -w' \
        -tags netgo,osusergo,static_build -o "$bin/$name" "$module") || return 1
    # The CRDs, where the fleet benchmark applies them from: the module cache, linked.
    mkdir -p "$bin/../crd" && ln -sfn "$source/config/crd/bases" "$bin/../crd/$name"
}

# ensure_flux: builds both controllers into the cache unless they are there already.
ensure_flux() {
    local dir
    dir=$(flux_dir)
    if flux_cached; then
        say "Flux controllers cached: $dir/bin ($(cat "$dir/BUILD-INFO"))"
        return 0
    fi
    command -v go >/dev/null || { say "Flux not built: Go is needed (the machine's Go 1.26.8 is expected)"; return 1; }
    local started=$SECONDS build log
    mkdir -p "$dir"
    log=$dir/build.log
    build=$(mktemp -d "$CACHE_DIR/build-flux.XXXXXX")
    say "Building Flux's source-controller v$FLUX_SOURCE_VERSION and kustomize-controller v$FLUX_KUSTOMIZE_VERSION from Go's module proxy (ten minutes or more on 2 cores the first time)"
    say "  compiling (log: $log)"
    if ! { flux_build_one source-controller "$FLUX_SOURCE_VERSION" "$build/wrap" "$build/bin" "$log" &&
        flux_build_one kustomize-controller "$FLUX_KUSTOMIZE_VERSION" "$build/wrap" "$build/bin" "$log"; } >"$log" 2>&1; then
        tail -30 "$log" >&2
        rm -rf "$build"
        say "building Flux's controllers failed (see above; full log: $log): the fleet benchmark's --tool flux is unavailable"
        return 1
    fi
    rm -rf "$dir/bin" "$dir/wrap" "$dir/crd"
    mv "$build/bin" "$dir/bin" && mv "$build/wrap" "$dir/wrap" && mv "$build/crd" "$dir/crd"
    printf 'built %s from github.com/fluxcd/source-controller v%s and github.com/fluxcd/kustomize-controller v%s with %s, recipe %s\n' \
        "$(date -u +%FT%TZ)" "$FLUX_SOURCE_VERSION" "$FLUX_KUSTOMIZE_VERSION" "$(go env GOVERSION)" "$FLUX_RECIPE" >"$dir/BUILD-INFO"
    rm -rf "$build"
    say "Built and cached in $dir/bin ($((SECONDS - started))s)"
}
