#!/usr/bin/env bash
# Builds plumb's container image without Docker: a minimal Debian bookworm root with what
# plumb's source crate calls (git, ssh, gpg, the CA certificates), plus the release binary,
# written as an OCI image archive.
#
#   bash scripts/image.sh [--binary PATH] [--name REF] [--output FILE]
#
# Defaults: builds `cargo build --release -p plumb`; REF ghcr.io/plumb-dev/plumb:VERSION;
# FILE target/plumb-image.tar (under $CARGO_TARGET_DIR when set). Push it with
#   skopeo copy oci-archive:target/plumb-image.tar docker://REGISTRY/plumb:VERSION
# or load it on a node with `ctr -n k8s.io images import target/plumb-image.tar`.
#
# Reproducible: the Debian packages are the exact versions apt resolves (written into the
# image as /usr/share/plumb/packages), unpacked (no maintainer scripts run), every entry
# stamped with SOURCE_DATE_EPOCH (the last commit's time unless set). The same commit,
# package versions and binary give the same digest.
#
# The image runs as uid 65532 (user `plumb`), HOME=/tmp: with a read-only root file system
# only /tmp (an emptyDir in `plumb install`'s Deployment) and plumb's cache dir are written.
#
# Cache: the unpacked Debian root under ${PLUMB_CACHE_DIR:-~/.cache/plumb}/image-root-DIGEST
# (DIGEST of the package list; older ones are removed), the .deb files in apt's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CACHE_DIR=${PLUMB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumb}
TARGET=${CARGO_TARGET_DIR:-target}
BINARY= NAME= OUTPUT=$TARGET/plumb-image.tar
while [ $# -gt 0 ]; do
    case $1 in
        --binary) BINARY=$2; shift 2 ;;
        --name) NAME=$2; shift 2 ;;
        --output) OUTPUT=$2; shift 2 ;;
        *) die "unknown argument $1 (see the top of scripts/image.sh)" ;;
    esac
done
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
NAME=${NAME:-ghcr.io/plumb-dev/plumb:$VERSION}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH

# What plumb calls at run time; apt resolves the rest (first alternatives, no recommends).
PACKAGES=(git openssh-client gnupg ca-certificates dash)
UID_GID=65532

# resolve_packages: "name=version" lines, the closure apt would install on an empty system.
resolve_packages() {
    local empty
    empty=$(mktemp)
    apt-get -o Dir::State::status="$empty" -s install --no-install-recommends "${PACKAGES[@]}" 2>/dev/null |
        sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' | sort
    rm -f "$empty"
}

# debian_root LIST: the cached root for this package list, unpacked once.
debian_root() {
    local list=$1 key root
    key=$(sha256sum <<<"$list recipe 1" | cut -c1-16)
    root=$CACHE_DIR/image-root-$key
    if [ -f "$root.done" ]; then
        printf '%s' "$root"
        return
    fi
    say "Unpacking $(wc -l <<<"$list") Debian packages into $root"
    rm -rf "$CACHE_DIR"/image-root-* "$root"
    local debs=$CACHE_DIR/image-debs
    mkdir -p "$debs" "$root"
    # shellcheck disable=SC2046 # one word per package
    (cd "$debs" && apt-get -o APT::Sandbox::User=root download -qq $(cat <<<"$list")) >&2 ||
        die "apt-get download failed (is the Debian mirror reachable? run apt-get update)"
    # bookworm's merged /usr: the top-level directories are links into /usr.
    for dir in bin sbin lib lib64; do
        mkdir -p "$root/usr/$dir"
        ln -s "usr/$dir" "$root/$dir"
    done
    local package
    while read -r package; do
        dpkg-deb --fsys-tarfile "$debs/$(deb_file "$debs" "$package")" |
            tar -x --keep-directory-symlink -C "$root" || die "cannot unpack $package"
    done <<<"$list"
    rm -rf "$debs"
    # What maintainer scripts would have made, and only that.
    cat /dev/null "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
    printf 'root:x:0:0:root:/root:/bin/sh\nplumb:x:%s:%s:plumb:/tmp:/usr/sbin/nologin\n' $UID_GID $UID_GID >"$root/etc/passwd"
    printf 'root:x:0:\nplumb:x:%s:\n' $UID_GID >"$root/etc/group"
    # Documentation, manuals and translations: not read in a container.
    rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bug} "$root"/var/lib/dpkg "$root"/var/cache/*
    mkdir -p "$root"/tmp "$root"/var/cache/plumb "$root"/usr/share/plumb
    chmod 1777 "$root/tmp"
    printf '%s\n' "$list" >"$root/usr/share/plumb/packages"
    touch "$root.done"
    printf '%s' "$root"
}

# deb_file DIR NAME=VERSION: the file apt-get download wrote (epochs are %3a-escaped).
deb_file() {
    local name=${2%%=*} version=${2#*=}
    version=${version/:/%3a}
    ( cd "$1" && ls "${name}_${version}"_*.deb )
}

main() {
    command -v apt-get >/dev/null || die "builds from Debian packages: needs apt-get (Debian bookworm)"
    local started=$SECONDS
    if [ -z "$BINARY" ]; then
        say "Building plumb (cargo build --release -p plumb)"
        cargo build --release --locked -p plumb --bin plumb
        BINARY=$TARGET/release/plumb
    fi
    [ -x "$BINARY" ] || die "no plumb binary at $BINARY"
    local list root
    list=$(resolve_packages)
    [ -n "$list" ] || die "apt could not resolve ${PACKAGES[*]} (run apt-get update)"
    root=$(debian_root "$list")
    local app
    app=$(mktemp -d "${TMPDIR:-/tmp}/plumb-image.XXXXXX")
    # shellcheck disable=SC2064 # expand now
    trap "rm -rf '$app'" EXIT
    mkdir -p "$app/usr/local/bin"
    install -m 0755 "$BINARY" "$app/usr/local/bin/plumb"
    mkdir -p "$(dirname "$OUTPUT")"
    local digest
    digest=$(python3 scripts/oci-archive --layer "$root" --layer "$app" --name "$NAME" --output "$OUTPUT" \
        --entrypoint '["/usr/local/bin/plumb"]' --cmd '["controller"]' \
        --env PATH=/usr/local/bin:/usr/bin:/bin --env HOME=/tmp \
        --user "$UID_GID:$UID_GID" --workdir /tmp --owner "var/cache/plumb=$UID_GID:$UID_GID")
    say "Image $NAME: $OUTPUT, manifest $digest, $(du -h "$OUTPUT" | cut -f1) compressed, $(du -sh --apparent-size "$root" | cut -f1) Debian root + $(du -h "$BINARY" | cut -f1) plumb ($((SECONDS - started))s)"
}

main
