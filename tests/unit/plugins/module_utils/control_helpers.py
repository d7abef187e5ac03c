# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for the control layer's tests: a clock, and an in-memory Windows host that can refuse or lose answers.

Not a conftest: the test files import what they use (``from control_helpers import ...``).
"""

from __future__ import annotations

import datetime

from ansible_collections.xprotect.go.plugins.module_utils import _accounts as accounts
from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._windows import WMI_START_MODES, ControlRefused, ServiceStatus

NAMES = {
    'recording_server': 'Milestone XProtect Recording Server',
    'image_server': 'Milestone Image Server',
    'image_import': 'Milestone Image Import Service',
    'log_check': 'Milestone Log Check Service',
    'event_server': 'MilestoneEventServerService',
    'mobile_server': 'Milestone Mobile Service',
}
DURATIONS = {
    'recording_server': (2.0, 1.0),
    'image_server': (1.0, 0.5),
    'image_import': (0.6, 0.3),
    'log_check': (0.4, 0.2),
    'event_server': (1.2, 0.7),
    'mobile_server': (0.8, 0.4),
}
ENDPOINT = 'https://nvr01:5986/wsman'
CHECK_POINT_SECONDS = 0.5  # a pending service's CheckPoint advances this often (as in the simulator)
# What the WS-Man client says for each kind of failure (_wsman_errors' words, shortened).
FAULT_MESSAGES = {
    'unreachable': 'the WinRM listener at %s closed the connection before answering: the host may be restarting or overloaded, '
    'or something in between drops connections; check the host, then run the task again' % ENDPOINT,
    'timeout': 'could not get an answer from the WinRM listener at %s within connection_timeout (30 s): check that the host is '
    'up and not overloaded, or raise connection_timeout (ansible_winrm_read_timeout_sec)' % ENDPOINT,
    'protocol': 'unexpected reply from the WinRM listener (not well-formed XML: unclosed token: line 1, column 40): check that '
    'ansible_host/ansible_port point at a Windows WinRM listener',
    'access_denied': 'access denied to %s (ReturnValue 2): the account needs the right to start and stop this service',
    'service': '%s failed: the service is disabled (ReturnValue 14)',
    'fault': '%s failed: WS-Management fault w:InternalError (code 2150858770): the provider failed',
}
EVENT_LOG_DENIED = (
    'WQL query "SELECT ... FROM Win32_NTLogEvent" failed: access denied (Access is denied.): the account needs '
    'membership in the Remote Management Users group'
)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0, 'slept a negative time'
        self.now += seconds


class FakeWindows:
    """What HostServices would see on a host, with Windows' timing and rules, driven by the fake clock.

    inject() makes calls fail the way a network or Windows does: before the call is carried out
    (refused, or lost on the way) or after it (carried out, but the answer is lost).
    """

    host = 'nvr01'
    request_timeout = 30

    def __init__(self, clock, state='Running', keys=tuple(NAMES)):
        self.clock = clock
        self.calls = []
        self.services = {}
        self.faults = []
        self.events = []  # Win32_NTLogEvent records (failure_events answers with them, newest last)
        self.event_log_denied = False  # the account is not in Event Log Readers: failure_events is access denied
        self.change_refusal = None  # a ReturnValue Change answers with instead of 0
        self.read_each = []  # for each poll, whether it was asked to Get each service (a read at a due time)
        for key in keys:
            start, stop = DURATIONS[key]
            self.add(NAMES[key], state=state, start=start, stop=stop)
        self.add('Spooler', state='Running')

    def add(self, name, state='Running', start=0.5, stop=0.5, depends_on=(), **extra):
        self.services[name.lower()] = dict(
            {
                'Name': name,
                'DisplayName': name,
                'State': state,
                'StartMode': 'Auto',
                'DelayedAutoStart': 'false',
                'StartName': 'LocalSystem',
                'ProcessId': '0',
                'ExitCode': '0',
                'PathName': 'C:\\%s.exe' % name.replace(' ', ''),
                'AcceptStop': 'true',
            },
            _start=start,
            _stop=stop,
            _until=None,
            _then=None,
            _since=None,  # when the current start or stop began
            _hint=None,  # the WaitHint (ms) it reports while pending; None: the time it takes
            _depends_on=[d.lower() for d in depends_on],
            _fail=None,
            _stuck=False,
            **extra,
        )

    def inject(self, method, kind, carried_out=False, times=1, cost=0.0, when=None):
        """The next `times` calls of method ('StartService', 'StopService', 'ChangeStartMode', 'SetDWORDValue', 'poll',
        'discover') raise XProtectError(kind): after carrying the call out when carried_out, else instead of it.
        Each failure takes `cost` seconds of the fake clock (a read timeout); `when()` must be true for it to apply."""
        self.faults.append({'method': method, 'kind': kind, 'carried_out': carried_out, 'times': times, 'cost': cost, 'when': when})

    def _fault(self, method, carried_out):
        for fault in self.faults:
            if (
                fault['method'] == method
                and fault['times']
                and fault['carried_out'] == carried_out
                and (fault['when'] is None or fault['when']())
            ):
                fault['times'] -= 1
                self.clock.now += fault['cost']
                self.calls.append(('lost' if carried_out else 'failed', method, fault['kind']))
                text = FAULT_MESSAGES[fault['kind']]
                raise XProtectError(text % method if '%s' in text else text, host=self.host, kind=fault['kind'])

    def _settle(self, service):
        if service['_until'] is not None and self.clock() >= service['_until'] and not service['_stuck']:
            service['State'], service['_until'] = service['_then'], None
            if service['_fail'] is not None and service['State'] == 'Running':
                service['State'], service['ExitCode'] = 'Stopped', str(service['_fail'])
        return service

    def _record(self, name):
        service = self._settle(self.services[name.lower()])
        record = {k: v for k, v in service.items() if not k.startswith('_')}
        hint, check_point = 0, 0
        if service['State'].endswith('Pending') and service['_since'] is not None:
            # Like the simulator: a CheckPoint every CHECK_POINT_SECONDS while it progresses, and one hint for all of it.
            hint = service['_hint'] if service['_hint'] is not None else round((service['_until'] - service['_since']) * 1000)
            check_point = 1 if service['_stuck'] else 1 + int((self.clock() - service['_since']) / CHECK_POINT_SECONDS)
        record.update(WaitHint=str(hint), CheckPoint=str(check_point))
        return record

    def state(self, key_or_name):
        """The true Windows state of a service (out of band, no call recorded)."""
        return self._record(NAMES.get(key_or_name, key_or_name))['State']

    # HostServices' interface
    def discover(self, overrides=None, extra_names=(), dependencies=False):
        self._fault('discover', False)
        self.calls.append(('discover',))
        return [self._record(name) for name in self.services]

    def poll(self, names, each=False):
        self._fault('poll', False)
        self.calls.append(('poll', tuple(sorted(names))))
        self.read_each.append(each)
        statuses = {name.lower(): ServiceStatus(self._record(name)) for name in names if name.lower() in self.services}
        self._fault('poll', True)
        return statuses

    def dependents_of(self, names, known):
        self.calls.append(('dependents_of', tuple(sorted(names))))
        return {
            name.lower(): [
                ServiceStatus(self._record(other)) for other, s in sorted(self.services.items()) if name.lower() in s['_depends_on']
            ]
            for name in names
        }

    def start(self, name):
        self._fault('StartService', False)
        self.calls.append(('start', name, self.clock()))
        service = self._settle(self.services[name.lower()])
        if service['StartMode'] == 'Disabled':
            raise AssertionError('the plan started a disabled service')
        service.update(State='Start Pending', _since=self.clock(), _until=self.clock() + service['_start'], _then='Running')
        self._fault('StartService', True)

    def stop(self, name):
        self._fault('StopService', False)
        self.calls.append(('stop', name, self.clock()))
        service = self._settle(self.services[name.lower()])
        running = [o for o, s in self.services.items() if name.lower() in s['_depends_on'] and self._settle(s)['State'] != 'Stopped']
        if running:
            raise AssertionError('stopped %s while %s depend on it' % (name, running))
        service.update(State='Stop Pending', _since=self.clock(), _until=self.clock() + service['_stop'], _then='Stopped')
        self._fault('StopService', True)

    def change_start_mode(self, name, start_mode):
        self._fault('ChangeStartMode', False)
        self.calls.append(('start_mode', name, start_mode))
        self.services[name.lower()]['StartMode'] = WMI_START_MODES[start_mode].replace('Automatic', 'Auto')
        self._fault('ChangeStartMode', True)

    def set_delayed(self, name, delayed):
        self._fault('SetDWORDValue', False)
        self.calls.append(('delayed', name, delayed))
        self.services[name.lower()]['DelayedAutoStart'] = 'true' if delayed else 'false'
        self._fault('SetDWORDValue', True)

    def log_event(self, code, strings, message, seconds_ago=0.0):
        """Add a Service Control Manager event to the fake System log (TimeGenerated: now minus seconds_ago, real UTC)."""
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
        self.events.append(
            {
                'EventCode': str(code),
                'InsertionStrings': list(strings),
                'Logfile': 'System',
                'Message': message,
                'RecordNumber': str(len(self.events) + 100),
                'SourceName': 'Service Control Manager',
                'TimeGenerated': when.isoformat(),
                'Type': 'Error',
            }
        )

    def failure_events(self, query, limit):
        self._fault('failure_events', False)
        self.calls.append(('failure_events', query, limit))
        if self.event_log_denied:
            raise XProtectError(EVENT_LOG_DENIED, host=self.host, kind='access_denied')
        return list(self.events)[:limit]

    def change_account(self, name, account, password):
        self._fault('Change', False)
        self.calls.append(('change_account', name, account, password is not None))
        if self.change_refusal == 'echo':
            # A provider that quotes what it was sent back: the password must never get further than this.
            raise XProtectError('Change failed: the provider says StartPassword %s is not valid here' % password, kind='fault')
        if self.change_refusal is not None:
            raise ControlRefused(
                'Change failed (ReturnValue %s)' % self.change_refusal, self.change_refusal, host=self.host, service=name, kind='service'
            )
        service = self.services[name.lower()]
        service['StartName'], service['_password'] = accounts.start_name(account), password
        self._fault('Change', True)

    def is_delayed(self, name):
        return self.services[name.lower()]['DelayedAutoStart'] == 'true'

    def actions(self, kind):
        return [call for call in self.calls if call[0] == kind]


def converge(windows, clock, check_mode=False, diff=False, **params):
    """The service module's job against the fake host, with the fake clock."""
    params.setdefault('timeout', 60)
    params.setdefault('missing', 'auto')
    return tasks.converge(windows, params, check_mode=check_mode, diff=diff, clock=clock, sleep=clock.sleep)


def converge_fails(windows, clock, **params):
    """converge() that must raise XProtectError; returns the error."""
    try:
        converge(windows, clock, **params)
    except XProtectError as error:
        return error
    raise AssertionError('converge did not fail')
