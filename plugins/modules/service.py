#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: service
short_description: Start, stop and restart XProtect Go services in dependency order, idempotently
version_added: 0.1.0
description:
  - Brings one or more Milestone XProtect Go services to a state (and optionally a start mode), the way the
    manual's "Start and stop services" page does for one server, for a whole fleet.
  - O(state=started) and O(state=stopped) are idempotent; O(state=restarted) always restarts.
  - Several services are handled in dependency order, services of the same stage together. When starting, the
    Recording Server comes first (everything else uses its video); when stopping, it goes last. Dependencies
    that Windows has registered between the services come on top of that order.
  - Waits follow Start Pending and Stop Pending to the end, one status query for every service in flight, or fail
    at O(timeout) naming the state reached. A service that stops again while starting fails with its exit code.
  - When a service fails to start (Windows refuses the start, or the service stops again), the message quotes the
    Service Control Manager's own reason from the host's System event log (for example event 7000, 7023, 7034 or 7038
    with Windows' text), read over the same WS-Management channel in one more round trip, made only then.
  - O(account) sets the service's log-on account (Win32_Service.Change). Windows applies it when the service next
    starts, and RV(services.restart_required) says when it still runs under the old one; O(state=restarted) in the
    same task applies it.
  - When a service fails, nothing that comes after it in the order is started or stopped, and the result says what
    was done (RV(services.actions)) and what was not (RV(services.pending)). A Recording Server that fails to start
    during a restart therefore leaves the other services stopped, because they need it.
  - Nothing is copied to or run on the Windows host; the module calls WMI over WS-Management.
author:
  - xprotect.go contributors (@xprotect-go)
extends_documentation_fragment:
  - xprotect.go._connection
  - xprotect.go._service_names
  - xprotect.go._service_control
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Reports what would be done (RV(services.actions) entries start with C(would_)) without doing it.
  diff_mode:
    support: full
    details:
      - Shows each service's state and start mode (and log-on account, with O(account)) before and after.
      - >-
        A service that is (in check mode, would be) stopped and started again shows C(restarted: true) after, as its
        state is V(started) before and after; a stopped service that O(state=restarted) only starts shows
        C(state: stopped) before and C(state: started) after. The order of the stops and starts is in RV(actions)
        (RV(services.actions) in check mode, V(would_stop), V(would_start)).
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: windows
notes:
  - The account needs start and stop rights on the XProtect services (SERVICE_START, SERVICE_STOP,
    SERVICE_CHANGE_CONFIG for O(start_mode) and O(account)); an administrator is not needed. See the README's
    least-privilege set-up.
  - Windows' reasons for failed starts come from the System event log, which the account may read as a member of
    Event Log Readers. Without it everything else works, and the message names that group.
  - O(start_mode=delayed) also writes the service's C(DelayedAutostart) registry value through WMI's StdRegProv.
seealso:
  - module: xprotect.go.service_info
"""

EXAMPLES = r"""
- name: Make sure the Recording Server runs (Windows inventory hosts, ansible_connection=winrm)
  xprotect.go.service:
    name: recording_server
    state: started

- name: Stop everything for a maintenance window (Recording Server last)
  xprotect.go.service:
    name: custom
    state: stopped

- name: Restart the Event Server and the Mobile Server together
  xprotect.go.service:
    name: [event_server, mobile_server]
    state: restarted
    timeout: 300

- name: Start the Image Server even though someone disabled it
  xprotect.go.service:
    name: image_server
    state: started
    start_mode: delayed

- name: Stop the Recording Server and the services Windows says depend on it
  xprotect.go.service:
    name: recording_server
    state: stopped
    force_dependents: true

- name: Make the Image Server log on as Local System again, so that Smart Clients can log in by host name (the manual)
  xprotect.go.service:
    name: image_server
    account: LocalSystem
    state: restarted

- name: Run the Event Server as a domain user; the new account applies when it next starts
  xprotect.go.service:
    name: event_server
    account: EXAMPLE\svc-xprotect-events
    account_password: "{{ vault_events_password }}"
  register: events_account

- name: After the password was changed in Active Directory, give Windows the new one and apply it
  xprotect.go.service:
    name: event_server
    account: EXAMPLE\svc-xprotect-events
    account_password: "{{ vault_events_password }}"
    update_password: always
    state: restarted

- name: From the controller for every host, with shared connection settings
  xprotect.go.service:
    name: standard
    state: started
  delegate_to: localhost
  module_defaults:
    group/xprotect.go.all:
      username: EXAMPLE\svc-xprotect-ops
      password: "{{ vault_xprotect_password }}"
      transport: ntlm
      scheme: http
"""

RETURN = r"""
services:
  description: One entry per service handled, keyed by catalog key (or the Windows service name for other services).
  returned: always
  type: dict
  contains:
    name:
      description: The Windows service name.
      type: str
      sample: Milestone XProtect Recording Server
    display_name:
      description: The Windows display name.
      type: str
      sample: Milestone XProtect Recording Server
    state:
      description:
        - The state afterwards (in check mode, the state it would have).
        - V(unknown) when a start or stop was sent but the connection was lost before its outcome was seen.
      type: str
      sample: started
    start_mode:
      description: The start mode afterwards.
      type: str
      sample: auto
    process_id:
      description: Its process id afterwards, 0 when stopped.
      type: int
      sample: 5120
    exit_code:
      description: The Win32 exit code of its last stop (1067 means the process ended unexpectedly).
      type: int
      sample: 0
    changed:
      description: Whether anything was (or in check mode would be) done to this service.
      type: bool
      sample: true
    actions:
      description: What was done, in order; in check mode prefixed with C(would_).
      type: list
      elements: str
      sample: [stop, start]
    pending:
      description:
        - Only after a failure, the actions that were planned for this service but not done.
        - When a service fails, nothing after it in the order is started or stopped; for example a Recording
          Server that fails to start during a restart leaves the services that come after it stopped.
      returned: failure
      type: list
      elements: str
      sample: [start]
    seconds:
      description: How long each action took to reach its state, in seconds.
      type: dict
      sample: {stop: 1.02, start: 2.51}
    forced:
      description: Whether the service was added because it depends on a stopped one (O(force_dependents)).
      type: bool
      sample: false
    start_name:
      description:
        - The account the service logs on as afterwards (in check mode, the one it would), as Windows shows it.
        - V(unknown) when the change was sent but the connection was lost before its answer came.
      returned: when O(account) is given
      type: str
      sample: LocalSystem
    restart_required:
      description:
        - Whether the service's log-on account (or its password) was changed while it runs, so that it runs under the old
          one until it next starts. V(false) when the task started or restarted it afterwards, or it is not running.
      returned: when O(account) is given
      type: bool
      sample: false
  sample:
    recording_server:
      name: Milestone XProtect Recording Server
      state: started
      start_mode: auto
      changed: true
      actions: [stop, start]
      seconds: {stop: 1.02, start: 2.51}
missing:
  description:
    - Keys of the requested services that are not installed and were skipped (see O(missing)).
  returned: always
  type: list
  elements: str
  sample: [mobile_server]
actions:
  description:
    - Every action in the order it was sent, with the seconds it took to reach its state. An action that failed (the
      service stopped again while starting, reached the timeout, or Windows refused it) has C(failed=true).
    - After the connection was lost, an action without C(seconds) was sent but its outcome was not seen; that
      service's RV(services.state) is then V(unknown).
    - A C(change_account) action names the C(account) and whether a password was sent (C(password_sent)); never the
      password.
  returned: always
  type: list
  elements: dict
  sample:
    - {service: mobile_server, action: stop, seconds: 0.61}
    - {service: recording_server, action: stop, seconds: 1.02}
    - {service: recording_server, action: start, seconds: 1.53}
    - {service: mobile_server, action: start, seconds: 1.1}
restart_required:
  description: Whether any service needs a restart to log on as O(account) (RV(services.restart_required)).
  returned: when O(account) is given
  type: bool
  sample: false
elapsed:
  description: Seconds the whole task took on the host.
  returned: always
  type: float
  sample: 3.42
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.xprotect.go.plugins.module_utils._tasks import run_service, WINRM_IMPORT_ERROR
from ansible_collections.xprotect.go.plugins.module_utils._specs import service_spec
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError


def main():
    module = AnsibleModule(**service_spec())
    if WINRM_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('pywinrm'))
    try:
        result = run_service(module.params, host_settings=None, environ=os.environ, check_mode=module.check_mode, diff=module._diff)
    except XProtectError as error:
        # unreachable: Ansible then counts the host as unreachable, as the action plugin does in-process.
        module.fail_json(**dict(error.result, msg=str(error), unreachable=error.unreachable))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
