#!/usr/bin/env bash
# Warm start of the test control plane (binaries already cached): wall time from starting
# `plumb-testkit control-plane` until the API server is ready and the controller-manager
# has made the default ServiceAccount token. Median over TRIALS runs (default 5).
#
#   bash bench/control-plane-start.sh [TRIALS]
#   PLUMB_K8S_VERSION=oldest bash bench/control-plane-start.sh   # 1.20.2 instead of 1.37.2
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-5}
bash scripts/provision.sh 2>/dev/null
cargo build --locked --quiet -p plumb-testkit
times=()
for i in $(seq "$trials"); do
    t=$(target/debug/plumb-testkit control-plane --exit-when-ready 2>/dev/null | sed -n 's/^ready_seconds //p')
    times+=("$t")
    printf 'trial %d: %ss\n' "$i" "$t"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(printf '%s\n' "$sorted" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
printf 'control-plane warm start (%s release): median %ss over %d trials (min %s, max %s)\n' \
    "${PLUMB_K8S_VERSION:-current}" "$median" "$trials" "$(printf '%s\n' "$sorted" | head -1)" "$(printf '%s\n' "$sorted" | tail -1)"
