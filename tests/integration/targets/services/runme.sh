#!/usr/bin/env bash
# The xprotect.go.services role on every host of the inventory's windows group, run the way users run
# it: check mode is --check (the role reads ansible_check_mode, which only --check sets), so the steps
# alternate between check-mode and normal ansible-playbook runs. Every step is step.yml: the role, then
# an out-of-band service_info read asserted against the step's expectations:
#   stopped:  check mode -> apply -> idempotent check -> idempotent apply
#   started:  check mode -> apply -> idempotent check -> idempotent apply
#   restarted (always acts): check mode -> apply; then input the role must refuse (refused.yml).
# The services are put back as found whatever happens (../setup_xprotect_go).
set -euxo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_xprotect_go/runme-lib.sh
source ../setup_xprotect_go/runme-lib.sh
restore_on_exit "$@"

run_after_record matrix-1-start.yml "$@"
run matrix-2-check.yml --check "$@"
run matrix-3-apply.yml "$@"
run matrix-4-check.yml --check "$@"
run matrix-5-apply.yml "$@"
run matrix-6-check.yml --check "$@"
run matrix-7-apply.yml "$@"
