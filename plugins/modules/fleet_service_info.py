#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_service_info
short_description: Status of the XProtect Go services of every host of the play, from one task
version_added: 0.1.0
description:
  - Does what M(xprotect.go.service_info) does on each host, for every host of the play batch at once, from a single
    task on the controller. Large fleets read in about the time of one Ansible task instead of one task per host.
    The C(xprotect.go.fleet_report) role, and so the C(xprotect.go.status) playbook, reads the fleet with it.
  - Each host is read with its own connection settings, as M(xprotect.go.service_info) on that host reads them, that is what
    its winrm or psrp connection plugin resolves from the host's variables (C(ansible_host), C(ansible_port),
    C(ansible_user), C(ansible_password), C(ansible_winrm_*) or C(ansible_psrp_*)), the play's C(remote_user) and
    what Ansible fills it from (C(-u), the environment variable C(ANSIBLE_REMOTE_USER), C(remote_user) in C(ansible.cfg)), then the
    E(XPROTECT_GO_*) environment variables, then the defaults. Templated and vaulted values are resolved in each
    host's own context. A host's credentials are only ever sent to that host's endpoint.
  - The password of C(--ask-pass) is not used, because the task cannot tell it from the first host's own password, which
    must not reach the other hosts. Give passwords as inventory variables (vaulted) instead.
  - A host without C(ansible_host) is reached at its inventory name, as the winrm and psrp connection plugins do.
    Hosts on another connection get no settings from the inventory (the environment decides, as for
    M(xprotect.go.service_info) on the local connection); read hosts behind a jump host with
    M(xprotect.go.service_info) and C(delegate_to) instead.
  - Each host's C(xprotect_go_service_names) variable corrects the catalog for that host, as O(xprotect.go.service_info#module:service_names) does.
  - A host that cannot be reached, or whose read fails, does not fail the task; its entry in RV(hosts) says so,
    exactly as M(xprotect.go.service_info)'s failed or unreachable result on that host would.
  - Runs once for the play (like C(run_once)), on the controller; no module is sent to any host.
  - Changes nothing, so it runs the same in check mode.
author:
  - xprotect.go contributors (@xprotect-go)
extends_documentation_fragment:
  - xprotect.go._fleet
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
options:
  failures:
    description:
      - When to read each host's System event log for RV(xprotect.go.service_info#module:services.last_failure), as
        O(xprotect.go.service_info#module:failures) does.
    type: str
    choices: [auto, always, never]
    default: auto
  failure_lookback:
    description:
      - How many minutes back the failures are looked for, between V(1) and V(527040), as
        O(xprotect.go.service_info#module:failure_lookback) does.
    type: int
    default: 1440
notes:
  - The task takes no connection options (such as O(xprotect.go.service_info#module:host) or
    O(xprotect.go.service_info#module:password)), because one value for every host would send one host's credentials
    to all of them.
seealso:
  - module: xprotect.go.service_info
"""

EXAMPLES = r"""
- name: Read every host of the play in one task
  xprotect.go.fleet_service_info:
  register: fleet

- name: Name the hosts that are not recording
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.verdict }}"
  loop: "{{ fleet.hosts | dict2items | rejectattr('value.verdict', 'eq', 'recording') }}"
  run_once: true

- name: Read two sites, twenty hosts at a time
  xprotect.go.fleet_service_info:
    hosts: "{{ groups['site_north'] + groups['site_south'] }}"
    concurrency: 20
    failures: never
"""

RETURN = r"""
hosts:
  description:
    - One entry per host read, by inventory name, in the order read.
    - For a host that was read, what M(xprotect.go.service_info) returns for it (RV(xprotect.go.service_info#module:services),
      RV(xprotect.go.service_info#module:verdict), RV(xprotect.go.service_info#module:reasons), ...).
    - For a host that could not be read, V(failed=true) or V(unreachable=true) with C(msg) (why), and the
      RV(xprotect.go.service_info#module:verdict) and RV(xprotect.go.service_info#module:reasons) that say so.
  returned: always
  type: dict
  sample:
    xpgo-001:
      changed: false
      install_type: standard
      verdict: recording
      reasons: []
    xpgo-002:
      changed: false
      unreachable: true
      msg: "xpgo-002 (10.0.4.22): no answer from https://10.0.4.22:5986/wsman within 30 s"
      verdict: unreachable
addresses:
  description: Each host's C(ansible_host), or its inventory name without one, by inventory name.
  returned: always
  type: dict
  sample:
    xpgo-001: 10.0.4.21
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.xprotect.go.plugins.module_utils._specs import fleet_service_info_spec


def main():
    # The action plugin does the work on the controller; the module only exists for documentation and argument checks.
    module = AnsibleModule(**fleet_service_info_spec())
    module.fail_json(msg='xprotect.go.fleet_service_info runs on the controller through its action plugin, never as a module')


if __name__ == '__main__':
    main()
