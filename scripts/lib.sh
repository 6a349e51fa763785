# Shared by scripts/test.sh and scripts/demo.sh: messages, and a control plane that is
# started once, described in a file, and always stopped when the script exits.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# start_control_plane RUN_DIR: starts one in the background and waits until it is ready.
# Sets CONTROL_PLANE_PID and exports PLUMB_TEST_CLUSTER and KUBECONFIG.
start_control_plane() {
    local run_dir=$1 info=$1/cluster.json log=$1/control-plane.log
    target/debug/plumb-testkit control-plane --info "$info" 2>"$log" &
    CONTROL_PLANE_PID=$!
    while [ ! -s "$info" ]; do
        if ! kill -0 "$CONTROL_PLANE_PID" 2>/dev/null; then
            cat "$log" >&2
            die "the control plane failed to start (log above)"
        fi
        sleep 0.2
    done
    grep 'ready in' "$log" | sed 's/^plumb-testkit: /    /' >&2 || true
    export PLUMB_TEST_CLUSTER=$info
    KUBECONFIG=$(sed -n 's/^ *export KUBECONFIG=//p' "$log")
    export KUBECONFIG
}

# stop_control_plane: stops it (SIGTERM; it stops its components in order) and waits.
stop_control_plane() {
    if [ -n "${CONTROL_PLANE_PID:-}" ] && kill -0 "$CONTROL_PLANE_PID" 2>/dev/null; then
        kill -TERM "$CONTROL_PLANE_PID" 2>/dev/null || true
        wait "$CONTROL_PLANE_PID" 2>/dev/null || true
    fi
    CONTROL_PLANE_PID=
}

# leftover_processes RUN_DIR: live processes (not zombies) whose command line names RUN_DIR.
leftover_processes() {
    local run_dir=$1 pid
    for pid in $(pgrep -f -- "$run_dir" || true); do
        [ "$pid" = "$$" ] && continue
        if ! grep -qE '^[0-9]+ \(.*\) [ZX]' "/proc/$pid/stat" 2>/dev/null && [ -e "/proc/$pid" ]; then
            ps -o pid=,args= -p "$pid" 2>/dev/null || true
        fi
    done
}
