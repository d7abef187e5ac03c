# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.service_status: an ansible-rulebook event source that watches a fleet of XProtect Go servers.

ansible-rulebook runs this file directly (runpy), without Ansible's collection loader: the
collection's own code is found by putting the collections root, derived from this file's path,
on sys.path. The path is taken as given, without resolving symbolic links, so a checkout linked
into a collections tree works as well as an installed collection.
"""

from __future__ import annotations

import asyncio
import os
import sys


def _collections_root(path):
    """The directory holding ansible_collections/xprotect/go, from this file's own (unresolved) path, or None."""
    parts = os.path.abspath(path).split(os.sep)
    # <root>/ansible_collections/<namespace>/<name>/extensions/eda/plugins/event_source/<file>
    if len(parts) >= 9 and parts[-8] == 'ansible_collections':
        return os.sep.join(parts[:-8]) or os.sep
    return None


_ROOT = _collections_root(__file__)
if _ROOT and _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

try:
    from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_targets import WatchError, load_targets, parse_arguments
    from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_watch import FleetWatch
except ImportError as _error:
    raise ImportError(
        "xprotect.go.service_status cannot import the collection's code (%s): run it from an installed collection "
        'or from a checkout at <dir>/ansible_collections/xprotect/go (this file is %s)' % (_error, __file__)
    ) from None


DOCUMENTATION = r"""
---
short_description: Watch the XProtect Go services of a fleet, and say when a Recording Server needs starting
description:
  - Reads every host of the fleet with one WS-Management round trip per interval (the collection's own WinRM client;
    nothing runs on the Windows hosts), several hosts at once in a bounded pool of threads, and puts an event on the
    queue for the initial state of every XProtect service, for every change of state, and when a host stops or starts
    answering. A host that does not answer is tried again with back-off.
  - Decides the heals within the guardrails, fleet-wide. A stopped Recording Server gives a C(heal) event (the
    C(xprotect.go.keep_recording) rulebook then runs C(xprotect.go.heal) on that host), at most O(max_heals_per_hour)
    per host per hour (then one C(giving_up) event and no more heals until it is seen running or goes through
    maintenance), never more hosts at once than O(max_concurrent_heals) (the others get a C(deferred) event and wait),
    never on a host under maintenance.
  - Hosts and their connection settings come from the Ansible inventory the playbooks use (O(inventory), by default
    E(ANSIBLE_INVENTORY)), read with ansible-core's own inventory code (groups, group_vars, inventory plugins, vaulted
    and templated values), or from O(hosts). Connection settings follow the modules' precedence. These arguments,
    then each host's connection variables (ansible_host, ansible_user, ansible_password, ansible_winrm_*,
    ansible_psrp_*), then the E(XPROTECT_GO_*) environment variables, then the defaults.
  - Secrets never appear in events or in the log.
options:
  inventory:
    description:
      - Inventory sources (paths, a list or comma-separated text), as for C(ansible-playbook -i).
      - Default E(ANSIBLE_INVENTORY). Ignored when O(hosts) is given.
    type: list
    elements: str
  pattern:
    description: The inventory hosts to watch, an Ansible host pattern.
    type: str
    default: xprotect
  hosts:
    description:
      - Host names or addresses to watch instead of an inventory; the connection arguments apply to all of them.
    type: list
    elements: str
  vault_password_file:
    description:
      - Files with the vault password for vaulted inventory values. Default E(ANSIBLE_VAULT_PASSWORD_FILE);
        E(ANSIBLE_VAULT_IDENTITY_LIST) is read as well.
    type: list
    elements: str
  service_names:
    description:
      - Real Windows service names per catalog key, for hosts whose inventory has no C(xprotect_go_service_names).
    type: dict
  interval:
    description:
      - Seconds between two reads of a host.
      - Default the smallest C(xprotect_go_watch_interval) variable of the watched hosts, else 10.
    type: float
  concurrency:
    description:
      - Hosts read at the same time, at most.
      - Hosts that do not answer are tried in a pool of their own, a quarter of this size, so that hosts waiting
        for their timeouts never hold up the reads of those that answer.
    type: int
    default: 16
  max_backoff:
    description: The longest wait, in seconds, between two tries of a host that does not answer (the wait doubles from O(interval)).
    type: float
    default: 300
  heal:
    description: Whether to give C(heal), C(deferred) and C(giving_up) events at all; V(false) only watches.
    type: bool
    default: true
  max_heals_per_hour:
    description:
      - Heals per host within any hour; the next stop gives C(giving_up) instead.
      - Default the host's C(xprotect_go_heal_max_per_hour) variable, else 3.
    type: int
  max_concurrent_heals:
    description:
      - Hosts being healed at once, fleet-wide.
      - Default the smallest C(rolling_restart_max_recording_servers_down) of the watched hosts (the rolling restart's
        limit of Recording Servers down at once), else 1.
    type: int
  heal_timeout:
    description:
      - Seconds after which a heal whose outcome was not seen counts as over (the host may be healed again).
      - Default the host's C(xprotect_go_heal_timeout) variable, else 180.
    type: float
  maintenance_dir:
    description:
      - The directory of the maintenance switches (see the module C(xprotect.go.maintenance)).
      - Default the C(xprotect_go_maintenance_dir) variable of the watched hosts, else E(XPROTECT_GO_MAINTENANCE_DIR),
        else C(~/.ansible/xprotect-go/maintenance).
    type: str
  shutdown_after:
    description:
      - For tests and demonstrations. Seconds after which the source ends, and with it the rulebook; 0 never.
    type: float
    default: 0
  port: {description: WinRM port (default 5985 for http, 5986 for https)., type: int}
  scheme: {description: V(http) or V(https)., type: str}
  path: {description: WS-Management path (default /wsman)., type: str}
  username: {description: The account., type: str}
  password: {description: Its password., type: str}
  transport: {description: ntlm (default), kerberos, credssp, certificate or basic., type: str}
  validate_certs: {description: Validate the listener's TLS certificate (default true)., type: bool}
  ca_trust_path: {description: CA bundle for the listener's certificate., type: str}
  client_cert: {description: Client certificate (transport certificate)., type: str}
  client_key: {description: Its key., type: str}
  message_encryption: {description: auto (default), always or never., type: str}
  connection_timeout: {description: Seconds to wait for an answer (default 30)., type: int}
  operation_timeout: {description: The WS-Management operation timeout in seconds (default 20)., type: int}
notes:
  - The connection arguments are those of the modules (see the xprotect.go._connection documentation fragment); each
    also comes from its E(XPROTECT_GO_*) environment variable.
  - ansible-rulebook passes templated arguments; numbers given as text are accepted, and null is the same as unset
    (the rulebook xprotect.go.keep_recording passes C({{ variable | default(none) }}) so that the inventory applies).
  - The heal counts are kept in memory: restarting the rulebook starts them afresh.
"""

EXAMPLES = r"""
- name: Keep the fleet recording
  hosts: all
  sources:
    - xprotect.go.service_status:
        interval: 10
  rules:
    - name: Start a stopped Recording Server
      condition: event.xprotect_go.type == "heal"
      action:
        run_playbook:
          name: xprotect.go.heal

- name: Only watch, with explicit hosts and settings from XPROTECT_GO_USERNAME / XPROTECT_GO_PASSWORD
  hosts: all
  sources:
    - xprotect.go.service_status:
        hosts: [nvr01.example.com, nvr02.example.com]
        transport: ntlm
        scheme: http
        heal: false
  rules:
    - name: Say when a host stops answering
      condition: event.xprotect_go.type == "host_unreachable"
      action:
        debug:
          msg: "{{ event.xprotect_go.message }}"
"""

# The one description of the events. Every event is {"xprotect_go": {...}, "meta": {"hosts": <host>}}:
# meta.hosts makes run_playbook limit itself to the host. Fields by type:
EVENTS = r"""
all types:
  type: service_state, host_unreachable, host_reachable, heal, deferred or giving_up
  host: the inventory host name
  time: when it was seen, ISO 8601 UTC
  maintenance: true while the host's maintenance switch or the fleet's is on
  verdict: the host's verdict by the health rules of docs/health.md (not_recording, degraded, recording; unknown
    when a state cannot be told), as service_info gives it without the event log; null when the host could not be read
service_state, the initial state of every installed XProtect service, then every change:
  service: catalog key (recording_server, image_server, image_import, log_check, event_server, mobile_server)
  name: the Windows service name (null once it is no longer installed)
  initial: true for the first read of the host
  state: started, stopped, start_pending, stop_pending, paused, ..., or absent (no longer installed)
  previous_state: the state before (null when initial; absent for a newly installed service)
  windows_state: Windows' own word (Running, Stopped, Start Pending, ...)
  exit_code: the Win32 exit code of its last stop (1067, the process ended unexpectedly)
  process_id, previous_process_id: a new process in the same state is a change too (restarted between two reads)
  start_mode: auto, delayed, manual or disabled
host_unreachable, the host stopped answering (said once, until it answers again):
  kind: unreachable, timeout, auth, tls, access_denied, fault, protocol or error
  message: what failed and what to do (never a secret)
  retry_in: seconds until the next try (doubling from interval up to max_backoff)
host_reachable, the host answers again (its service_state changes follow):
  down_for: seconds it did not answer
heal, start this host's Recording Server now:
  service, name, state, exit_code: recording_server, and the Recording Server as last seen
  attempt: the how-manieth heal of the host within the hour
  max_per_hour, max_concurrent: the guardrails that applied
  healing: hosts being healed, this one included
deferred, it should be started but max_concurrent hosts are being healed; it waits (said once per wait):
  service, name, state, exit_code, healing, max_concurrent: as for heal
  message: what waits for what
giving_up, it stopped again after max_per_hour heals within the hour; no more heals:
  service, name, state, exit_code, max_per_hour: as for heal
  attempts: heals within the hour
  message: what happened and what ends it
"""


async def main(queue, args):
    """Watch the fleet and put events on queue until cancelled (or for shutdown_after seconds)."""
    settings = parse_arguments(args, os.environ)
    # Reading an inventory is blocking (files, plugins, vault): off the event loop.
    targets = await asyncio.to_thread(load_targets, settings, os.environ)
    await FleetWatch(settings, targets).run(queue)


if __name__ == '__main__':
    # python service_status.py INVENTORY [PATTERN [SECONDS]]: print the events of a short watch (30 s by default).

    class MockQueue:
        """Prints the events instead of queueing them."""

        async def put(self, item):
            print(item)

    _ARGS = sys.argv[1:] + [None] * 3
    try:
        asyncio.run(main(MockQueue(), {'inventory': _ARGS[0], 'pattern': _ARGS[1], 'shutdown_after': _ARGS[2] or 30}))
    except WatchError as _failure:
        sys.exit('xprotect.go.service_status: %s' % _failure)
