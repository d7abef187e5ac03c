#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: service_info
short_description: Status of every XProtect Go service on a Windows host, in one round trip
version_added: 0.1.0
description:
  - Reports the six services of Milestone XProtect Go (Recording Server, Image Server, Image Import, Log Check,
    Event Server, Mobile Server). For each, whether it is installed, its Windows service name, state, start mode,
    log-on account and process id, plus the manual's description of what it does.
  - Finds the services by the catalog's known names, then display names, then executables, all in one
    WS-Management enumeration; O(service_names) corrects the catalog for a host.
  - Lists other Milestone services it does not manage (Management Server, Log Server, ...) separately.
  - Says whether the host is a Standard installation (all six services) or a Custom one (without the Event Server
    and/or the Mobile Server).
  - Says whether the host is recording (RV(verdict)) and why (RV(reasons)). V(not_recording) when the Recording
    Server is not installed or not running (still starting counts as not running); V(degraded) when it records but
    at risk or impaired (the Recording Server not set to start automatically, another XProtect service down, the
    Image Server not logging on as Local System, a service that crashed in the last 24 hours); else V(recording).
    The rules are one table in the collection's C(docs/health.md).
  - Warns when the Image Server does not log on as Local System (Smart Clients on other computers can then log in
    by IP address only) and when the Recording Server is not running (no video reaches the system). These warnings
    are the texts of the same rules' reasons.
  - Says why a service last failed (RV(services.last_failure)) in the Service Control Manager's own words, from the
    host's System event log (events 7000, 7009, 7011, 7022, 7023, 7024, 7031, 7034, 7038 and 7041), read over the same
    WS-Management channel in one more round trip for all services, made only when there is something to explain or
    when asked (O(failures)).
  - Changes nothing, so it runs the same in check mode.
author:
  - xprotect.go contributors (@xprotect-go)
extends_documentation_fragment:
  - xprotect.go._connection
  - xprotect.go._service_names
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
    support: none
  platform:
    platforms: windows
options:
  failures:
    description:
      - When to read the System event log for each service's RV(services.last_failure).
      - V(auto) reads it when there is something to explain, an installed service whose start mode is automatic (or
        delayed) that is not running. V(always) reads it every time (a crash that Windows' recovery restarted shows only
        there). V(never) does not read it.
      - Reading it needs membership in Event Log Readers. Without it the rest of the result is the same, RV(event_log)
        says V(denied) and a warning names the group.
    type: str
    choices: [auto, always, never]
    default: auto
  failure_lookback:
    description:
      - How many minutes back RV(services.last_failure) looks, by the controller's clock.
      - Between V(1) and V(527040) minutes (366 days).
    type: int
    default: 1440
seealso:
  - module: xprotect.go.service
"""

EXAMPLES = r"""
- name: See every XProtect service on the Windows inventory hosts (ansible_connection=winrm)
  xprotect.go.service_info:
  register: xprotect

- name: Show which hosts run without their Recording Server
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: Recording Server is {{ xprotect.services.recording_server.state }}"
  when: xprotect.services.recording_server.state != 'started'

- name: Fail the hosts that are not recording, saying why
  ansible.builtin.fail:
    msg: "{{ inventory_hostname }} is not recording: {{ xprotect.reasons | map(attribute='text') | join(' ') }}"
  when: xprotect.verdict == 'not_recording'

- name: From the controller, with connection settings given explicitly
  xprotect.go.service_info:
    host: nvr01.example.com
    username: EXAMPLE\svc-xprotect-ops
    password: "{{ vault_xprotect_password }}"
    transport: ntlm
    scheme: http
  delegate_to: localhost

- name: A host whose product names the Recording Server differently
  xprotect.go.service_info:
    service_names:
      recording_server: VideoOSRecordingServer
"""

RETURN = r"""
install_type:
  description:
    - V(standard) when all six services are installed, V(custom) when the core services are and the Event Server
      and/or Mobile Server are not, V(incomplete) when a core service is missing, V(none) when none is installed.
  returned: success
  type: str
  sample: standard
missing:
  description: Catalog keys of the services that are not installed.
  returned: success
  type: list
  elements: str
  sample: [event_server, mobile_server]
services:
  description:
    - One entry per catalog key (V(recording_server), V(image_server), V(image_import), V(log_check),
      V(event_server), V(mobile_server)), installed or not.
  returned: success
  type: dict
  contains:
    installed:
      description: Whether the service exists on the host. When false, only RV(services.title),
        RV(services.description) and RV(services.optional) are present.
      type: bool
      sample: true
    title:
      description: The service's name in the XProtect manual.
      type: str
      sample: Recording Server
    description:
      description: What the service does, after the manual.
      type: str
      sample: "Vital: video streams reach the system only while it runs."
    optional:
      description: Whether a Custom installation may leave the service out.
      type: bool
      sample: false
    name:
      description: The Windows service name (Win32_Service Name).
      type: str
      sample: Milestone XProtect Recording Server
    display_name:
      description: The Windows display name.
      type: str
      sample: Milestone XProtect Recording Server
    state:
      description: V(started), V(stopped), V(start_pending), V(stop_pending), V(paused) (and the other pending states).
      type: str
      sample: started
    windows_state:
      description: The state as Windows names it.
      type: str
      sample: Running
    start_mode:
      description: V(auto), V(delayed), V(manual) or V(disabled).
      type: str
      sample: auto
    start_name:
      description: The account the service logs on as.
      type: str
      sample: LocalSystem
    process_id:
      description: Its process id, 0 when not running.
      type: int
      sample: 4312
    exit_code:
      description: The Win32 exit code of its last stop (1067 means the process ended unexpectedly).
      type: int
      sample: 0
    path:
      description: The command line Windows starts it with.
      type: str
      sample: '"C:\Program Files\Milestone\XProtect Recording Server\RecordingServer.exe"'
    last_failure:
      description:
        - The service's latest failure within O(failure_lookback) that the Service Control Manager logged in the System
          event log, or V(null) when there is none. When a log-on failure (7038, 7041) or a time-out (7009) came just
          before the 7000 that followed it, that explaining event.
        - Present only when the log was read (RV(event_log.status) is V(read)).
      returned: when the System event log was read
      type: dict
      contains:
        event_id:
          description: The event's code as Event Viewer shows it (Win32_NTLogEvent EventCode).
          type: int
          sample: 7034
        time:
          description: When Windows logged it, ISO 8601 in UTC.
          type: str
          sample: '2024-05-01T11:59:30Z'
        message:
          description: Windows' text of the event, on one line.
          type: str
          sample: The Milestone XProtect Recording Server service terminated unexpectedly. It has done this 1 time(s).
  sample:
    recording_server:
      installed: true
      title: Recording Server
      name: Milestone XProtect Recording Server
      state: started
      start_mode: auto
      start_name: LocalSystem
      process_id: 4312
    mobile_server:
      installed: false
      title: Mobile Server
      optional: true
verdict:
  description:
    - Whether the host is recording, the worst verdict of RV(reasons); V(recording) when there is no reason.
    - V(not_recording) (the Recording Server is not installed, or not running), V(unknown) (whether it records
      cannot be told, because Windows reports the Recording Server's state as unknown or the task failed for another
      reason than reaching the host), V(unreachable) (the task failed because the host could not be reached or did
      not answer in time), V(degraded) (recording, but at risk or impaired) or V(recording); worst first.
    - A failed task's result carries V(unreachable) or V(unknown) too, unless Ansible refused the task before the
      module ran.
  returned: always
  type: str
  sample: degraded
reasons:
  description:
    - Why the host has its RV(verdict), worst first; empty when it is V(recording). One entry per rule and service
      that applies (the rules are one table in the collection's C(docs/health.md)).
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description:
        - The rule's id, for example V(recording_server_not_running), V(recording_server_starting),
          V(recording_server_not_installed), V(recording_server_not_automatic), V(service_down),
          V(image_server_account), V(recent_failure), V(host_unreachable) or V(host_unreadable).
      type: str
      sample: service_down
    service:
      description: The catalog key of the service the reason is about; V(null) for a host that could not be read.
      type: str
      sample: event_server
    verdict:
      description: The verdict this reason alone implies.
      type: str
      sample: degraded
    text:
      description: The reason in words, naming the service and what it means; for a host that could not be read, the error.
      type: str
      sample: "The Event Server service is stopped: the host records, but alarms, maps, events and status information are not handled."
  sample:
    - rule: service_down
      service: event_server
      verdict: degraded
      text: "The Event Server service is stopped: the host records, but alarms, maps, events and status information are not handled."
event_log:
  description: Whether the System event log was read for RV(services.last_failure), and how.
  returned: success
  type: dict
  contains:
    status:
      description:
        - V(read), V(not_read) (O(failures=never), or V(auto) with nothing to explain), V(denied) (the account is not
          in Event Log Readers) or V(failed) (another error, in RV(event_log.message)).
      type: str
      sample: read
    reason:
      description: Why it was read, V(asked) or the services that are not running.
      returned: when read, denied or failed
      type: str
      sample: 'not running: recording_server'
    since:
      description: The start of the look-back window, ISO 8601 in UTC.
      returned: when read, denied or failed
      type: str
      sample: '2024-04-30T12:00:00Z'
    lookback_minutes:
      description: O(failure_lookback).
      type: int
      sample: 1440
    message:
      description: Why the log could not be read, and for V(denied) which right would let it be read.
      returned: when denied or failed
      type: str
      sample: "the account may not read the System event log: add it to the Event Log Readers group (or make it an administrator) to see Windows' reason"
other_services:
  description: Milestone services the catalog does not manage, with the same facts as RV(services).
  returned: success
  type: list
  elements: dict
  sample:
    - name: Milestone XProtect Management Server
      state: started
      start_mode: auto
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.xprotect.go.plugins.module_utils._tasks import run_service_info, WINRM_IMPORT_ERROR
from ansible_collections.xprotect.go.plugins.module_utils._specs import service_info_spec
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError


def main():
    module = AnsibleModule(**service_info_spec())
    if WINRM_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('pywinrm'))
    try:
        result = run_service_info(module.params, host_settings=None, environ=os.environ)
    except XProtectError as error:
        # unreachable: Ansible then counts the host as unreachable, as the action plugin does in-process.
        module.fail_json(**dict(error.result, msg=str(error), unreachable=error.unreachable))
    for warning in result.pop('warnings'):
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
