#!/usr/bin/env bash
# Fuzzes plumb's readers of hostile input — manifests, kustomizations and strategic merge,
# SOPS files, webhook deliveries, Application specs, Helm templates — for a bounded time
# each: builds the targets of fuzz/ with cargo-fuzz (libFuzzer, AddressSanitizer, debug
# assertions and overflow checks), runs each from its committed seeds, and fails if any
# crashes, panics, hangs past 10 s on one input or passes 2 GiB.
#
#   PLUMB_FUZZ_SECONDS   seconds per target (default 20)
#   PLUMB_FUZZ_TARGETS   which targets, space-separated (default: all, as `cargo fuzz list`)
#
# New inputs a run finds go to a scratch directory, never into fuzz/corpus/ (which holds
# only the hand-written seeds and the inputs of bugs found). A crash's input is kept in
# fuzz/artifacts/TARGET/ and printed in hex; reproduce it with
#   cargo +nightly fuzz run --debug-assertions --codegen-units 16 TARGET fuzz/artifacts/TARGET/crash-…
# The build goes to $PLUMB_FUZZ_TARGET_DIR (default: beside the other caches, outside the
# repository), so runs after the first rebuild only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

SECONDS_EACH=${PLUMB_FUZZ_SECONDS:-20}
CACHE_DIR=${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumb}
# The version scripts/provision.sh installs.
CARGO_FUZZ_VERSION=0.13.2
export PATH=$CACHE_DIR/cargo-fuzz-$CARGO_FUZZ_VERSION/bin:$PATH
export CARGO_TARGET_DIR=${PLUMB_FUZZ_TARGET_DIR:-$CACHE_DIR/fuzz-target}
# The same flags for the build and every run, so a run never rebuilds.
BUILD_FLAGS=(--debug-assertions --codegen-units 16)

[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || die "PLUMB_FUZZ_SECONDS must be a whole number of seconds, not '$SECONDS_EACH'"
rustup run nightly rustc --version >/dev/null 2>&1 ||
    die "the fuzz targets need a nightly Rust toolchain (libFuzzer and the sanitizers are nightly-only) and there is none: install it with 'rustup toolchain install nightly'"
cargo-fuzz --version 2>/dev/null | grep -q "cargo-fuzz $CARGO_FUZZ_VERSION" ||
    die "cargo-fuzz $CARGO_FUZZ_VERSION is missing: run 'bash scripts/provision.sh' (it installs it into $CACHE_DIR/cargo-fuzz-$CARGO_FUZZ_VERSION), or 'cargo install --locked cargo-fuzz --version $CARGO_FUZZ_VERSION'"

started=$SECONDS
cargo fmt --manifest-path fuzz/Cargo.toml --check
# fuzz/ is its own workspace: its lock file must hold, as the root one must for `--locked`.
cargo +nightly metadata --locked --offline --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null 2>&1 ||
    cargo +nightly metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null ||
    die "fuzz/Cargo.lock is out of date: run 'cargo +nightly metadata --manifest-path fuzz/Cargo.toml' and commit it"
say "Building the fuzz targets (cargo-fuzz $CARGO_FUZZ_VERSION, $(rustup run nightly rustc --version))"
(cd fuzz && nice -n 10 cargo +nightly fuzz build "${BUILD_FLAGS[@]}")
built=$((SECONDS - started))

read -r -a targets <<<"${PLUMB_FUZZ_TARGETS:-$(cd fuzz && cargo +nightly fuzz list | tr '\n' ' ')}"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plumb-fuzz.XXXXXX")
trap 'rm -rf "$RUN_DIR"' EXIT

failed=()
report=()
for target in "${targets[@]}"; do
    [ -d "fuzz/corpus/$target" ] || die "fuzz target $target has no seeds in fuzz/corpus/$target"
    scratch=$RUN_DIR/corpus/$target
    log=$RUN_DIR/$target.log
    mkdir -p "$scratch" "$RUN_DIR/tmp"
    say "Fuzzing $target for ${SECONDS_EACH}s"
    target_started=$SECONDS
cargo fmt --manifest-path fuzz/Cargo.toml --check
    status=0
    # Targets that write files (the kustomization's repository) write them under RUN_DIR.
    (cd fuzz && TMPDIR=$RUN_DIR/tmp cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$target" \
        "$scratch" "corpus/$target" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -close_fd_mask=1) >"$log" 2>&1 || status=$?
    took=$((SECONDS - target_started))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    coverage=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 |
        sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/\1 edges, \2 features/')
    line=$(printf '%-16s %9s runs  %-26s %4ss' "$target" "${runs:-?}" "${coverage:-coverage ?}" "$took")
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        report+=("$line  FAILED")
        grep -E '^(thread .* panicked|==[0-9]+==ERROR|SUMMARY|ALARM|Deadly signal|Test unit written)' "$log" >&2 || tail -n 40 "$log" >&2
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        case $artifact in /* | '') ;; *) artifact=fuzz/$artifact ;; esac
        if [ -n "$artifact" ] && [ -f "$artifact" ]; then
            printf 'the input (hex), kept in %s:\n' "$artifact" >&2
            od -An -tx1 -v "$artifact" | head -n 64 >&2
        fi
    else
        report+=("$line  ok")
    fi
done

say "Fuzzing results (${SECONDS_EACH}s per target; build ${built}s; total $((SECONDS - started))s)"
printf '  %s\n' "${report[@]}" >&2
[ ${#failed[@]} -eq 0 ] || die "fuzz targets failed: ${failed[*]} (inputs in fuzz/artifacts/)"
