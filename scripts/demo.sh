#!/usr/bin/env bash
# plumb's main job on a local control plane built by the project: a Git repository of
# Kustomize overlays (dev and prod, with a SOPS-encrypted Secret) is served by a real git
# daemon; `plumb controller` keeps two Applications matching it. The demo shows the first
# sync, a hand-made change corrected in under a second, drift reported with who made it
# while suspended, a promotion commit, a rollback by `git revert`, and a prune — the pushes
# reach the controller by themselves (a signed webhook, as GitHub sends it, and the poll),
# and the demo prints the time from each push to the commit being applied.
#
# Where the controller runs: inside the cluster when this machine can run a real node (root,
# and the node's parts from provisioning: kubelet, containerd, runc) — plumb's image is built
# by scripts/image.sh, installed with `plumb install --image`, and the shop's Pods really run
# (a small web image built here from busybox). Otherwise (or with PLUMB_DEMO_NODE=0) the
# controller runs outside the cluster and a stand-in kubelet marks Pods Ready so health can
# turn Healthy — nothing actually runs.
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
testkit() { target/debug/plumb-testkit "$@"; }
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
# build_web_image VERSION: the shop's web image, an OCI archive of busybox's httpd serving a
# page that names its version on :8080 (no registry is reachable here, so the node imports it).
build_web_image() {
    local version=$1 root=$RUN_DIR/images/web-$1
    mkdir -p "$root/bin" "$root/www"
    cp /bin/busybox "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    echo "shop web $version" >"$root/www/index.html"
    SOURCE_DATE_EPOCH=0 python3 scripts/oci-archive --layer "$root" \
        --name "registry.example.com/shop/web:$version" --output "$root.tar" \
        --entrypoint '["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]' >/dev/null
    echo "$root.tar"
}
# wait_for_file FILE PID WHAT LOG: until FILE is written, or die if PID stops first.
wait_for_file() {
    while [ ! -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$3 failed to start (log above)"; }
        sleep 0.2
    done
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
NODE_PID=
cleanup() {
    # The node first: it stops the containers and deletes its Node while the API server runs.
    for pid in $NODE_PID $CONTROLLER_PID $GIT_DAEMON_PID $REMOTE_PLANE_PID; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    stop_control_plane
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT

IN_CLUSTER=false
if [ "${PLUMB_DEMO_NODE:-1}" = 0 ]; then
    say "PLUMB_DEMO_NODE=0: the controller runs outside the cluster"
elif why=$(testkit node --check); then
    IN_CLUSTER=true
else
    say "${why}: the controller runs outside the cluster, Pods are marked Ready by a stand-in"
fi
if $IN_CLUSTER; then
    say "Building plumb's image (scripts/image.sh, from this build) and the shop's web images"
    mkdir -p "$RUN_DIR/images"
    bash scripts/image.sh --binary target/debug/plumb --name plumb.demo/plumb:dev \
        --output "$RUN_DIR/images/plumb.tar" 2>&1 | sed 's/^/    /'
    WEB_IMAGES=("$(build_web_image 1.1.0)" "$(build_web_image 1.2.0)")
fi

say "Starting a local control plane (etcd, kube-apiserver, kube-controller-manager)"
if $IN_CLUSTER; then start_control_plane "$RUN_DIR"; else start_control_plane "$RUN_DIR" --kubelet; fi
# The second cluster (prod-eu, registered near the end) starts now, beside the first.
mkdir -p "$RUN_DIR/prod-eu"
testkit control-plane --info "$RUN_DIR/prod-eu/cluster.json" --kubelet \
    2>"$RUN_DIR/prod-eu/control-plane.log" &
REMOTE_PLANE_PID=$!

say "Serving the demo's Git repository (examples/shop) with git daemon on loopback"
mkdir -p "$RUN_DIR/git"
git init --quiet --bare --initial-branch=main "$RUN_DIR/git/shop.git"
start_git_daemon "$RUN_DIR/git"
# Pushes go to the daemon on loopback; the controller fetches from REPO_URL, which is the
# same daemon as seen from a Pod when the controller runs in the cluster.
PUSH_URL=$GIT_DAEMON_URL/shop.git
REPO_URL=$PUSH_URL
wait_for_file "$RUN_DIR/prod-eu/cluster.json" "$REMOTE_PLANE_PID" "the prod-eu control plane" \
    "$RUN_DIR/prod-eu/control-plane.log"
remote() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$RUN_DIR/prod-eu/cluster.json" "$1"; }
REMOTE_SERVER=$(remote server)

if $IN_CLUSTER; then
    say "Starting a real node: containerd, runc, a kubelet and kube-scheduler; it imports the images"
    # Pods reach the git daemon and prod-eu's API server at the node's address.
    testkit node --cluster "$PLUMB_TEST_CLUSTER" --info "$RUN_DIR/node.json" \
        --import "$RUN_DIR/images/plumb.tar" --import "${WEB_IMAGES[0]}" --import "${WEB_IMAGES[1]}" \
        --expose "${GIT_DAEMON_URL##*:}" --expose "${REMOTE_SERVER##*:}" 2>"$RUN_DIR/node.log" &
    NODE_PID=$!
    wait_for_file "$RUN_DIR/node.json" "$NODE_PID" "the node" "$RUN_DIR/node.log"
    NODE_IP=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["host_ip"])' "$RUN_DIR/node.json")
    NODE_DIR=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["dir"])' "$RUN_DIR/node.json")
    REPO_URL=${PUSH_URL/127.0.0.1/$NODE_IP}
    show kubectl get nodes -o wide
fi
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
    git push --quiet "$PUSH_URL" main)

step "What prod renders to — Kustomize rendered natively, the Secret decrypted and masked"
plumb render "$WORK/envs/prod" --age-key-file "$RUN_DIR/demo.agekey"

step "The controller's namespace: the age key and the webhook key go into Secrets there"
kubectl create namespace plumb-demo
kubectl -n plumb-demo create secret generic sops-age --from-file=demo.agekey="$RUN_DIR/demo.agekey"
# The key the Git host signs push events with, under the provider's name in the Secret
# plumb-webhooks of the controller's namespace.
WEBHOOK_KEY=$(openssl rand -hex 20)
kubectl -n plumb-demo create secret generic plumb-webhooks --from-literal=github="$WEBHOOK_KEY"

if $IN_CLUSTER; then
step "Install plumb in the cluster from its image; its Pod starts on the node and becomes Ready"
# plumb-demo is the controller's namespace, so an admin namespace: it holds the operators'
# Applications (which create the shop-dev and shop-prod namespaces). git:// from a Pod is
# plain text beyond loopback, which must be allowed.
plumb install --image plumb.demo/plumb:dev --install-namespace plumb-demo --replicas 1 \
    --controller-arg=--allow-plain-text-sources --apply
show kubectl -n plumb-demo rollout status deployment/plumb-controller --timeout=180s
show kubectl -n plumb-demo get pods -o wide
# No kube-proxy on this node: the API is reached at the Pod's address (in a real cluster:
# kubectl -n plumb-demo port-forward service/plumb 8080:80).
SERVER=$(kubectl -n plumb-demo get pods -l app.kubernetes.io/name=plumb \
    -o jsonpath='{.items[0].status.podIP}'):8080
CONTROLLER_LOG="$NODE_DIR/pod-logs/plumb-demo_plumb-controller-*/controller/0.log"
echo "    log: $CONTROLLER_LOG; API, webhooks and metrics: http://$SERVER"
else
step "Install the Application CRD and start the controller (outside the cluster, with this kubeconfig)"
plumb install --crds-only --apply
SERVER=127.0.0.1:$(free_port)
# plumb-demo is the controller's namespace here (POD_NAMESPACE, as in a Pod): its webhook
# Secret lives there, and it holds the operators' Applications (they create the shop-dev
# and shop-prod namespaces), so it is an admin namespace; a team's namespace would not be.
POD_NAMESPACE=plumb-demo target/debug/plumb controller --watch-namespace plumb-demo \
    --admin-namespace plumb-demo --cache-dir "$RUN_DIR/cache" --listen "$SERVER" \
    >"$RUN_DIR/controller.log" 2>&1 &
CONTROLLER_PID=$!
CONTROLLER_LOG=$RUN_DIR/controller.log
echo "    log: $CONTROLLER_LOG (pid $CONTROLLER_PID); API, webhooks and metrics: http://$SERVER"
fi

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
if $IN_CLUSTER; then
    show kubectl -n shop-prod get pods -o wide
    WEB_IP=$(kubectl -n shop-prod get pods -l app=web -o jsonpath='{.items[0].status.podIP}')
    show curl -fsS "http://$WEB_IP:8080/"
fi

step "Someone scales prod by hand: the controller sees the change and reverts it at once"
show kubectl -n shop-prod patch deployment web --type merge -p '{"spec":{"replicas":7}}'
sleep 1
show kubectl -n shop-prod get deployment web
show kubectl -n plumb-demo get events --field-selector reason=DriftCorrected

step "During an incident, suspend prod: drift is then reported, with who made it"
plumb suspend shop-prod -n plumb-demo
show kubectl -n shop-prod set image deployment/web web=registry.example.com/shop/web:1.1.0-debug
sleep 1
plumb get apps -n plumb-demo
plumb diff shop-prod -n plumb-demo || true

step "Resume: the hand-made change is reverted"
plumb resume shop-prod -n plumb-demo
echo "    prod runs $(image_of shop-prod)"

step "Promote dev's image to prod: a commit to envs/prod, pushed; the Git host's webhook tells plumb"
echo "    dev runs $(image_of shop-dev), prod runs $(image_of shop-prod)"
sed -i 's/newTag: 1.1.0/newTag: 1.2.0/' "$WORK/envs/prod/kustomization.yaml"
in_repo commit --quiet -am "prod: promote web 1.1.0 -> 1.2.0"
COMMIT=$(git -C "$WORK" rev-parse HEAD)
START=$(now_ms)
in_repo push --quiet "$PUSH_URL" main
deliver_push_webhook "$COMMIT"
until_applied shop-prod "$COMMIT" "$START"
echo "    prod runs $(image_of shop-prod)"

step "Roll back with git revert: the revert is a commit like any other, pushed and delivered"
in_repo revert --no-edit HEAD
COMMIT=$(git -C "$WORK" rev-parse HEAD)
START=$(now_ms)
in_repo push --quiet "$PUSH_URL" main
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
in_repo push --quiet "$PUSH_URL" main
until_applied shop-dev "$COMMIT" "$START"
show kubectl -n shop-dev get configmaps
plumb get app shop-dev -n plumb-demo
plumb history shop-dev -n plumb-demo   # the newest sync's trigger: Poll

step "A second cluster, prod-eu: registered in the hub as a Secret; plumb applies there, its credentials stay here"
REMOTE_KUBECONFIG=$(remote kubeconfig)
REMOTE_TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tokens"]["admin"])' "$RUN_DIR/prod-eu/cluster.json")
if $IN_CLUSTER; then
    # From a Pod, prod-eu's API server is at the node's address, which its certificate does
    # not name: the Secret holds a kubeconfig that checks the certificate for "kubernetes".
    python3 - "$REMOTE_SERVER" "$NODE_IP" "$(remote ca_file)" "$REMOTE_TOKEN" >"$RUN_DIR/prod-eu/kubeconfig-for-pods" <<'PY'
import base64, json, sys
server, node_ip, ca_file, token = sys.argv[1:]
cluster = {"server": server.replace("127.0.0.1", node_ip), "tls-server-name": "kubernetes",
           "certificate-authority-data": base64.b64encode(open(ca_file, "rb").read()).decode()}
print(json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": "prod-eu",
                  "clusters": [{"name": "prod-eu", "cluster": cluster}],
                  "users": [{"name": "prod-eu", "user": {"token": token}}],
                  "contexts": [{"name": "prod-eu", "context": {"cluster": "prod-eu", "user": "prod-eu"}}]}))
PY
    kubectl -n plumb-demo create secret generic prod-eu --from-file=kubeconfig="$RUN_DIR/prod-eu/kubeconfig-for-pods"
else
    kubectl -n plumb-demo create secret generic prod-eu --from-literal=server="$REMOTE_SERVER" \
        --from-literal=token="$REMOTE_TOKEN" --from-file=ca.crt="$(remote ca_file)"
fi
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
# /metrics answers tokens RBAC lets `get` it: the role `plumb install` makes (made here when
# only the CRDs were installed), bound to the demo's account.
$IN_CLUSTER || kubectl create clusterrole plumb-metrics-reader --verb=get --non-resource-url=/metrics
kubectl create clusterrolebinding demo-operator-metrics --clusterrole=plumb-metrics-reader \
    --serviceaccount=plumb-demo:demo-operator
show curl -fsS -H @"$RUN_DIR/auth-header" "http://$SERVER/metrics" | grep -E '^plumb_app_(sync|health)_status.*} 1$'

if interactive; then
    say "Everything is still up. In another shell:"
    cat <<EOF
    open http://$SERVER/ and log in with: $(cat "$RUN_DIR/token")
    export KUBECONFIG=$KUBECONFIG
    cd $WORK                          # a clone of the repository: edit, commit, git push $PUSH_URL main
    $PWD/target/debug/plumb get apps -n plumb-demo            # dev finds a push within 5 s by its poll
    $PWD/target/debug/plumb sync shop-prod -n plumb-demo      # prod: ask now, or wait for its 1-minute poll
    kubectl -n shop-prod delete service web                   # self-heal puts it back
    tail -f $CONTROLLER_LOG
EOF
    read -r -p "Press Enter to stop it all. " _ || true
fi
say "Stopping"
