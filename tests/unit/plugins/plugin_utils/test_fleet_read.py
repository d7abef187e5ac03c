# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""plugin_utils/_fleet_read: every host read with its own settings, a bounded number at once."""

from __future__ import annotations

import threading
import time

import pytest
from control_helpers import NAMES, FakeClock, FakeWindows

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks
from ansible_collections.xprotect.go.plugins.module_utils._connection import resolve_connection
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.plugin_utils import _fleet_read as fleet_read

PARAMS = {'failures': 'auto', 'failure_lookback': 1440}
GROUP = {'ansible_connection': 'winrm', 'ansible_user': 'ops', 'ansible_password': 'Group-Pass-1', 'ansible_winrm_scheme': 'http'}


@pytest.fixture
def connected(monkeypatch):
    """Replace the read itself: each host's 'result' is the settings it would have connected with."""

    def fake(params, host_settings, environ):
        settings = resolve_connection(params, host_settings, environ)
        return {'endpoint': settings.endpoint, 'user': settings.username, 'password': settings.password, 'names': params['service_names']}

    monkeypatch.setattr(fleet_read, 'run_service_info', fake)


def read(fleet, environ=None, workers=4):
    """Read {name: variables or error}, each host with the settings its variables give (host_from_vars)."""
    hosts = {name: value if isinstance(value, XProtectError) else fleet_read.host_from_vars(name, value) for name, value in fleet.items()}
    return fleet_read.read_fleet(hosts, PARAMS, environ or {}, workers)


def test_each_host_gets_its_own_settings_and_only_those(connected):
    fleet = {
        'nvr01': dict(GROUP, ansible_host='10.0.0.1', ansible_password='Own-Pass-1'),
        'nvr02': dict(GROUP, ansible_host='10.0.0.2', ansible_port=5995, xprotect_go_service_names={'recording_server': 'RS'}),
        'nvr03': dict(GROUP, ansible_host='10.0.0.3', ansible_winrm_user='site3\\ops', ansible_winrm_password='Site-3'),
    }
    results = read(fleet)
    assert list(results) == ['nvr01', 'nvr02', 'nvr03']
    assert results['nvr01'] == {
        'endpoint': 'http://10.0.0.1:5985/wsman',
        'user': 'ops',
        'password': 'Own-Pass-1',
        'names': None,
        'changed': False,
    }
    assert (results['nvr02']['endpoint'], results['nvr02']['password']) == ('http://10.0.0.2:5995/wsman', 'Group-Pass-1')
    assert results['nvr02']['names'] == {'recording_server': 'RS'}
    assert (results['nvr03']['user'], results['nvr03']['password']) == ('site3\\ops', 'Site-3')


def test_psrp_hosts_read_the_psrp_variables(connected):
    psrp = {
        'ansible_connection': 'ansible.builtin.psrp',
        'ansible_host': 'nvr04.example.com',
        'ansible_psrp_user': 'psrp-ops',
        'ansible_password': 'Psrp-Pass',
        'ansible_psrp_protocol': 'https',
        'ansible_psrp_port': 5996,
        'ansible_psrp_path': 'wsman',
        # A winrm spelling on a psrp host is not the psrp plugin's; it must not win.
        'ansible_winrm_port': 1,
    }
    result = read({'nvr04': psrp})['nvr04']
    assert (result['endpoint'], result['user'], result['password']) == ('https://nvr04.example.com:5996/wsman', 'psrp-ops', 'Psrp-Pass')


def test_a_host_without_ansible_host_is_reached_at_its_name_and_the_environment_fills_in(connected):
    environ = {'XPROTECT_GO_USERNAME': 'env-ops', 'XPROTECT_GO_PASSWORD': 'Env-Pass', 'XPROTECT_GO_HOST': 'elsewhere.example.com'}
    result = read({'nvr05.example.com': {'ansible_connection': 'winrm'}}, environ)['nvr05.example.com']
    assert (result['endpoint'], result['user'], result['password']) == ('https://nvr05.example.com:5986/wsman', 'env-ops', 'Env-Pass')


def test_a_host_with_a_bad_endpoint_fails_alone_with_the_message_service_info_gives(connected):
    fleet = {'good': dict(GROUP, ansible_host='10.0.0.1'), 'bad': dict(GROUP, ansible_host='ops:Group-Pass-1@nvr 06')}
    results = read(fleet)
    assert results['good']['endpoint'] == 'http://10.0.0.1:5985/wsman'
    bad = results['bad']
    assert (bad['failed'], bad['changed'], 'unreachable' in bad) == (True, False, False)
    with pytest.raises(XProtectError) as today:
        resolve_connection({}, fleet_read.host_from_vars('bad', fleet['bad']).settings, {})
    assert bad['msg'] == str(today.value)
    assert bad['msg'].startswith("host '***@nvr 06' from inventory variable ansible_host is not a DNS name")
    assert 'Group-Pass-1' not in str(bad)


def test_unreachable_and_failed_hosts_have_the_shape_and_verdict_service_info_gives(monkeypatch):
    def host_services(params, host_settings, environ):
        settings = resolve_connection(params, host_settings, environ)
        if settings.host == '10.0.0.9':
            raise XProtectError('%s: no answer within 30 s' % settings.host, kind=errors.TIMEOUT)
        raise XProtectError('%s: the listener answered HTTP 500' % settings.host, kind=errors.FAULT)

    monkeypatch.setattr(tasks, '_host_services', host_services)
    results = read({'gone': dict(GROUP, ansible_host='10.0.0.9'), 'broken': dict(GROUP, ansible_host='10.0.0.8')})
    assert results['gone']['unreachable'] is True and 'failed' not in results['gone']
    assert (results['gone']['msg'], results['gone']['verdict']) == ('10.0.0.9: no answer within 30 s', 'unreachable')
    assert results['gone']['reasons'][0]['rule'] == 'host_unreachable'
    assert (results['broken']['failed'], results['broken']['verdict']) == (True, 'unknown')


def test_a_host_whose_variables_could_not_be_resolved_fails_alone(connected):
    problem = XProtectError('the connection variables of nvr07 could not be resolved: undefined', kind=errors.INVALID)
    results = read({'nvr07': problem, 'nvr08': dict(GROUP, ansible_host='10.0.0.8')})
    assert results['nvr07'] == {'failed': True, 'changed': False, 'msg': str(problem)}
    assert results['nvr08']['endpoint'] == 'http://10.0.0.8:5985/wsman'


def test_at_most_the_bound_of_hosts_are_read_at_once(monkeypatch):
    lock, running, most = threading.Lock(), [0], [0]

    def slow(params, host_settings, environ):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return {'host': host_settings['host']}

    monkeypatch.setattr(fleet_read, 'run_service_info', slow)
    fleet = {'nvr%02d' % index: dict(GROUP, ansible_host='10.0.0.%d' % index) for index in range(1, 21)}
    results = read(fleet, workers=3)
    assert [result['host'] for result in results.values()] == ['10.0.0.%d' % index for index in range(1, 21)]
    assert 1 < most[0] <= 3
    assert read({}) == {}


@pytest.mark.parametrize('requested, forks, expected', [(None, 50, 50), (None, None, 50), (7, 50, 7), (None, 5, 5)])
def test_concurrency_is_the_tasks_else_the_forks(requested, forks, expected):
    assert fleet_read.concurrency(requested, forks) == expected


@pytest.mark.parametrize('requested', [0, -1, 1001])
def test_concurrency_out_of_range_is_refused(requested):
    with pytest.raises(XProtectError, match='concurrency must be between 1 and 1000'):
        fleet_read.concurrency(requested, 50)


def test_warnings_name_their_host():
    results = {'nvr01': {'warnings': ['The Recording Server service is stopped.']}, 'nvr02': {'failed': True}}
    assert fleet_read.fleet_warnings(results) == ['nvr01: The Recording Server service is stopped.']


@pytest.fixture
def windows_by_address(monkeypatch):
    """Each host's address -> a FakeWindows host (control_helpers) that the service module's job talks to."""
    clock = FakeClock()
    hosts = {
        '10.0.0.1': FakeWindows(clock),
        '10.0.0.2': FakeWindows(clock, keys=('recording_server', 'image_server', 'image_import', 'log_check')),
        '10.0.0.3': FakeWindows(clock, state='Stopped'),
        '10.0.0.4': FakeWindows(clock, state='Stopped'),
    }
    hosts['10.0.0.4'].services[NAMES['recording_server'].lower()]['StartMode'] = 'Disabled'

    def host_services(params, host_settings, environ):
        address = resolve_connection(params, host_settings, environ).host
        if address not in hosts:
            raise XProtectError('%s: no answer within 30 s' % address, kind=errors.TIMEOUT)
        return hosts[address]

    monkeypatch.setattr(tasks, '_host_services', host_services)
    return hosts


def test_the_plan_names_the_hosts_the_service_task_would_change_or_fail_on_and_changes_nothing(windows_by_address):
    names = {'nvr01': '10.0.0.1', 'nvr02': '10.0.0.2', 'nvr03': '10.0.0.3', 'nvr04': '10.0.0.4', 'nvr05': '10.0.0.5'}
    fleet = {name: fleet_read.host_from_vars(name, dict(GROUP, ansible_host=address)) for name, address in names.items()}
    # A name no host has, skipped with a warning on each.
    params = {'name': ['custom', 'Acme Backup'], 'state': 'started', 'timeout': 60, 'missing': 'skip'}

    plan = fleet_read.plan_fleet(fleet, params, {}, workers=2)

    assert (plan['converged'], plan['pending']) == (['nvr01', 'nvr02'], ['nvr03', 'nvr04', 'nvr05'])
    assert plan['hosts']['nvr03']['changed'] is True
    assert plan['hosts']['nvr03']['services']['recording_server']['actions'] == ['would_start']
    assert plan['hosts']['nvr04']['failed'] is True and 'disabled and cannot be started' in plan['hosts']['nvr04']['msg']
    assert plan['hosts']['nvr05']['unreachable'] is True
    # The custom host lacks the Event and Mobile Servers, which the custom set does not need: converged too.
    assert plan['hosts']['nvr02']['missing'] == ['event_server', 'mobile_server', 'Acme Backup']
    # The converged hosts' warnings are the task's, named by their host; the pending hosts' task will give theirs.
    assert [warning.split(':')[0] for warning in plan['warnings']] == ['nvr01', 'nvr02']
    assert "name 'Acme Backup' is neither a service key nor a service installed" in plan['warnings'][0]
    # One read each, nothing started or stopped.
    for windows in windows_by_address.values():
        assert [call[0] for call in windows.calls] == ['discover']
