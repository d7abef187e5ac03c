#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: maintenance
short_description: Put XProtect Go hosts under maintenance, so that self-healing leaves them alone
version_added: 0.1.0
description:
  - Sets, clears or reads the maintenance switch of a host or of the whole fleet. While a host is under maintenance
    the C(xprotect.go.keep_recording) rulebook never starts its Recording Server, so a server stopped on purpose
    stays stopped.
  - The switch is a file on the Ansible controller, in O(directory), named after the inventory host; the file
    C(_fleet) is the switch of the whole fleet. Each file holds when, why and by whom it was set, as JSON.
    The event source C(xprotect.go.service_status) reads the same directory.
  - The playbooks C(xprotect.go.stop) and C(xprotect.go.restart) use this module. The stop playbook leaves its hosts
    under maintenance; clear the switch when the window ends.
  - Runs on the controller only (its action plugin does the work); nothing is sent to the Windows host and its
    connection settings are not needed.
  - Without O(state) it changes nothing and only reports.
author:
  - xprotect.go contributors (@xprotect-go)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Reports whether the switch would change, and changes nothing.
  diff_mode:
    support: full
    details: Shows whether the host switch and the fleet switch are on, before and after.
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
    details: The controller, whatever the inventory host is.
options:
  state:
    description:
      - V(present) turns the switch on (an existing switch keeps its record), V(absent) turns it off.
      - Omitted, nothing changes and the result only reports the switches.
    type: str
    choices: [present, absent]
  scope:
    description:
      - V(host) is the switch of O(host) alone; V(fleet) is the one switch of every host. Use C(run_once) with V(fleet).
      - A host is under maintenance when its own switch or the fleet switch is on.
    type: str
    choices: [host, fleet]
    default: host
  host:
    description:
      - The inventory host name the switch is for.
      - Defaults to C(inventory_hostname), the host the task runs for.
    type: str
  reason:
    description:
      - Why, written into the switch file; the events of the host show it.
    type: str
  directory:
    description:
      - The directory of the switch files, on the controller. It is created (mode 0700) when a switch is first set.
      - Defaults to the variable C(xprotect_go_maintenance_dir), else the environment variable
        E(XPROTECT_GO_MAINTENANCE_DIR), else C(~/.ansible/xprotect-go/maintenance).
        The event source must read the same directory (it reads the same variable from the same inventory).
    type: path
notes:
  - The event source and the rulebook keep no other record of maintenance; removing the file by hand clears the
    switch as well.
seealso:
  - module: xprotect.go.service
"""

EXAMPLES = r"""
- name: Keep self-healing away from the hosts of this play while they are worked on
  xprotect.go.maintenance:
    state: present
    reason: disk replacement, ticket CHG-1234

- name: Give the hosts back to self-healing
  xprotect.go.maintenance:
    state: absent

- name: Stop every heal, fleet-wide
  xprotect.go.maintenance:
    state: present
    scope: fleet
    reason: storage migration
  run_once: true

- name: Is this host under maintenance?
  xprotect.go.maintenance:
  register: maintenance

# Ad hoc, from a shell: ansible -i inventory.yml nvr07 -m xprotect.go.maintenance -a state=absent
"""

RETURN = r"""
maintenance:
  description: Whether the host is under maintenance afterwards (its own switch or the fleet switch is on).
  returned: success
  type: bool
  sample: true
host_switch:
  description: The record of the host's own switch afterwards, null when it is off.
  returned: success
  type: dict
  sample: {since: '2026-11-30T10:15:00+00:00', reason: stopped by xprotect.go.stop, by: ops}
fleet_switch:
  description: The record of the fleet switch afterwards, null when it is off.
  returned: success
  type: dict
  sample: null
directory:
  description: The directory of the switch files, absolute.
  returned: success
  type: str
  sample: /home/ops/.ansible/xprotect-go/maintenance
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.xprotect.go.plugins.module_utils._maintenance import MaintenanceError, argument_spec, current_user, run


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module.params, by=current_user(), check_mode=module.check_mode, diff=module._diff)
    except MaintenanceError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
