#!/usr/bin/env bash
# Runs every check of plumb — formatting, lints, unit tests and the integration tests
# against a real control plane and real git servers, and a bounded run of each fuzz target
# (scripts/fuzz.sh) — provisioning what is missing first.
#
# Two Kubernetes releases are proven: the whole suite runs against the current one
# (1.37.2), then every story that talks to a cluster runs again against the oldest
# supported (1.20.2). One control plane at a time serves all test binaries (they find it
# through PLUMB_TEST_CLUSTER); every process of the run is stopped at the end, and the run
# fails if one survives.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

started=$SECONDS
bash scripts/provision.sh
# The real sops that the SOPS compatibility tests run against (installed by provisioning).
export PLUMB_SOPS=${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumb}/tools/bin/sops
# The real helm v4.3.2 that the Helm oracle tests render against (built by provisioning).
export PLUMB_HELM=${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumb}/helm-4.3.2/bin/helm
# schemathesis, which runs the API against its OpenAPI description (installed by provisioning).
export PLUMB_SCHEMATHESIS=${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumb}/schemathesis-4.32.5/bin/schemathesis

say "Checking formatting (cargo fmt)"
cargo fmt --all --check

say "Checking that modules and crates import one way (no cycles, no crate reaching up the flow)"
python3 scripts/check-module-cycles

say "Building the workspace and its tests"
cargo build --workspace --all-targets --locked

say "Linting (cargo clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plumb-test-run.XXXXXX")
export PLUMB_TESTKIT_TMP=$RUN_DIR/scratch

finish() {
    local status=$?
    stop_control_plane
    local leftovers
    leftovers=$(leftover_processes "$RUN_DIR")
    if [ -n "$leftovers" ]; then
        printf 'test.sh: processes of this run survived it:\n%s\n' "$leftovers" >&2
        status=1
    else
        say "No process of this run remains"
    fi
    rm -rf "$RUN_DIR"
    exit "$status"
}
trap finish EXIT

say "Starting the shared control plane (current release)"
PLUMB_K8S_VERSION=current start_control_plane "$RUN_DIR/current"

say "Running the tests against the current release"
cargo test --workspace --locked

say "Building plumb's image from the debug binary (scripts/image.sh) for the in-cluster story"
export PLUMB_TEST_IMAGE=$RUN_DIR/plumb-image.tar PLUMB_TEST_IMAGE_REF=plumb.test/plumb:dev
bash scripts/image.sh --binary target/debug/plumb --name "$PLUMB_TEST_IMAGE_REF" --output "$PLUMB_TEST_IMAGE"
say "Running the in-cluster story alone: a real node (kubelet, containerd, runc) runs plumb's image"
cargo test --locked -p plumb --test plumb_runs_inside_the_cluster -- --ignored
rm -f "$PLUMB_TEST_IMAGE"

say "Fuzzing each parser for a bounded time"
bash scripts/fuzz.sh

say "Running a small benchmark, to keep the benchmarks working (figures are not checked)"
cargo run --locked --quiet -p plumb-bench --bin render-directory -- --objects 300 --trials 1 --baseline-trials 1
cargo run --locked --quiet -p plumb-bench --bin source-fetch -- --files 500 --commits 50 --trials 1
cargo run --locked --quiet -p plumb-bench --bin controller-latency -- --trials 3 --apps 3 --objects 3 --remote-cluster 1
cargo run --locked --quiet -p plumb-bench --bin fleet -- --apps 20 --trials 1
cargo run --locked --quiet -p plumb-bench --bin big-app -- --objects 200 --repeats 2
cargo run --locked --quiet -p plumb-bench --bin engine-sync -- --objects 100 --trials 1
cargo run --locked --quiet -p plumb-bench --bin kustomize-render -- --objects 300 --trials 1 --baseline-trials 1
cargo run --locked --quiet -p plumb-bench --bin helm-render -- --files 20 --trials 1 --baseline-trials 1
cargo run --locked --quiet -p plumb-bench --bin soak -- --seconds 30 --apps 3 --objects 3

stop_control_plane
say "Starting the shared control plane (oldest supported release)"
PLUMB_K8S_VERSION=oldest start_control_plane "$RUN_DIR/oldest"
say "Running the stories that talk to a cluster against the oldest supported release"
cargo test --locked -p plumb-testkit -p plumb-engine -p plumb --test '*'
stop_control_plane

say "Running the demo straight through, to keep it working (its own control plane)"
if ! CI=true bash scripts/demo.sh >"$RUN_DIR/demo.log" 2>&1; then
    tail -n 60 "$RUN_DIR/demo.log" >&2
    die "the demo failed (last lines above)"
fi

say "All checks passed in $((SECONDS - started))s"
