# Shared by scripts/test.sh and scripts/demo.sh: messages, and a control plane that is
# started once, described in a file, and always stopped when the script exits.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# start_control_plane RUN_DIR [ARGS...]: starts one in the background and waits until it
# is ready; ARGS go to `plumb-testkit control-plane` (e.g. --kubelet). The release is the
# one PLUMB_K8S_VERSION names (`current` when unset, or `oldest`).
# Sets CONTROL_PLANE_PID and exports PLUMB_TEST_CLUSTER and KUBECONFIG.
start_control_plane() {
    local run_dir=$1 info=$1/cluster.json log=$1/control-plane.log
    shift
    mkdir -p "$run_dir"
    target/debug/plumb-testkit control-plane --info "$info" "$@" 2>"$log" &
    CONTROL_PLANE_PID=$!
    while [ ! -s "$info" ]; do
        if ! kill -0 "$CONTROL_PLANE_PID" 2>/dev/null; then
            cat "$log" >&2
            die "the control plane failed to start (log above)"
        fi
        sleep 0.2
    done
    grep -E 'starting|ready in' "$log" | sed 's/^plumb-testkit: /    /' >&2 || true
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

# free_port: a TCP port on loopback that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_git_daemon BASE_DIR: serves the bare repositories under BASE_DIR on git:// (loopback,
# push allowed). Sets GIT_DAEMON_PID and GIT_DAEMON_URL (git://127.0.0.1:PORT).
start_git_daemon() {
    local base=$1 port
    port=$(free_port)
    git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$base" \
        --export-all --enable=receive-pack --informative-errors "$base" 2>"$base.log" &
    GIT_DAEMON_PID=$!
    GIT_DAEMON_URL=git://127.0.0.1:$port
    local tries=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -lt 50 ] || die "git daemon did not start: $(cat "$base.log")"
        sleep 0.1
    done
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
