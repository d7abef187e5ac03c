#!/usr/bin/env bash
# The xprotect.go.fleet_report role on every host of the inventory's windows group, as
# playbooks/status.yml runs it, one ansible-playbook per step: check mode -> apply -> check mode again
# -> apply again. Each step must write the report afresh (check mode too: it is output, not a change),
# describe every host as service_info sees it, and change nothing on the hosts. Last, with Log Check
# stopped on the first host, the report must show that host as a warning. Services are put back on exit.
set -euxo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_xprotect_go/runme-lib.sh
source ../setup_xprotect_go/runme-lib.sh
record_and_restore_on_exit "$@"
report_dir=$OUTPUT_DIR/fleet-report
mkdir -p "$report_dir"

for check in yes no yes no; do
    mode=()
    if [[ $check == yes ]]; then mode=(--check); fi
    rm -f "$report_dir"/*
    run step.yml "${mode[@]}" -e "report_dir=$report_dir" -e '{"expect": {"processes": "same"}}' "$@"
done
rm -f "$report_dir"/*
run step.yml -e "report_dir=$report_dir" -e '{"stop_on_first": ["log_check"], "expect": {}}' "$@"
