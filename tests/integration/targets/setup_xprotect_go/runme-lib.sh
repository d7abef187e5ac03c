# shellcheck shell=bash
# Sourced by the runme.sh targets (needs/target/setup_xprotect_go), from their own directory.
# A runme.sh target runs one ansible-playbook per step so that check mode is --check, as users run it.
# The steps share state on the controller through a JSON fact cache in ansible-test's OUTPUT_DIR: what
# playbooks/record.yml found (restored on exit, whatever happened) and each step's out-of-band read.
export ANSIBLE_ROLES_PATH=..
export ANSIBLE_CACHE_PLUGIN=ansible.builtin.jsonfile
ANSIBLE_CACHE_PLUGIN_CONNECTION="${OUTPUT_DIR:?run me with ansible-test}/xprotect-go-facts-$(basename "$PWD")"
export ANSIBLE_CACHE_PLUGIN_CONNECTION
rm -rf "$ANSIBLE_CACHE_PLUGIN_CONNECTION"

# run PLAYBOOK [ARGS...]: ansible-playbook against ansible-test's inventory (the targets use its windows group).
run() { ansible-playbook -i "${INVENTORY_PATH:?run me with ansible-test}" "$@"; }

# run_after_record PLAYBOOK [ARGS...]: the first run, after restore_on_exit: remember the services as
# found (playbooks/record.yml), then the first step, in one ansible-playbook (it takes several playbooks).
run_after_record() { run ../setup_xprotect_go/playbooks/record.yml "$@"; }

# restore_on_exit [ARGS...]: put the services back as record.yml found them when the script exits, whatever
# happened (ARGS, e.g. ansible-test's -v, go to that run). A failed restore fails the script.
restore_on_exit() {
    restore_args=("$@")
    trap restore_services EXIT
}

restore_services() {
    local rc=$?
    run ../setup_xprotect_go/playbooks/restore.yml "${restore_args[@]}" || rc=1
    exit "$rc"
}
