# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulated Service Control Manager, driven through WMI method calls with a fake clock."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET

import pytest

from xprotect_go_simulator import soap
from xprotect_go_simulator.host import HKEY_LOCAL_MACHINE, SERVICE_URI, SNAPSHOT_KEYS, STDREGPROV_URI, SimulatedHost
from xprotect_go_simulator.profiles import EVENT_SERVER, IMAGE_SERVER, MOBILE_SERVER, PROFILES, RECORDING_SERVER

START = 1_700_000_000.0


class FakeClock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(name='clock')
def clock_fixture():
    return FakeClock()


@pytest.fixture(name='host')
def host_fixture(clock):
    return SimulatedHost('xpgo-01', clock=clock)


def invoke(host, method, service=None, user='xpgo-admin', uri=SERVICE_URI, **params):
    """Call a WMI method through handle(); returns the <Method>_OUTPUT values as {name: text}."""
    arguments = ''.join('<p:%s>%s</p:%s>' % (name, value, name) for name, value in params.items())
    body = '<p:%s_INPUT xmlns:p="%s">%s</p:%s_INPUT>' % (method, uri, arguments, method)
    request = soap.build_request('%s/%s' % (uri, method), uri, body, selectors={'Name': service} if service else None)
    status, reply = host.handle(request, user)
    assert status == 200, reply
    output = ET.fromstring(reply).find('{%s}Body/{%s}%s_OUTPUT' % (soap.NS_SOAP, uri, method))
    return {child.tag.rsplit('}', 1)[1]: child.text for child in output}


def code(host, method, service, user='xpgo-admin', **params):
    return int(invoke(host, method, service, user, **params)['ReturnValue'])


def state(host, name):
    return host.snapshot()[name]


def test_start_goes_through_start_pending_with_a_fresh_pid(host, clock):
    assert code(host, 'StopService', IMAGE_SERVER) == 0
    clock.advance(5)
    first_pid = state(host, IMAGE_SERVER)
    assert first_pid['State'] == 'Stopped' and first_pid['ProcessId'] == 0
    assert code(host, 'StartService', IMAGE_SERVER) == 0
    pending = state(host, IMAGE_SERVER)
    assert pending['State'] == 'Start Pending' and pending['ProcessId'] > 0 and pending['AcceptStop'] is False
    clock.advance(0.99)
    assert state(host, IMAGE_SERVER)['State'] == 'Start Pending'
    clock.advance(0.01)
    running = state(host, IMAGE_SERVER)
    assert running['State'] == 'Running' and running['ProcessId'] == pending['ProcessId'] and running['AcceptStop'] is True
    # Every start is a new process.
    clock.advance(1)
    assert code(host, 'StopService', IMAGE_SERVER) == 0
    clock.advance(1)
    assert code(host, 'StartService', IMAGE_SERVER) == 0
    assert state(host, IMAGE_SERVER)['ProcessId'] not in (0, pending['ProcessId'])


def test_history_records_when_transitions_happened_not_when_seen(host, clock):
    assert code(host, 'StopService', RECORDING_SERVER) == 0
    clock.advance(30)  # nobody looks for a while
    assert host.history == [
        {'time': START, 'service': RECORDING_SERVER, 'state': 'Stop Pending'},
        {'time': START + 1.0, 'service': RECORDING_SERVER, 'state': 'Stopped'},
    ]


def test_failed_start_ends_stopped_with_the_exit_code(host, clock):
    host.configure(IMAGE_SERVER, State='Stopped', fail_start_exit_code=1067)
    assert code(host, 'StartService', IMAGE_SERVER) == 0  # the caller learns of the failure by polling
    assert state(host, IMAGE_SERVER)['State'] == 'Start Pending'
    clock.advance(1.0)
    failed = state(host, IMAGE_SERVER)
    assert (failed['State'], failed['ExitCode'], failed['ProcessId']) == ('Stopped', 1067, 0)
    assert [event['state'] for event in host.history] == ['Stopped', 'Start Pending', 'Stopped']


def test_stuck_start_never_finishes_and_cannot_be_stopped(host, clock):
    host.configure(IMAGE_SERVER, State='Stopped', stuck='Start Pending')
    assert code(host, 'StartService', IMAGE_SERVER) == 0
    clock.advance(3600)
    assert state(host, IMAGE_SERVER)['State'] == 'Start Pending'
    assert code(host, 'StopService', IMAGE_SERVER) == 5  # no controls while start pending
    assert code(host, 'StartService', IMAGE_SERVER) == 10  # the SCM says: already running


def test_stuck_stop_pending(host, clock):
    host.configure(IMAGE_SERVER, stuck='Stop Pending')
    assert code(host, 'StopService', IMAGE_SERVER) == 0
    clock.advance(3600)
    assert state(host, IMAGE_SERVER)['State'] == 'Stop Pending'
    assert code(host, 'StopService', IMAGE_SERVER) == 5


def test_crash_after_start(host, clock):
    host.configure(IMAGE_SERVER, State='Stopped', crash_after_seconds=10)
    assert code(host, 'StartService', IMAGE_SERVER) == 0
    clock.advance(5)
    assert state(host, IMAGE_SERVER)['State'] == 'Running'
    clock.advance(6.5)
    crashed = state(host, IMAGE_SERVER)
    assert (crashed['State'], crashed['ExitCode']) == ('Stopped', 1067)
    assert host.history[-1] == {'time': START + 11.0, 'service': IMAGE_SERVER, 'state': 'Stopped'}


def test_crash_configured_on_a_running_service(host, clock):
    host.configure(RECORDING_SERVER, crash_after_seconds=2)
    clock.advance(2)
    assert state(host, RECORDING_SERVER)['ExitCode'] == 1067


def test_stop_with_running_dependents_is_refused(host, clock):
    assert code(host, 'StopService', 'RpcSs') == 3
    host.configure('RpcSs', AcceptStop=True)
    for service in host.snapshot().values():
        if service['Name'] != 'RpcSs' and service['State'] == 'Running':
            host.configure(service['Name'], State='Stopped')
    assert code(host, 'StopService', 'RpcSs') == 0


def test_start_starts_stopped_dependencies_first(host, clock):
    host.configure(RECORDING_SERVER, State='Stopped')
    host.configure('RpcSs', State='Stopped', start_seconds=2.0)
    assert code(host, 'StartService', RECORDING_SERVER) == 0
    assert state(host, 'RpcSs')['State'] == 'Start Pending'
    clock.advance(2.0)
    assert state(host, 'RpcSs')['State'] == 'Running'
    assert state(host, RECORDING_SERVER)['State'] == 'Start Pending'
    clock.advance(1.5)
    assert state(host, RECORDING_SERVER)['State'] == 'Running'
    starts = [(event['service'], event['state']) for event in host.history if event['time'] == START]
    assert starts[-2:] == [('RpcSs', 'Start Pending'), (RECORDING_SERVER, 'Start Pending')]


@pytest.mark.parametrize(
    'dependency, expected',
    [
        ({'StartMode': 'Disabled'}, 13),
        ({'fail_start_exit_code': 1053}, 13),
        ({'stuck': 'Start Pending'}, 13),
    ],
)
def test_a_dependency_that_cannot_start_fails_the_start(host, dependency, expected):
    host.configure(IMAGE_SERVER, State='Stopped')
    host.configure('RpcSs', State='Stopped', **dependency)
    assert code(host, 'StartService', IMAGE_SERVER) == expected
    assert state(host, IMAGE_SERVER)['State'] == 'Stopped'


def test_missing_and_circular_dependencies(host):
    host.configure(IMAGE_SERVER, State='Stopped', depends_on=['NoSuchService'])
    assert code(host, 'StartService', IMAGE_SERVER) == 12
    host.configure('A', add=True, State='Stopped', depends_on=['B'])
    host.configure('B', add=True, State='Stopped', depends_on=['A'])
    assert code(host, 'StartService', 'A') == 18


@pytest.mark.parametrize('user', ['operator', 'XPGO\\Operator', 'operator@xpgo.example'])
def test_access_denied_for_listed_users_whatever_the_domain(host, user):
    host.configure(IMAGE_SERVER, deny_users=['xpgo\\OPERATOR'])
    assert code(host, 'StopService', IMAGE_SERVER, user=user) == 2
    assert code(host, 'StartService', IMAGE_SERVER, user=user) == 2
    assert code(host, 'ChangeStartMode', IMAGE_SERVER, user=user, StartMode='Manual') == 2
    assert set_delayed(host, IMAGE_SERVER, 1, user=user) == 5
    assert state(host, IMAGE_SERVER)['State'] == 'Running'
    assert code(host, 'StopService', IMAGE_SERVER, user='xpgo-admin') == 0


def test_start_refusals(host):
    assert code(host, 'StartService', RECORDING_SERVER) == 10
    host.configure(IMAGE_SERVER, State='Stopped', StartMode='Disabled')
    assert code(host, 'StartService', IMAGE_SERVER) == 14
    host.configure(RECORDING_SERVER, StartMode='Disabled')
    assert code(host, 'StartService', RECORDING_SERVER) == 14  # Disabled is checked before the state
    assert code(host, 'StopService', 'W32Time') == 0
    assert code(host, 'StopService', 'W32Time') == 5  # already stopped (instant stop)


@pytest.mark.parametrize('mode, reported', [('Automatic', 'Auto'), ('Manual', 'Manual'), ('Disabled', 'Disabled')])
def test_change_start_mode(host, mode, reported):
    assert code(host, 'ChangeStartMode', IMAGE_SERVER, StartMode=mode) == 0
    assert state(host, IMAGE_SERVER)['StartMode'] == reported
    assert state(host, IMAGE_SERVER)['State'] == 'Running'


@pytest.mark.parametrize('mode', ['Auto', 'Boot', 'Delayed', ''])
def test_change_start_mode_invalid_parameter(host, mode):
    assert code(host, 'ChangeStartMode', IMAGE_SERVER, StartMode=mode) == 21
    assert state(host, IMAGE_SERVER)['StartMode'] == 'Auto'


def set_delayed(host, service, value, user='xpgo-admin', key='SYSTEM\\CurrentControlSet\\Services\\%s'):
    return int(
        invoke(
            host,
            'SetDWORDValue',
            uri=STDREGPROV_URI,
            user=user,
            hDefKey=HKEY_LOCAL_MACHINE,
            sSubKeyName=key % service,
            sValueName='DelayedAutostart',
            uValue=value,
        )['ReturnValue']
    )


def get_dword(host, key, value_name):
    return invoke(host, 'GetDWORDValue', uri=STDREGPROV_URI, hDefKey=HKEY_LOCAL_MACHINE, sSubKeyName=key, sValueName=value_name)


def test_delayed_auto_start_through_the_registry(host):
    key = 'SYSTEM\\CurrentControlSet\\Services\\' + IMAGE_SERVER
    assert get_dword(host, key, 'DelayedAutostart') == {'ReturnValue': '1'}  # never written: no value
    assert set_delayed(host, IMAGE_SERVER, 1) == 0
    assert state(host, IMAGE_SERVER)['DelayedAutoStart'] is True
    assert get_dword(host, key.lower(), 'delayedautostart') == {'ReturnValue': '0', 'uValue': '1'}
    assert set_delayed(host, IMAGE_SERVER, 0) == 0
    assert state(host, IMAGE_SERVER)['DelayedAutoStart'] is False
    assert set_delayed(host, 'NoSuchService', 1) == 2
    assert set_delayed(host, IMAGE_SERVER, 1, key='SOFTWARE\\Milestone\\%s') == 2
    assert get_dword(host, 'SYSTEM\\CurrentControlSet\\Services\\sppsvc', 'DelayedAutostart')['uValue'] == '1'


def test_other_registry_values_are_kept(host):
    key = 'SYSTEM\\CurrentControlSet\\Services\\Spooler'
    assert invoke(host, 'SetDWORDValue', uri=STDREGPROV_URI, sSubKeyName=key, sValueName='Start', uValue=3)['ReturnValue'] == '0'
    assert get_dword(host, key, 'START') == {'ReturnValue': '0', 'uValue': '3'}
    assert invoke(host, 'SetDWORDValue', uri=STDREGPROV_URI, sSubKeyName=key, sValueName='Start', uValue=-1)['ReturnValue'] == '87'


def test_profiles():
    standard = SimulatedHost('a').snapshot()
    assert {RECORDING_SERVER, IMAGE_SERVER, MOBILE_SERVER, EVENT_SERVER, 'RpcSs', 'WinRM'} <= set(standard)
    assert all(
        entry['State'] == 'Running' and entry['StartMode'] == 'Auto' and entry['StartName'] == 'LocalSystem'
        for name, entry in standard.items()
        if name.startswith('Milestone')
    )
    custom = SimulatedHost('b', profile='custom').snapshot()
    assert MOBILE_SERVER not in custom and EVENT_SERVER not in custom and RECORDING_SERVER in custom
    domain = SimulatedHost('c', profile='image_server_domain_account').snapshot()
    assert domain[IMAGE_SERVER]['StartName'] == 'XPGO\\svc-imageserver'
    assert set(PROFILES) == {'standard', 'custom', 'image_server_domain_account'}
    with pytest.raises(ValueError):
        SimulatedHost('d', profile='nonsense')


def test_snapshot_has_the_contract_keys(host):
    entry = host.snapshot()[RECORDING_SERVER]
    assert tuple(entry) == SNAPSHOT_KEYS
    assert entry['PathName'] == '"C:\\Program Files\\Milestone\\XProtect Recording Server\\RecordingServer.exe"'


def test_configure_validates_and_reports(host):
    with pytest.raises(ValueError, match='colour'):
        host.configure(IMAGE_SERVER, colour='blue')
    with pytest.raises(ValueError):
        host.configure(IMAGE_SERVER, State='Sleeping')
    with pytest.raises(ValueError):
        host.configure(IMAGE_SERVER, StartMode='Automatic')
    with pytest.raises(ValueError):
        host.configure(IMAGE_SERVER, start_seconds=-1)
    with pytest.raises(ValueError):
        host.configure('NoSuchService', State='Stopped')
    with pytest.raises(ValueError):
        host.configure(IMAGE_SERVER, add=True)
    entry = host.configure('milestone image server', StartName='XPGO\\svc', AcceptStop=False)
    assert entry['StartName'] == 'XPGO\\svc' and entry['AcceptStop'] is False
    assert code(host, 'StopService', IMAGE_SERVER) == 5


def test_add_remove_and_reset(clock):
    host = SimulatedHost('xpgo-02', overrides={IMAGE_SERVER: {'State': 'Stopped'}}, clock=clock)
    assert host.snapshot()[IMAGE_SERVER]['State'] == 'Stopped' and host.history == []
    added = host.configure('Milestone XProtect Management Server', add=True, StartMode='Manual')
    assert added['State'] == 'Running' and added['ProcessId'] > 0 and added['DisplayName'] == 'Milestone XProtect Management Server'
    assert host.configure(RECORDING_SERVER, remove=True) is None
    assert RECORDING_SERVER not in host.snapshot()
    host.endless_enumeration = True
    host.configure(IMAGE_SERVER, State='Running')
    host.reset()
    snapshot = host.snapshot()
    assert RECORDING_SERVER in snapshot and 'Milestone XProtect Management Server' not in snapshot
    assert snapshot[IMAGE_SERVER]['State'] == 'Stopped'  # the constructor's overrides stay
    assert host.history == [] and host.endless_enumeration is False


def test_concurrent_starts_start_once(host):
    host.configure(IMAGE_SERVER, State='Stopped')
    results = []
    barrier = threading.Barrier(16)

    def start():
        barrier.wait()
        results.append(code(host, 'StartService', IMAGE_SERVER))

    threads = [threading.Thread(target=start) for _thread in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [0] + [10] * 15


def test_hosts_are_cheap_to_build():
    # CPU time of this thread, not the wall clock: other processes and threads on a busy machine cannot
    # add to it, so it cannot flake. 200 hosts take about 0.02 s of it; 10 s leaves a margin of hundreds:
    # only hosts that compute something costly when built (keys, certificates) fail this.
    began = time.thread_time()
    hosts = [SimulatedHost('xpgo-%03d' % index, profile=('standard', 'custom')[index % 2]) for index in range(200)]
    assert time.thread_time() - began < 10.0
    assert len({host.snapshot()[RECORDING_SERVER]['ProcessId'] for host in hosts}) > 1
