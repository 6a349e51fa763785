#!/usr/bin/env bash
# plumb's main job, as far as it exists today, on a local control plane built by the
# project: render a directory of manifests, diff it against the cluster, apply it, see a
# hand-made change show up as drift and be reverted, and prune what left the directory.
# (When the controller lands, it does this continuously from Git; this is push mode.)
#
# Interactive: pauses between steps and keeps the control plane up at the end until
# Enter. With CI=true or no terminal on stdin: runs straight through, then stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

interactive() { [ "${CI:-}" != "true" ] && [ -t 0 ]; }
step() {
    say "$*"
    if interactive; then read -r -p "    (Enter to run) " _ || true; fi
}
plumb() {
    printf '\033[2m$ plumb %s\033[0m\n' "$*" >&2
    local status=0
    target/debug/plumb "$@" || status=$?
    printf '\033[2m(exit code %s)\033[0m\n' "$status" >&2
}

bash scripts/provision.sh
say "Building plumb"
cargo build --locked --quiet -p plumb -p plumb-testkit

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plumb-demo.XXXXXX")
export PLUMB_TESTKIT_TMP=$RUN_DIR/scratch
trap 'stop_control_plane; rm -rf "$RUN_DIR"' EXIT

say "Starting a local control plane (etcd, kube-apiserver, kube-controller-manager v1.20.2)"
start_control_plane "$RUN_DIR"
# A working copy of the example, standing in for a Git checkout.
cp -r examples/hello "$RUN_DIR/hello"
APP=(--root "$RUN_DIR" --app hello -n hello)

step "What the directory renders to (the Secret's value is masked)"
plumb render hello --root "$RUN_DIR"

step "What applying it would change (exit code 1: differences)"
plumb diff hello "${APP[@]}"

step "Apply it: Namespace first, then config, then workloads — all with field manager plumb"
plumb apply hello "${APP[@]}"
kubectl -n hello get deployments,replicasets,services,configmaps,secrets

step "Someone scales the Deployment by hand: plumb diff shows the drift"
kubectl -n hello scale deployment hello --replicas=5
plumb diff hello "${APP[@]}"

step "Apply again: the drift is reverted"
plumb apply hello "${APP[@]}"
kubectl -n hello get deployment hello

step "The Service leaves the directory: apply --prune deletes it"
rm "$RUN_DIR/hello/service.yaml"
plumb apply hello "${APP[@]}" --prune
kubectl -n hello get services

step "Nothing left to do: diff exits 0"
plumb diff hello "${APP[@]}" --prune

if interactive; then
    say "The control plane is still up. In another shell:  export KUBECONFIG=$KUBECONFIG"
    read -r -p "Press Enter to stop it. " _ || true
fi
say "Stopping"
