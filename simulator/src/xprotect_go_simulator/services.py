# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Service Control Manager of one simulated Windows machine: services and their state machine.

States are computed lazily from the clock, without threads: StartService puts a plan of timed
transitions on the service (Start Pending now, Running start_seconds later, ...) and every call
first applies the transitions that are due. History keeps each transition at the time it
logically happened, so a fake clock makes everything deterministic.

Windows behaviours modelled here, and where they come from:
- Win32_Service properties, their order (alphabetical, case-insensitive), nulls, booleans, and
  the dynamic ones (AcceptStop only while running, ExitCode 1077 for never started services):
  the Server 2003/2012 captures. DelayedAutoStart exists since Windows Server 2016.
- Method ReturnValues: the Win32_Service documentation (codes in the project's contracts).
  StartService checks Disabled before the state (as ReactOS's SCM does); StopService answers 5
  for a stopped service and 3 while dependents are active.

Nothing here locks: SimulatedHost (host.py) holds its lock around every call.
"""

from __future__ import annotations

import typing as t
import zlib

from . import soap
from .eventlog import EventLog
from .profiles import PROFILES, SERVICE_DEFAULTS
from .validation import BEHAVIOUR_KEYS, PENDING_STATES, PROPERTY_KEYS, validated

if t.TYPE_CHECKING:
    from .accounts import Accounts

SERVICE_CLASS = 'Win32_Service'
SERVICE_URI = soap.WMI_BASE + 'root/cimv2/Win32_Service'

# Every property of a Win32_Service instance, in the order WinRM writes them.
WIN32_SERVICE_PROPERTIES = tuple(
    sorted(
        (
            'AcceptPause',
            'AcceptStop',
            'Caption',
            'CheckPoint',
            'CreationClassName',
            'DelayedAutoStart',
            'Description',
            'DesktopInteract',
            'DisplayName',
            'ErrorControl',
            'ExitCode',
            'InstallDate',
            'Name',
            'PathName',
            'ProcessId',
            'ServiceSpecificExitCode',
            'ServiceType',
            'Started',
            'StartMode',
            'StartName',
            'State',
            'Status',
            'SystemCreationClassName',
            'SystemName',
            'TagId',
            'WaitHint',
        ),
        key=str.lower,
    )
)
SNAPSHOT_KEYS = (
    'Name',
    'DisplayName',
    'State',
    'StartMode',
    'DelayedAutoStart',
    'StartName',
    'ProcessId',
    'ExitCode',
    'AcceptStop',
    'PathName',
)
# ChangeStartMode's argument -> the StartMode WMI then reports.
CHANGE_START_MODES = {'automatic': 'Auto', 'manual': 'Manual', 'disabled': 'Disabled'}

# Win32_Service method ReturnValues.
SUCCESS = 0
ACCESS_DENIED = 2
DEPENDENT_SERVICES_RUNNING = 3
CANNOT_ACCEPT_CONTROL = 5
ALREADY_RUNNING = 10
DEPENDENCY_DELETED = 12
DEPENDENCY_FAILURE = 13
SERVICE_DISABLED = 14
LOGON_FAILED = 15
CIRCULAR_DEPENDENCY = 18
INVALID_PARAMETER = 21

PROCESS_TERMINATED = 1067  # ExitCode of a crashed service
CHECKPOINT_SECONDS = 0.5  # a pending service advances its CheckPoint this often
HUNG_WAIT_HINT = 2000  # ms; a hung service reports a wait hint but never advances


def account_name(user: str | None) -> str:
    """The account part of 'DOMAIN\\user', 'user@domain' or 'user', lower case."""
    user = (user or '').strip().rsplit('\\', 1)[-1]
    return user.split('@', 1)[0].lower()


def denied(service: Service, username: str | None) -> bool:
    """Whether the service's deny_users keep `username` from controlling it."""
    account = account_name(username)
    return any(account_name(user) == account for user in service.config['deny_users'])


class Service:
    """The SCM's record of one service: its configuration and its current status."""

    __slots__ = ('config', 'state', 'process_id', 'exit_code', 'plan', 'pending')

    def __init__(self, config: dict[str, t.Any]) -> None:
        self.config = config  # configure() vocabulary: Win32_Service properties + behaviour keys
        self.state = config['State']
        self.exit_code = config['ExitCode']
        self.process_id = 0
        self.plan: list[tuple[float, str, int]] = []  # future transitions: [(time, state, exit code)], in time order
        self.pending: tuple[float, float | None] | None = None  # (since, until or None when hung) while in a pending state

    @property
    def name(self) -> str:
        return self.config['Name']

    def depends_on(self, other: Service) -> bool:
        return other.name.lower() in (name.lower() for name in self.config['depends_on'])

    def running_time(self) -> float | None:
        """When a Start Pending service will be Running, or None if it will fail or hang."""
        return next((when for when, state, _code in self.plan if state == 'Running'), None)


class ServiceControlManager:
    """The services of one machine, built from a profile and the host's overrides."""

    def __init__(self, machine: str, profile: str, overrides: dict[str, dict[str, t.Any]], clock: t.Callable[[], float]) -> None:
        self.machine = machine
        self.clock = clock
        self.services: dict[str, Service] = {}
        self.history: list[dict[str, t.Any]] = []
        self.eventlog = EventLog(machine)
        self.accounts: Accounts | None = None  # accounts.Accounts, set by the host (it validates Change and log-ons)
        self._next_pid = 1000 + (zlib.crc32(machine.encode('utf-8')) % 1000) * 4
        for spec in PROFILES[profile].services:
            self.services[spec['Name'].lower()] = Service(dict(spec))
        now = clock()
        for name, changes in overrides.items():
            self.configure(name, changes, now)
        for service in self.services.values():
            if service.state != 'Stopped' and not service.process_id:
                service.process_id = self._new_pid()
        self.history = []  # overrides are the starting point, not events

    def now(self) -> float:
        """The clock's time, after applying every transition due by then."""
        now = self.clock()
        self.advance(now)
        return now

    def _new_pid(self):
        self._next_pid += 4  # Windows process ids are multiples of 4
        return self._next_pid

    def sorted_services(self) -> list[Service]:
        return sorted(self.services.values(), key=lambda service: service.name.lower())

    def find(self, name: object) -> Service | None:
        return self.services.get(str(name).lower())

    def advance(self, now: float) -> None:
        """Apply every planned transition due by now, across services, in time order; again while applying them plans
        more that are due (a crash's recovery restart)."""
        while True:
            due: list[tuple[float, int, Service]] = []
            for service in self.services.values():
                for step in service.plan:
                    if step[0] > now:
                        break
                    due.append((step[0], len(due), service))
            if not due:
                return
            due.sort(key=lambda item: (item[0], item[1]))
            for _time, _order, service in due:
                when, state, exit_code = service.plan.pop(0)
                until = service.plan[0][0] if service.plan else None
                self._apply(service, when, state, exit_code, until)

    def _apply(self, service, when, state, exit_code=0, until=None):
        previous = service.state
        service.state = state
        if state == 'Start Pending' or (state != 'Stopped' and not service.process_id):
            service.process_id = self._new_pid()
            service.exit_code = 0
        if state == 'Stopped':
            service.process_id = 0
            service.exit_code = exit_code
        service.pending = (when, until) if state in PENDING_STATES else None
        if state != previous:
            self.history.append({'time': when, 'service': service.name, 'state': state})
        if state == 'Stopped' and exit_code and previous in ('Start Pending', 'Running'):
            self._failed(service, when, exit_code, starting=previous == 'Start Pending')

    def _failed(self, service, when, exit_code, starting):
        """A service stopped by itself with an error: the SCM's events, and its recovery restart when it has one."""
        delay = service.config['recovery_restart_seconds']
        recovering = delay is not None and exit_code == PROCESS_TERMINATED
        self.eventlog.stopped_with_error(service, exit_code, when, starting, recovery_ms=delay * 1000 if recovering else None)
        if recovering:
            restart = when + delay
            service.plan = [(restart, 'Start Pending', 0), (restart + service.config['start_seconds'], 'Running', 0)]

    def properties(self, service: Service, now: float) -> dict[str, t.Any]:
        """Every Win32_Service property of the service as WMI reports it now."""
        config = service.config
        state = service.state
        active = state in ('Running', 'Paused')
        check_point, wait_hint = self._progress(service, now)
        return {
            'AcceptPause': bool(config['AcceptPause'] and active),
            'AcceptStop': bool(config['AcceptStop'] and active),
            'Caption': config['DisplayName'],
            'CheckPoint': check_point,
            'CreationClassName': SERVICE_CLASS,
            'DelayedAutoStart': config['DelayedAutoStart'],
            'Description': config['Description'],
            'DesktopInteract': config['DesktopInteract'],
            'DisplayName': config['DisplayName'],
            'ErrorControl': config['ErrorControl'],
            'ExitCode': service.exit_code,
            'InstallDate': None,
            'Name': config['Name'],
            'PathName': config['PathName'],
            'ProcessId': service.process_id,
            'ServiceSpecificExitCode': 0,
            'ServiceType': config['ServiceType'],
            'Started': state != 'Stopped',
            'StartMode': config['StartMode'],
            'StartName': config['StartName'],
            'State': state,
            'Status': 'OK',
            'SystemCreationClassName': 'Win32_ComputerSystem',
            'SystemName': self.machine.upper(),
            'TagId': 0,
            'WaitHint': wait_hint,
        }

    @staticmethod
    def _progress(service, now):
        """(CheckPoint, WaitHint) of a service: both 0 unless it is pending."""
        if not service.pending:
            return 0, 0
        since, until = service.pending
        if until is None:
            return 1, HUNG_WAIT_HINT
        return 1 + int((now - since) / CHECKPOINT_SECONDS), max(1, int((until - since) * 1000))

    def snapshot_entry(self, service: Service, now: float) -> dict[str, t.Any]:
        properties = self.properties(service, now)
        return {key: properties[key] for key in SNAPSHOT_KEYS}

    def snapshot(self, now: float) -> dict[str, dict[str, t.Any]]:
        return {service.name: self.snapshot_entry(service, now) for service in self.sorted_services()}

    # -- configure (out of band) ----------------------------------------------------------------------

    def configure(self, name: str, changes: dict[str, t.Any], now: float) -> dict[str, t.Any] | None:
        """SimulatedHost.configure(): change, add or remove a service; its snapshot entry (None once removed)."""
        changes = dict(changes)
        add = changes.pop('add', False)
        remove = changes.pop('remove', False)
        if not isinstance(name, str) or not name.strip():
            raise ValueError('a service name is required')
        unknown = set(changes) - PROPERTY_KEYS - BEHAVIOUR_KEYS
        if unknown:
            raise ValueError(
                'unknown settings %s for service %r; known: %s, add, remove'
                % (', '.join(sorted(unknown)), name, ', '.join(sorted(PROPERTY_KEYS | BEHAVIOUR_KEYS)))
            )
        values = validated(changes)
        service = self.find(name)
        if remove:
            if values or add:
                raise ValueError('remove=True takes no other settings')
            if service is None:
                raise ValueError('host %s has no service %r' % (self.machine, name))
            del self.services[name.lower()]
            return None
        if add:
            return self._add(name, service, values, now)
        if service is None:
            raise ValueError('host %s has no service %r (use add=True to create it)' % (self.machine, name))
        return self._update(service, values, now)

    def _add(self, name, existing, values, now):
        if existing is not None:
            raise ValueError('host %s already has a service %r' % (self.machine, existing.name))
        config = dict(SERVICE_DEFAULTS, Name=name, DisplayName=name)
        config.update(values)
        service = self.services[name.lower()] = Service(config)
        if service.state != 'Stopped':
            service.process_id = self._new_pid()
        return self.snapshot_entry(service, now)

    def _update(self, service, values, now):
        state = values.pop('State', None)
        exit_code = values.pop('ExitCode', None)
        service.config.update(values)
        if state is not None:
            service.plan = []
            self._apply(service, now, state)
        if exit_code is not None:
            service.exit_code = exit_code
        if values.get('crash_after_seconds') is not None and service.state == 'Running' and not service.plan:
            service.plan = [(now + values['crash_after_seconds'], 'Stopped', PROCESS_TERMINATED)]
        return self.snapshot_entry(service, now)

    # -- Win32_Service methods ---------------------------------------------------------------------------

    def start_service(self, service: Service, username: str | None, now: float) -> int:
        if denied(service, username):
            return ACCESS_DENIED
        if service.config['StartMode'] == 'Disabled':
            return SERVICE_DISABLED
        if service.state != 'Stopped':
            return ALREADY_RUNNING
        logon_error = self.accounts.logon_error(service) if self.accounts is not None else None
        if logon_error is not None:
            self.eventlog.logon_failed(service, service.config['StartName'], logon_error, now)
            return LOGON_FAILED
        code, ready = self._start_dependencies(service, now, {service.name.lower()})
        if code:
            return code
        self._begin_start(service, now, ready)
        return SUCCESS

    def _start_dependencies(self, service, now, chain):
        """Start what the service depends on, first (as the SCM does). Returns (ReturnValue, time all of them run)."""
        ready = now
        for dependency_name in service.config['depends_on']:
            dependency = self.find(dependency_name)
            if dependency is None:
                return DEPENDENCY_DELETED, None
            if dependency.name.lower() in chain:
                return CIRCULAR_DEPENDENCY, None
            if dependency.state in ('Running', 'Paused'):
                continue
            if dependency.state == 'Start Pending':
                running_at = dependency.running_time()
            elif dependency.state == 'Stopped' and dependency.config['StartMode'] != 'Disabled':
                code, dependency_ready = self._start_dependencies(dependency, now, chain | {dependency.name.lower()})
                if code:
                    return (CIRCULAR_DEPENDENCY if code == CIRCULAR_DEPENDENCY else DEPENDENCY_FAILURE), None
                running_at = self._begin_start(dependency, now, dependency_ready)
            else:
                running_at = None
            if running_at is None:
                return DEPENDENCY_FAILURE, None
            ready = max(ready, running_at)
        return SUCCESS, ready

    def _begin_start(self, service, now, ready):
        """Plan Start Pending -> Running (or failure); returns when it will be running, None if it never will."""
        config = service.config
        finish = ready + config['start_seconds']
        steps = [(now, 'Start Pending', 0)]
        running_at = None
        if config['stuck'] == 'Start Pending':
            steps = steps[:1]  # hung: no further transition ever comes
        elif config['fail_start_exit_code']:
            steps.append((finish, 'Stopped', config['fail_start_exit_code']))
        else:
            running_at = finish
            steps.append((finish, 'Running', 0))
            if config['crash_after_seconds'] is not None:
                steps.append((finish + config['crash_after_seconds'], 'Stopped', PROCESS_TERMINATED))
        service.plan = steps
        self.advance(now)
        return running_at

    def stop_service(self, service: Service, username: str | None, now: float) -> int:
        if denied(service, username):
            return ACCESS_DENIED
        if service.state in ('Stopped', 'Stop Pending'):
            return CANNOT_ACCEPT_CONTROL
        if any(other.state != 'Stopped' and other.depends_on(service) for other in self.services.values()):
            return DEPENDENT_SERVICES_RUNNING
        if not (service.config['AcceptStop'] and service.state in ('Running', 'Paused')):
            return CANNOT_ACCEPT_CONTROL
        steps = [(now, 'Stop Pending', 0)]
        if service.config['stuck'] != 'Stop Pending':
            steps.append((now + service.config['stop_seconds'], 'Stopped', 0))
        service.plan = steps
        self.advance(now)
        return SUCCESS

    def change(self, service: Service, username: str | None, params: dict[str, t.Any]) -> int:
        """Win32_Service.Change: the log-on account (and start mode, desktop interaction), see accounts.py."""
        if denied(service, username):
            return ACCESS_DENIED
        return t.cast('Accounts', self.accounts).change(service, params)

    @staticmethod
    def change_start_mode(service: Service, username: str | None, mode: str | None) -> int:
        if denied(service, username):
            return ACCESS_DENIED
        start_mode = CHANGE_START_MODES.get((mode or '').lower())
        if start_mode is None:
            return INVALID_PARAMETER
        service.config['StartMode'] = start_mode
        return SUCCESS
