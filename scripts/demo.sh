#!/usr/bin/env bash
# plumb's main job on a local control plane built by the project: a Git repository of
# Kustomize overlays (dev and prod, with a SOPS-encrypted Secret) is served by a real git
# daemon; `plumb controller` keeps two Applications matching it. The demo shows the first
# sync, a hand-made change corrected in under a second, drift reported with who made it
# while suspended, a promotion commit, a rollback by `git revert`, and a prune — the pushes
# reach the controller by themselves (a signed webhook, as GitHub sends it, and the poll),
# and the demo prints the time from each push to the commit being applied.
#
# The controller runs outside the cluster (the local control plane has no nodes to run its
# Deployment; `plumb install` prints that Deployment for a real cluster). A stand-in
# kubelet marks Pods Ready so health can turn Healthy — nothing actually runs.
#
# Interactive: pauses between steps and keeps everything up at the end until Enter.
# With CI=true or no terminal on stdin: runs straight through, then stops.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

interactive() { [ "${CI:-}" != "true" ] && [ -t 0 ]; }
step() {
    say "$*"
    if interactive; then read -r -p "    (Enter to run) " _ || true; fi
}
show() {
    printf '\033[2m$ %s\033[0m\n' "$*" >&2
    "$@"
}
plumb() { show target/debug/plumb "$@"; }
in_repo() { (cd "$WORK" && show git "$@"); }
# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Waits until APP has applied COMMIT (status.sync.lastAppliedRevision, watched by kubectl
# wait) and prints the time since START_MS.
until_applied() {
    local app=$1 commit=$2 start_ms=$3
    kubectl -n plumb-demo wait "application/$app" --timeout=120s \
        --for=jsonpath='{.status.sync.lastAppliedRevision}'="$commit" >/dev/null
    echo "    push → applied by $app: $(($(now_ms) - start_ms)) ms (measured by this script from before its git push)"
}
# Delivers a push event for COMMIT to the controller as GitHub does: the JSON body signed
# with HMAC-SHA256 under the shared secret, in X-Hub-Signature-256.
deliver_push_webhook() {
    local commit=$1 body signature
    body=$(printf '{"ref":"refs/heads/main","after":"%s","repository":{"clone_url":"%s"}}' "$commit" "$REPO_URL")
    signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_KEY" -r | cut -d' ' -f1)
    show curl -fsS -X POST "http://$SERVER/api/v1/webhooks/github" -H 'Content-Type: application/json' \
        -H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: sha256=$signature" --data "$body"
    echo
}
image_of() { kubectl -n "$1" get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}'; }

bash scripts/provision.sh
say "Building plumb"
cargo build --locked --quiet -p plumb -p plumb-testkit

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plumb-demo.XXXXXX")
export PLUMB_TESTKIT_TMP=$RUN_DIR/scratch
CONTROLLER_PID=
GIT_DAEMON_PID=
REMOTE_PLANE_PID=
cleanup() {
    for pid in $CONTROLLER_PID $GIT_DAEMON_PID $REMOTE_PLANE_PID; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    stop_control_plane
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT

say "Starting a local control plane (etcd, kube-apiserver, kube-controller-manager)"
start_control_plane "$RUN_DIR" --kubelet

say "Serving the demo's Git repository (examples/shop) with git daemon on loopback"
mkdir -p "$RUN_DIR/git"
git init --quiet --bare --initial-branch=main "$RUN_DIR/git/shop.git"
start_git_daemon "$RUN_DIR/git"
REPO_URL=$GIT_DAEMON_URL/shop.git
WORK=$RUN_DIR/shop
cp -r examples/shop "$WORK"
export GIT_AUTHOR_NAME="Dana Developer" GIT_AUTHOR_EMAIL=dana@example.com
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
age-keygen -o "$RUN_DIR/demo.agekey" 2>/dev/null
RECIPIENT=$(age-keygen -y "$RUN_DIR/demo.agekey")

step "Encrypt prod's Secret with SOPS (age) before it ever reaches Git"
plumb secrets encrypt --age "$RECIPIENT" --encrypted-regex '^(data|stringData)$' \
    --in-place "$WORK/envs/prod/secret.yaml"
sed -n '1,12p' "$WORK/envs/prod/secret.yaml"
(cd "$WORK" && git init --quiet --initial-branch=main && git add -A &&
    git commit --quiet -m "shop: base, dev and prod overlays" &&
    git push --quiet "$REPO_URL" main)

step "What prod renders to — Kustomize rendered natively, the Secret decrypted and masked"
plumb render "$WORK/envs/prod" --age-key-file "$RUN_DIR/demo.agekey"

step "Install the Application CRD; the age key goes into a Secret beside the Applications"
plumb install --crds-only --apply
kubectl create namespace plumb-demo
kubectl -n plumb-demo create secret generic sops-age --from-file=demo.agekey="$RUN_DIR/demo.agekey"

step "Start the controller (outside the cluster, with this kubeconfig), with a webhook secret"
SERVER=127.0.0.1:$(free_port)
# The key the Git host signs push events with, under the provider's name in the Secret
# plumb-webhooks of the controller's namespace.
WEBHOOK_KEY=$(openssl rand -hex 20)
kubectl -n plumb-demo create secret generic plumb-webhooks --from-literal=github="$WEBHOOK_KEY"
# plumb-demo is the controller's namespace here (POD_NAMESPACE, as in a Pod): its webhook
# Secret lives there, and it holds the operators' Applications (they create the shop-dev
# and shop-prod namespaces), so it is an admin namespace; a team's namespace would not be.
POD_NAMESPACE=plumb-demo target/debug/plumb controller --watch-namespace plumb-demo \
    --admin-namespace plumb-demo --cache-dir "$RUN_DIR/cache" --listen "$SERVER" \
    >"$RUN_DIR/controller.log" 2>&1 &
CONTROLLER_PID=$!
echo "    log: $RUN_DIR/controller.log (pid $CONTROLLER_PID); API, webhooks and metrics: http://$SERVER"

step "Two Applications, made with plumb app create: shop-dev, and shop-prod that waits for dev"
# Dev polls Git every 5 s (shortened for the demo; the default is 3m): one push below
# reaches it that way. Prod hears of pushes through the webhook.
plumb app create shop-dev -n plumb-demo --repo "$REPO_URL" --revision main --path envs/dev \
    --auto-sync --prune --self-heal --interval 5s
plumb app create shop-prod -n plumb-demo --repo "$REPO_URL" --revision main --path envs/prod \
    --auto-sync --prune --self-heal --interval 1m --sops-secret sops-age --depends-on shop-dev
plumb sync shop-dev -n plumb-demo
plumb sync shop-prod -n plumb-demo
plumb get apps -n plumb-demo
show kubectl -n shop-prod get deployments,services,configmaps,secrets

step "Someone scales prod by hand: the controller sees the change and reverts it at once"
show kubectl -n shop-prod patch deployment web --type merge -p '{"spec":{"replicas":7}}'
sleep 1
show kubectl -n shop-prod get deployment web
show kubectl -n plumb-demo get events --field-selector reason=DriftCorrected

step "During an incident, suspend prod: drift is then reported, with who made it"
plumb suspend shop-prod -n plumb-demo
show kubectl -n shop-prod set image deployment/web web=nginx:1.27.2-debug
sleep 1
plumb get apps -n plumb-demo
plumb diff shop-prod -n plumb-demo || true

step "Resume: the hand-made change is reverted"
plumb resume shop-prod -n plumb-demo
echo "    prod runs $(image_of shop-prod)"

step "Promote dev's image to prod: a commit to envs/prod, pushed; the Git host's webhook tells plumb"
echo "    dev runs $(image_of shop-dev), prod runs $(image_of shop-prod)"
sed -i 's/newTag: 1.27.2/newTag: 1.27.3/' "$WORK/envs/prod/kustomization.yaml"
in_repo commit --quiet -am "prod: promote nginx 1.27.2 -> 1.27.3"
COMMIT=$(git -C "$WORK" rev-parse HEAD)
START=$(now_ms)
in_repo push --quiet "$REPO_URL" main
deliver_push_webhook "$COMMIT"
until_applied shop-prod "$COMMIT" "$START"
echo "    prod runs $(image_of shop-prod)"

step "Roll back with git revert: the revert is a commit like any other, pushed and delivered"
in_repo revert --no-edit HEAD
COMMIT=$(git -C "$WORK" rev-parse HEAD)
START=$(now_ms)
in_repo push --quiet "$REPO_URL" main
deliver_push_webhook "$COMMIT"
until_applied shop-prod "$COMMIT" "$START"
echo "    prod runs $(image_of shop-prod)"
plumb history shop-prod -n plumb-demo

step "A file leaves Git: its object is pruned — this push has no webhook; dev's 5 s poll finds it"
in_repo rm --quiet envs/dev/flags.yaml
sed -i '/^- flags.yaml$/d' "$WORK/envs/dev/kustomization.yaml"
in_repo commit --quiet -am "dev: the new checkout is the default; drop its flag"
COMMIT=$(git -C "$WORK" rev-parse HEAD)
START=$(now_ms)
in_repo push --quiet "$REPO_URL" main
until_applied shop-dev "$COMMIT" "$START"
show kubectl -n shop-dev get configmaps
plumb get app shop-dev -n plumb-demo
plumb history shop-dev -n plumb-demo   # the newest sync's trigger: Poll

step "A second cluster, prod-eu: registered in the hub as a Secret; plumb applies there, its credentials stay here"
mkdir -p "$RUN_DIR/prod-eu"
target/debug/plumb-testkit control-plane --info "$RUN_DIR/prod-eu/cluster.json" --kubelet \
    2>"$RUN_DIR/prod-eu/control-plane.log" &
REMOTE_PLANE_PID=$!
while [ ! -s "$RUN_DIR/prod-eu/cluster.json" ]; do
    kill -0 "$REMOTE_PLANE_PID" 2>/dev/null || die "the prod-eu control plane failed to start"
    sleep 0.2
done
remote() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$RUN_DIR/prod-eu/cluster.json" "$1"; }
REMOTE_KUBECONFIG=$(remote kubeconfig)
kubectl -n plumb-demo create secret generic prod-eu --from-literal=server="$(remote server)" \
    --from-literal=token="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tokens"]["admin"])' "$RUN_DIR/prod-eu/cluster.json")" \
    --from-file=ca.crt="$(remote ca_file)"
kubectl -n plumb-demo label secret prod-eu plumb.dev/cluster=true
plumb app create shop-prod-eu -n plumb-demo --repo "$REPO_URL" --revision main --path envs/prod \
    --dest-cluster prod-eu --auto-sync --prune --self-heal --interval 1m --sops-secret sops-age
plumb sync shop-prod-eu -n plumb-demo
show kubectl --kubeconfig "$REMOTE_KUBECONFIG" -n shop-prod get deployments,services
show kubectl --kubeconfig "$REMOTE_KUBECONFIG" -n shop-prod patch deployment web --type merge -p '{"spec":{"replicas":9}}'
sleep 1
show kubectl --kubeconfig "$REMOTE_KUBECONFIG" -n shop-prod get deployment web   # put back from the hub
for _ in $(seq 60); do
    target/debug/plumb get clusters --controller-namespace plumb-demo | grep -q '^prod-eu .* yes ' && break
    sleep 1
done
plumb get clusters --controller-namespace plumb-demo

step "The dashboard and API: a token from a ServiceAccount that may operate the demo's apps"
kubectl -n plumb-demo create serviceaccount demo-operator
kubectl -n plumb-demo create role demo-operator --verb=get,list,watch,patch --resource=applications.plumb.dev
kubectl -n plumb-demo create rolebinding demo-operator --role=demo-operator \
    --serviceaccount=plumb-demo:demo-operator
TOKEN=$(kubectl -n plumb-demo create token demo-operator --audience plumb --duration=24h)
[ -n "$TOKEN" ] || die "no token was issued for the demo-operator ServiceAccount"
printf '%s\n' "$TOKEN" >"$RUN_DIR/token"
printf 'Authorization: Bearer %s\n' "$TOKEN" >"$RUN_DIR/auth-header"
show curl -fsS -H @"$RUN_DIR/auth-header" "http://$SERVER/api/v1/applications" | python3 -m json.tool | sed -n '1,14p'
echo "    dashboard: http://$SERVER/   (log in with the token in $RUN_DIR/token)"
# /metrics answers tokens RBAC lets `get` it: the role `plumb install` makes, bound to the demo's account.
kubectl create clusterrole plumb-metrics-reader --verb=get --non-resource-url=/metrics
kubectl create clusterrolebinding demo-operator-metrics --clusterrole=plumb-metrics-reader \
    --serviceaccount=plumb-demo:demo-operator
show curl -fsS -H @"$RUN_DIR/auth-header" "http://$SERVER/metrics" | grep -E '^plumb_app_(sync|health)_status.*} 1$'

if interactive; then
    say "Everything is still up. In another shell:"
    cat <<EOF
    open http://$SERVER/ and log in with: $(cat "$RUN_DIR/token")
    export KUBECONFIG=$KUBECONFIG
    cd $WORK                          # a clone of the repository: edit, commit, git push $REPO_URL main
    $PWD/target/debug/plumb get apps -n plumb-demo            # dev finds a push within 5 s by its poll
    $PWD/target/debug/plumb sync shop-prod -n plumb-demo      # prod: ask now, or wait for its 1-minute poll
    kubectl -n shop-prod delete service web                   # self-heal puts it back
    tail -f $RUN_DIR/controller.log
EOF
    read -r -p "Press Enter to stop it all. " _ || true
fi
say "Stopping"
