#!/usr/bin/env bash
# The xprotect.go.rolling_restart role on every host of the inventory's windows group, the way
# playbooks/restart.yml runs it (serial from rolling_restart_serial), one ansible-playbook per step:
#   check mode -> apply -> check mode again -> apply again. A restart always acts (like win_service's
#   restarted), so "again" must restart again, never report converged.
#   With two hosts or more: a batch larger than rolling_restart_max_recording_servers_down is refused
#   before anything restarts; raising the limit lets the whole batch restart at once.
# After each step the hosts are read out of band (check.yml). Services are put back as found on exit.
set -euxo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_xprotect_go/runme-lib.sh
source ../setup_xprotect_go/runme-lib.sh
record_and_restore_on_exit "$@"
hosts=$(ansible -i "$INVENTORY_PATH" windows --list-hosts | tail -n +2 | wc -l)
log=$OUTPUT_DIR/rolling-restart.log

run step.yml --check -e '{"expect": {"changed": true, "actions": ["would_stop", "would_start"], "processes": "same"}}' "$@"
run step.yml -e '{"expect": {"changed": true, "actions": ["stop", "start"], "processes": "new"}}' "$@" | tee "$log"
grep -q "Rolling restart done: $hosts restarted, 0 failed, 0 unreachable, 0 not restarted, of $hosts hosts." "$log"
run step.yml --check -e '{"expect": {"changed": true, "actions": ["would_stop", "would_start"], "processes": "same"}}' "$@"
run step.yml -e '{"expect": {"changed": true, "actions": ["stop", "start"], "processes": "new"}}' "$@"

if [[ $hosts -ge 2 ]]; then
    if run restart.yml -e rolling_restart_serial=2 "$@" | tee "$log"; then
        echo "a batch of 2 hosts passed rolling_restart_max_recording_servers_down=1" >&2
        exit 1
    fi
    grep -q "Recording Servers down at once" "$log"
    run check.yml -e '{"expect": {"processes": "same"}}' "$@"
    run step.yml -e rolling_restart_serial=2 -e rolling_restart_max_recording_servers_down=2 \
        -e '{"expect": {"changed": true, "actions": ["stop", "start"], "processes": "new"}}' "$@"
fi
