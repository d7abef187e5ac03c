#!/usr/bin/env bash
# The xprotect.go.rolling_restart role on every host of the inventory's windows group, the way
# playbooks/restart.yml runs it (serial from rolling_restart_serial). Check mode is --check, as users
# run it, so check-mode and normal runs alternate; each step is the restart (restart.yml) and then an
# out-of-band check of every host (check.yml):
#   check mode -> apply -> apply again -> check mode again. A restart always acts (like win_service's
#   restarted): "again" must restart again, and check mode must still say it would.
#   With two hosts or more: a batch larger than rolling_restart_max_recording_servers_down is refused
#   before anything restarts; raising the limit lets the whole batch restart at once.
# The services are put back as found on exit (../setup_xprotect_go).
set -euxo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_xprotect_go/runme-lib.sh
source ../setup_xprotect_go/runme-lib.sh
restore_on_exit "$@"
hosts=$(ansible -i "$INVENTORY_PATH" windows --list-hosts | tail -n +2 | wc -l)
log=$OUTPUT_DIR/rolling-restart.log

run_after_record matrix-check.yml --check "$@"
run matrix-apply.yml "$@" | tee "$log"
grep -q "Rolling restart done: $hosts restarted, 0 failed, 0 unreachable, 0 not restarted, of $hosts hosts." "$log"
run matrix-check.yml --check "$@"

if [[ $hosts -ge 2 ]]; then
    if run restart.yml -e rolling_restart_serial=2 "$@" | tee "$log"; then
        echo "a batch of 2 hosts passed rolling_restart_max_recording_servers_down=1" >&2
        exit 1
    fi
    grep -q "Recording Servers down at once" "$log"
    run matrix-batch-of-two.yml -e rolling_restart_serial=2 -e rolling_restart_max_recording_servers_down=2 "$@"
fi
