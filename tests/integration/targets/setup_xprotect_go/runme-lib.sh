# Sourced by the runme.sh targets (needs/target/setup_xprotect_go), from their own directory.
# A runme.sh target runs one ansible-playbook per step so that check mode is --check, as users run it.
# The steps share state on the controller through a JSON fact cache in ansible-test's OUTPUT_DIR: what
# playbooks/record.yml found (restored on exit, whatever happened) and each step's out-of-band read.
# run PLAYBOOK [ARGS...]: ansible-playbook against the windows group of ansible-test's inventory.
export ANSIBLE_ROLES_PATH=..
export ANSIBLE_CACHE_PLUGIN=ansible.builtin.jsonfile
export ANSIBLE_CACHE_PLUGIN_CONNECTION="${OUTPUT_DIR:?run me with ansible-test}/xprotect-go-facts-$(basename "$PWD")"
rm -rf "$ANSIBLE_CACHE_PLUGIN_CONNECTION"

run() { ansible-playbook -i "${INVENTORY_PATH:?run me with ansible-test}" "$@"; }

# record_and_restore_on_exit [ARGS...]: remember the services now, put them back when the script exits.
record_and_restore_on_exit() {
    run ../setup_xprotect_go/playbooks/record.yml "$@"
    # shellcheck disable=SC2064  # the arguments are meant to be expanded now
    trap "rc=\$?; run ../setup_xprotect_go/playbooks/restore.yml $* || rc=1; exit \$rc" EXIT
}
