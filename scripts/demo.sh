#!/usr/bin/env bash
# plumb's main job, as far as it exists today: a local Kubernetes control plane to deploy
# into, started from the project's own cached build. When the controller lands, this demo
# deploys a sample application from a local Git server and corrects drift live.
#
# Interactive: keeps the control plane up until Enter or Ctrl-C. With CI=true or no
# terminal on stdin: shows it working, then stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

bash scripts/provision.sh
say "Building plumb"
cargo build --locked --quiet -p plumb -p plumb-testkit

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plumb-demo.XXXXXX")
export PLUMB_TESTKIT_TMP=$RUN_DIR/scratch
trap 'stop_control_plane; rm -rf "$RUN_DIR"' EXIT

say "Starting a local control plane (etcd, kube-apiserver, kube-controller-manager v1.20.2)"
start_control_plane "$RUN_DIR"

say "It is a real API server: server-side apply with field manager plumb"
kubectl apply --server-side --field-manager=plumb -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
YAML
for _ in $(seq 50); do
    kubectl -n demo get replicasets -o name 2>/dev/null | grep -q . && break
    sleep 0.2
done
kubectl -n demo get deployments,replicasets,pods
target/debug/plumb --version

if [ "${CI:-}" != "true" ] && [ -t 0 ]; then
    say "Control plane is up. In another shell:  export KUBECONFIG=$KUBECONFIG"
    read -r -p "Press Enter to stop it. " _ || true
fi
say "Stopping"
