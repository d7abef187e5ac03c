#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_service_plan
short_description: What xprotect.go.service would change on every host of the play, from one task
version_added: 0.1.0
description:
  - Runs M(xprotect.go.service) in check mode on each host of the play batch at once, from a single task on the
    controller, and says on which hosts it has something to do (RV(pending)) and on which it has nothing
    (RV(converged)). Each host costs one read, as M(xprotect.go.service) in check mode costs; nothing is changed.
  - Then a play can run the per-host work on the pending hosts only. The C(xprotect.go.start) playbook does this (with
    the C(services) role's C(pending) tasks), so a fleet whose services all run costs about one Ansible task, not a
    dozen tasks per host.
  - Each host is read with its own connection settings and C(xprotect_go_service_names), as
    M(xprotect.go.fleet_service_info) reads them; see there. A host's credentials are only ever sent to that host's
    endpoint.
  - A host that cannot be reached, or where M(xprotect.go.service) would fail (a service of the task that is not
    installed, a disabled service to start), does not fail the task. It is pending, so that
    M(xprotect.go.service) on that host reports the failure as it always does.
  - Bad input (a misspelt service key, a timeout out of range) fails the task before any host is read.
  - Runs once for the play (like C(run_once)), on the controller; no module is sent to any host.
author:
  - xprotect.go contributors (@xprotect-go)
extends_documentation_fragment:
  - xprotect.go._fleet
  - xprotect.go._service_control
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: It changes nothing, so check mode runs it as usual.
  diff_mode:
    support: none
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: full
  platform:
    platforms: windows
notes:
  - The task takes no connection options, because one value for every host would send one host's credentials to all
    of them.
seealso:
  - module: xprotect.go.service
  - module: xprotect.go.fleet_service_info
"""

EXAMPLES = r"""
- name: Find the hosts whose XProtect Go services are not all started
  xprotect.go.fleet_service_plan:
    name: custom
    state: started
  register: plan

- name: Start them there only
  ansible.builtin.add_host:
    name: "{{ item }}"
    groups: to_start
  loop: "{{ plan.pending }}"
  changed_when: false
"""

RETURN = r"""
pending:
  description:
    - The hosts where M(xprotect.go.service) with these options would change something, or could not read or plan (see
      their entries in RV(hosts)), in the order read.
  returned: always
  type: list
  elements: str
  sample: [xpgo-002]
converged:
  description: The hosts where M(xprotect.go.service) with these options would change nothing, in the order read.
  returned: always
  type: list
  elements: str
  sample: [xpgo-001]
hosts:
  description:
    - One entry per host read, by inventory name.
    - For a host that was read, what M(xprotect.go.service) returns for it in check mode (C(changed),
      RV(xprotect.go.service#module:services) with C(would_) actions, RV(xprotect.go.service#module:missing), ...).
    - For a host that could not be read or planned, V(failed=true) or V(unreachable=true) with C(msg) (why).
  returned: always
  type: dict
  sample:
    xpgo-001:
      changed: false
      missing: []
    xpgo-002:
      changed: true
      missing: []
addresses:
  description: Each host's C(ansible_host), or its inventory name without one, by inventory name.
  returned: always
  type: dict
  sample:
    xpgo-001: 10.0.4.21
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.xprotect.go.plugins.module_utils._specs import fleet_service_plan_spec


def main():
    # The action plugin does the work on the controller; the module only exists for documentation and argument checks.
    module = AnsibleModule(**fleet_service_plan_spec())
    module.fail_json(msg='xprotect.go.fleet_service_plan runs on the controller through its action plugin, never as a module')


if __name__ == '__main__':
    main()
