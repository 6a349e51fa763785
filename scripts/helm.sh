# The real helm, the oracle of plumb-helm's tests (crates/helm/tests/helm_oracle.rs) and the
# baseline of the helm-render benchmark: helm v4.3.2 built from Go's module proxy
# (helm.sh/helm/v4, whose go.mod asks for Go 1.26.0, so the machine's Go 1.26.8 builds it
# without a toolchain download) and cached outside the repository, never committed.
# Sourced by scripts/provision.sh (which defines say, die and CACHE_DIR, and holds the
# provisioning lock). scripts/test.sh exports PLUMB_HELM, the path of the binary.
#
# The module's source says only "v4.3"; the release's Makefile stamps the rest through
# -ldflags, and so does this build: Version v4.3.2, GitTreeState clean, no build metadata.
# GitCommit stays empty (the module zip carries no commit). `.Capabilities.HelmVersion` is
# then {v4.3.2, "", clean, go1.26.8, v1.37}, as plumb-helm models it.
#
# Offline use: helm reads repositories, plugins and registry logins from its homes. Tests
# and benchmarks run it with no repository configuration and must point HELM_CACHE_HOME,
# HELM_CONFIG_HOME and HELM_DATA_HOME at a fresh temporary directory, so that nothing of
# the user's ~/.config/helm (or ~/.cache/helm, ~/.local/share/helm) is read and nothing is
# written there; `helm template` of a local chart then never touches the network.
#
# The cache directory holds bin/helm, BUILD-INFO naming its recipe (a changed recipe number
# rebuilds) and build.log.

HELM_VERSION=4.3.2
HELM_RECIPE=1

helm_dir() { printf '%s/helm-%s' "$CACHE_DIR" "$HELM_VERSION"; }

# helm_isolated HELM ARGS...: runs HELM with its three homes in a scratch directory.
helm_isolated() {
    local helm=$1 home status=0
    shift
    home=$(mktemp -d "${TMPDIR:-/tmp}/plumb-helm-home.XXXXXX")
    HELM_CACHE_HOME=$home/cache HELM_CONFIG_HOME=$home/config HELM_DATA_HOME=$home/data \
        "$helm" "$@" || status=$?
    rm -rf "$home"
    return "$status"
}

# helm_cached: bin/helm is there, reports v$HELM_VERSION, and was built by this recipe.
helm_cached() {
    local dir
    dir=$(helm_dir)
    [ -x "$dir/bin/helm" ] &&
        [ "$(helm_isolated "$dir/bin/helm" version --short 2>/dev/null)" = "v$HELM_VERSION" ] &&
        grep -q "recipe $HELM_RECIPE\$" "$dir/BUILD-INFO" 2>/dev/null
}

# ensure_helm: builds helm v$HELM_VERSION into the cache unless it is there already.
ensure_helm() {
    local dir
    dir=$(helm_dir)
    if helm_cached; then
        say "helm v$HELM_VERSION cached: $dir/bin/helm ($(cat "$dir/BUILD-INFO"))"
        return
    fi
    command -v go >/dev/null || die "Go is needed to build helm v$HELM_VERSION from the module proxy (the machine's Go 1.26.8 is expected)"
    local started=$SECONDS build log
    mkdir -p "$dir"
    log=$dir/build.log
    build=$(mktemp -d "$CACHE_DIR/build-helm-$HELM_VERSION.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the trap must remove this build's directory
    trap "rm -rf '$build'" EXIT
    say "Building helm v$HELM_VERSION (helm.sh/helm/v4/cmd/helm) from Go's module proxy (a few minutes on 2 cores the first time)"
    say "  compiling (log: $log)"
    local pkg=helm.sh/helm/v4/internal/version
    local ldflags="-s -w -X $pkg.version=v$HELM_VERSION -X $pkg.gitTreeState=clean"
    # `go install pkg@version` builds the module by its own go.mod (helm.sh/helm/v4 has no
    # replace directives), outside any module of this repository; GOFLAGS is cleared so
    # none of the caller's flags (-mod=vendor, say) reaches it.
    if ! (cd "$build" && env GOBIN="$build/bin" CGO_ENABLED=0 GOFLAGS= \
        go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v4/cmd/helm@v$HELM_VERSION" >"$log" 2>&1); then
        tail -30 "$log" >&2
        die "building helm v$HELM_VERSION failed (see above; full log: $log)"
    fi
    local reported
    reported=$(helm_isolated "$build/bin/helm" version --short 2>&1) || true
    [ "$reported" = "v$HELM_VERSION" ] || die "the helm just built reports '$reported', not v$HELM_VERSION"
    # A smoke test: a local chart renders with empty homes (offline, no repositories).
    mkdir -p "$build/chart/templates"
    printf 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n' >"$build/chart/Chart.yaml"
    printf 'greeting: hello\n' >"$build/chart/values.yaml"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting }}\n' \
        >"$build/chart/templates/cm.yaml"
    helm_isolated "$build/bin/helm" template smoke "$build/chart" >"$build/smoke.yaml" 2>>"$log" &&
        grep -q '^  greeting: hello$' "$build/smoke.yaml" ||
        die "the helm just built cannot render a local chart (log: $log)"
    rm -rf "$dir/bin" && mv "$build/bin" "$dir/bin"
    printf 'built %s from helm.sh/helm/v4 v%s with %s, recipe %s\n' \
        "$(date -u +%FT%TZ)" "$HELM_VERSION" "$(go env GOVERSION)" "$HELM_RECIPE" >"$dir/BUILD-INFO"
    rm -rf "$build"
    trap - EXIT
    say "Built and cached in $dir/bin/helm ($((SECONDS - started))s)"
}
