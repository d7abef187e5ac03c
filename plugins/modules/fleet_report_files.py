#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_report_files
short_description: Write the fleet report's files on the controller
version_added: 0.1.0
description:
  - Writes files on the Ansible controller, each replaced whole (written beside it, then renamed over it), so a
    reader never sees half a report. The C(xprotect.go.fleet_report) role writes its HTML and JSON report with it.
  - Runs in the controller's own Python, once for the task (like C(run_once)); no module process is started and
    no host is contacted. C(ansible.builtin.copy) with C(delegate_to=localhost) runs a module process for each file,
    which cost the status playbook more than its reads on small fleets.
  - A file whose content is already the same is left alone (C(changed=false)).
author:
  - xprotect.go contributors (@xprotect-go)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; C(changed) says whether a file would change. The role sets
      C(check_mode=false) on the task, since the report is output, not a change to the fleet.
  diff_mode:
    support: none
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: full
  platform:
    platforms: posix
options:
  files:
    description:
      - The files to write, in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path of the file on the controller. Its directory must exist.
        type: path
        required: true
      content:
        description:
          - What the file holds, written as UTF-8.
        type: str
        required: true
  mode:
    description:
      - The permissions of every file written, in octal, for example V(0644).
    type: str
    default: '0644'
"""
EXAMPLES = r"""
- name: Write the report
  xprotect.go.fleet_report_files:
    files:
      - path: /srv/reports/fleet.json
        content: "{{ report | to_nice_json }}"
      - path: /srv/reports/fleet.html
        content: "{{ lookup('ansible.builtin.template', 'report.html.j2') }}"
  check_mode: false
"""
RETURN = r"""
paths:
  description: The files whose content or mode changed (in check mode, would change), in the order given.
  returned: always
  type: list
  elements: str
  sample: [/srv/reports/fleet.json]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.xprotect.go.plugins.module_utils._specs import fleet_report_files_spec


def main():
    # The action plugin does the work on the controller; the module only exists for documentation and argument checks.
    module = AnsibleModule(**fleet_report_files_spec())
    module.fail_json(msg='xprotect.go.fleet_report_files runs on the controller through its action plugin, never as a module')


if __name__ == '__main__':
    main()
