# shellcheck shell=bash
# Sourced by scripts/ansible-test-units, scripts/integration and scripts/molecule (bash, set -euo pipefail).
# Expects $root (the checkout) and $bin (the venv's bin directory) to be set.
# shellcheck disable=SC2154  # root and bin come from the sourcing script

# stage_collection STAGE_ROOT [KEEP...]: copy the files git would see here (tracked and untracked, minus
# ignored ones) to STAGE_ROOT/ansible_collections/xprotect/go, where ansible-test needs the collection,
# and commit them in a git repository of their own. KEEP paths (relative to the collection) survive from
# the previous stage, e.g. tests/output, where ansible-test keeps the venv it built.
# Prints the collection's path.
stage_collection() {
    local stage=$1/ansible_collections/xprotect/go kept=$1/kept keep
    shift
    rm -rf "$kept"
    mkdir -p "$stage" "$kept"
    for keep in "$@"; do
        if [[ -e $stage/$keep ]]; then
            mkdir -p "$kept/$(dirname "$keep")"
            mv "$stage/$keep" "$kept/$keep"
        fi
    done
    rm -rf "$stage"
    mkdir -p "$stage"
    (cd "$root" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' path; do
        # A tracked file deleted from the work tree is not part of what we test.
        if [[ -e $path || -L $path ]]; then printf '%s\0' "$path"; fi
    done | tar --null -T - -cf -) | tar -xf - -C "$stage"
    for keep in "$@"; do
        if [[ -e $kept/$keep ]]; then
            mkdir -p "$stage/$(dirname "$keep")"
            mv "$kept/$keep" "$stage/$keep"
        fi
    done
    rm -rf "$kept"
    (cd "$stage" && git init -q && git add -A &&
        git -c user.email=ci@localhost -c user.name=ci commit -qm stage --no-verify)
    printf '%s\n' "$stage"
}

# start_fleet DIR GROUP [FLEET OPTIONS...]: start a simulated fleet (the xprotect-go-simulator console
# script) in the background, basic authentication over https with the fleet's own CA and a password
# made for this run (read from a file, so it is never on a command line); wait for its READY line.
# Sets fleet_pid, fleet_inventory (YAML, hosts in GROUP) and fleet_log; stop_fleet ends it (EXIT trap).
start_fleet() {
    local dir=$1 group=$2
    shift 2
    [[ -x $bin/xprotect-go-simulator ]] || { echo "$bin/xprotect-go-simulator is missing: install ./simulator (make venv does)" >&2; return 1; }
    rm -rf "$dir"
    mkdir -p "$dir"
    fleet_inventory=$dir/fleet.yml
    fleet_log=$dir/fleet.log
    (umask 077 && "$bin/python" -c 'import secrets; print("Xg-" + secrets.token_urlsafe(18))' > "$dir/password")
    "$bin/xprotect-go-simulator" fleet --group "$group" --inventory "$fleet_inventory" --password-file "$dir/password" \
        "$@" > "$fleet_log" 2>&1 < /dev/null &
    fleet_pid=$!
    trap stop_fleet EXIT
    local waited=0
    until grep -q '^READY ' "$fleet_log"; do
        if ! kill -0 "$fleet_pid" 2>/dev/null; then
            cat "$fleet_log" >&2
            echo "the simulated fleet exited before it was ready (log above)" >&2
            return 1
        fi
        if ((waited++ >= 300)); then
            cat "$fleet_log" >&2
            echo "the simulated fleet was not ready after 60 s (log above)" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "fleet: $(grep '^READY ' "$fleet_log")"
}

stop_fleet() {
    if [[ -n ${fleet_pid:-} ]] && kill -0 "$fleet_pid" 2>/dev/null; then
        kill "$fleet_pid" 2>/dev/null || true
        wait "$fleet_pid" 2>/dev/null || true
    fi
    fleet_pid=
}
