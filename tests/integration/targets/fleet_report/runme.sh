#!/usr/bin/env bash
# The xprotect.go.fleet_report role on every host of the inventory's windows group, as
# playbooks/status.yml runs it. Check mode is --check, as users run it, so check-mode and normal runs
# alternate: check mode -> apply -> apply again -> check mode again. Each step writes its own report
# (check mode too: it is output, not a change), which must describe every host as service_info sees it,
# and must leave every process as it was. Last, with Log Check stopped on the first host, the report must
# call that host degraded. The services are put back as found on exit (../setup_xprotect_go).
set -euxo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_xprotect_go/runme-lib.sh
source ../setup_xprotect_go/runme-lib.sh
restore_on_exit "$@"
report_dir=$OUTPUT_DIR/fleet-report
rm -rf "$report_dir"
mkdir -p "$report_dir"

run_after_record step.yml --check -e "report_dir=$report_dir" -e '{"report_step": "check", "expect": {"processes": "same"}}' "$@"
run matrix-apply.yml -e "report_dir=$report_dir" "$@"
run step.yml --check -e "report_dir=$report_dir" -e '{"report_step": "check-again", "expect": {"processes": "same"}}' "$@"
