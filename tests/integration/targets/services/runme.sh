#!/usr/bin/env bash
# The xprotect.go.services role on every host of the inventory's windows group, run the way users run
# it: one ansible-playbook per step, check mode with --check. Each step is step.yml (the role, then an
# out-of-band service_info read asserted against the step's expectations, given as extra vars):
#   stopped:  check mode -> apply -> idempotent check -> idempotent apply
#   started:  check mode -> apply -> idempotent check -> idempotent apply
#   restarted (always acts): check mode -> apply; then input the role must refuse.
# The services are put back as found whatever happens (../setup_xprotect_go).
set -euxo pipefail
cd "$(dirname "$0")"
# shellcheck source=../setup_xprotect_go/runme-lib.sh
source ../setup_xprotect_go/runme-lib.sh
record_and_restore_on_exit "$@"

run step.yml -e '{"role_state": "started", "expect": {}}' "$@"
run step.yml --check -e '{"role_state": "stopped", "expect": {"changed": true, "actions": ["would_stop"], "state": "started", "processes": "same"}}' "$@"
run step.yml -e '{"role_state": "stopped", "expect": {"changed": true, "actions": ["stop"], "state": "stopped", "last": "recording_server"}}' "$@"
run step.yml --check -e '{"role_state": "stopped", "expect": {"changed": false, "actions": [], "state": "stopped"}}' "$@"
run step.yml -e '{"role_state": "stopped", "expect": {"changed": false, "actions": [], "state": "stopped"}}' "$@"
run step.yml --check -e '{"role_state": "started", "expect": {"changed": true, "actions": ["would_start"], "state": "stopped"}}' "$@"
run step.yml -e '{"role_state": "started", "expect": {"changed": true, "actions": ["start"], "state": "started", "first": "recording_server"}}' "$@"
run step.yml --check -e '{"role_state": "started", "expect": {"changed": false, "actions": [], "state": "started", "processes": "same"}}' "$@"
run step.yml -e '{"role_state": "started", "expect": {"changed": false, "actions": [], "state": "started", "processes": "same"}}' "$@"
run step.yml --check -e '{"role_state": "restarted", "expect": {"changed": true, "actions": ["would_stop", "would_start"], "state": "started", "processes": "same"}}' "$@"
run step.yml -e '{"role_state": "restarted", "expect": {"changed": true, "actions": ["stop", "start"], "state": "started", "processes": "new"}}' "$@"
run refused.yml "$@"
