# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning and applying, against an in-memory stand-in for the Windows side with a fake clock (control_helpers)."""

from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from control_helpers import DURATIONS, NAMES, FakeClock, FakeWindows, converge


@pytest.fixture
def clock():
    return FakeClock()


def test_start_recording_server_first_then_the_rest_together(clock):
    windows = FakeWindows(clock, state='Stopped')
    result = converge(windows, clock, name=['standard'], state='started')
    starts = windows.actions('start')
    assert starts[0][1] == NAMES['recording_server']
    rs_running_at = starts[0][2] + DURATIONS['recording_server'][0]
    others = starts[1:]
    assert {call[1] for call in others} == {NAMES[k] for k in NAMES if k != 'recording_server'}
    assert len({call[2] for call in others}) == 1, 'one stage is started together'
    assert others[0][2] == pytest.approx(rs_running_at), 'read when its WaitHint said it would be running'
    assert result['changed'] is True
    assert all(result['services'][key]['state'] == 'started' for key in NAMES)
    assert result['services']['recording_server']['actions'] == ['start']
    assert result['services']['recording_server']['seconds']['start'] == pytest.approx(2.0, abs=0.15)


def test_second_run_changes_nothing_and_sends_nothing(clock):
    windows = FakeWindows(clock, state='Stopped')
    converge(windows, clock, name=['standard'], state='started')
    windows.calls.clear()
    result = converge(windows, clock, name=['standard'], state='started')
    assert result['changed'] is False
    assert windows.calls == [('discover',)], 'a converged host costs one round trip'


def test_stop_reverses_the_order(clock):
    windows = FakeWindows(clock)
    converge(windows, clock, name=['standard'], state='stopped')
    stops = windows.actions('stop')
    assert stops[-1][1] == NAMES['recording_server']
    slowest_other = max(DURATIONS[k][1] for k in NAMES if k != 'recording_server')
    assert stops[-1][2] >= stops[0][2] + slowest_other
    assert {s['State'] for s in windows.services.values() if s['Name'] != 'Spooler'} == {'Stopped'}


def test_restart_costs_little_more_than_the_critical_path(clock):
    windows = FakeWindows(clock)
    began = clock()
    result = converge(windows, clock, name=['standard'], state='restarted')
    others = [k for k in NAMES if k != 'recording_server']
    critical = (
        max(DURATIONS[k][1] for k in others)
        + DURATIONS['recording_server'][1]
        + DURATIONS['recording_server'][0]
        + max(DURATIONS[k][0] for k in others)
    )
    assert clock() - began == pytest.approx(critical), 'each stage read when its WaitHints said it would be done'
    rs = result['services']['recording_server']
    assert rs['actions'] == ['stop', 'start']
    assert rs['seconds']['stop'] + rs['seconds']['start'] == pytest.approx(sum(DURATIONS['recording_server']))
    assert [a['service'] for a in result['actions'] if a['action'] == 'stop'][-1] == 'recording_server'
    assert [a['service'] for a in result['actions'] if a['action'] == 'start'][0] == 'recording_server'


def test_restart_of_a_stopped_service_only_starts_it(clock):
    windows = FakeWindows(clock, state='Stopped')
    result = converge(windows, clock, name=['log_check'], state='restarted')
    assert result['services']['log_check']['actions'] == ['start']
    assert not windows.actions('stop')


def test_check_mode_changes_nothing_but_reports(clock):
    windows = FakeWindows(clock, state='Stopped')
    result = converge(windows, clock, check_mode=True, diff=True, name=['recording_server', 'image_server'], state='started')
    assert not windows.actions('start')
    assert result['changed'] is True
    assert result['services']['recording_server']['actions'] == ['would_start']
    assert result['diff']['before']['recording_server'] == {'state': 'stopped', 'start_mode': 'auto'}
    assert result['diff']['after']['recording_server'] == {'state': 'started', 'start_mode': 'auto'}
    assert windows.services[NAMES['recording_server'].lower()]['State'] == 'Stopped'


def test_check_mode_diff_of_a_restart_shows_what_would_be_stopped_and_started(clock):
    windows = FakeWindows(clock)
    windows.services[NAMES['log_check'].lower()]['State'] = 'Stopped'
    result = converge(windows, clock, check_mode=True, diff=True, name=['recording_server', 'log_check'], state='restarted')
    assert not windows.actions('stop') and not windows.actions('start')
    assert result['diff'] == {
        'before': {'recording_server': {'state': 'started', 'start_mode': 'auto'}, 'log_check': {'state': 'stopped', 'start_mode': 'auto'}},
        'after': {
            'recording_server': {'state': 'started', 'start_mode': 'auto', 'restarted': True},
            'log_check': {'state': 'started', 'start_mode': 'auto'},
        },
    }
    # Done for real, the diff is the same.
    applied = converge(windows, clock, diff=True, name=['recording_server', 'log_check'], state='restarted')
    assert applied['diff'] == result['diff']


def test_diff_after_is_what_was_observed(clock):
    windows = FakeWindows(clock)
    result = converge(windows, clock, diff=True, name=['mobile_server'], state='stopped')
    assert result['diff'] == {
        'before': {'mobile_server': {'state': 'started', 'start_mode': 'auto'}},
        'after': {'mobile_server': {'state': 'stopped', 'start_mode': 'auto'}},
    }


def test_custom_install_skips_absent_optional_services(clock):
    windows = FakeWindows(clock, state='Stopped', keys=('recording_server', 'image_server', 'image_import', 'log_check'))
    result = converge(windows, clock, name=['custom'], state='started')
    assert sorted(result['missing']) == ['event_server', 'mobile_server']
    assert set(result['services']) == {'recording_server', 'image_server', 'image_import', 'log_check'}


@pytest.mark.parametrize('params', [{'name': ['event_server']}, {'name': ['standard']}, {'name': ['custom'], 'missing': 'fail'}])
def test_missing_service_fails_when_named(clock, params):
    windows = FakeWindows(clock, keys=('recording_server', 'image_server', 'image_import', 'log_check'))
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, state='started', **params)
    assert error.value.kind == 'not_found'
    assert 'not installed' in str(error.value)
    assert not windows.actions('start')


def test_missing_skip_skips_explicit_names(clock):
    windows = FakeWindows(clock, keys=('recording_server',))
    result = converge(windows, clock, name=['recording_server', 'mobile_server'], state='started', missing='skip')
    assert result['missing'] == ['mobile_server']


def test_disabled_service_is_not_started_without_a_start_mode(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.services[NAMES['image_server'].lower()]['StartMode'] = 'Disabled'
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['standard'], state='started')
    assert 'disabled' in str(error.value) and 'start_mode' in str(error.value)
    assert not windows.actions('start'), 'nothing is half done'


def test_start_mode_is_set_before_starting(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.services[NAMES['image_server'].lower()]['StartMode'] = 'Disabled'
    result = converge(windows, clock, name=['image_server'], state='started', start_mode='delayed')
    assert windows.calls.index(('start_mode', NAMES['image_server'], 'delayed')) < windows.calls.index(windows.actions('start')[0])
    assert result['services']['image_server']['actions'] == ['change_start_mode', 'start']
    assert result['services']['image_server']['start_mode'] == 'delayed'
    again = converge(windows, clock, name=['image_server'], state='started', start_mode='delayed')
    assert again['changed'] is False


def test_running_dependent_blocks_stop_and_is_named(clock):
    windows = FakeWindows(clock)
    windows.add('XPGO Analytics', depends_on=[NAMES['recording_server']])
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['recording_server'], state='stopped')
    assert 'XPGO Analytics' in str(error.value) and 'force_dependents' in str(error.value)
    assert not windows.actions('stop')


def test_force_dependents_stops_them_first_and_restarts_them(clock):
    windows = FakeWindows(clock)
    windows.add('XPGO Analytics', depends_on=[NAMES['recording_server']])
    result = converge(windows, clock, name=['recording_server'], state='restarted', force_dependents=True)
    order = [(call[0], call[1]) for call in windows.calls if call[0] in ('start', 'stop')]
    assert order == [
        ('stop', 'XPGO Analytics'),
        ('stop', NAMES['recording_server']),
        ('start', NAMES['recording_server']),
        ('start', 'XPGO Analytics'),
    ]
    assert result['services']['XPGO Analytics']['forced'] is True


def test_windows_dependencies_order_services_of_one_stage(clock):
    windows = FakeWindows(clock)
    windows.services[NAMES['image_server'].lower()]['_depends_on'] = [NAMES['event_server'].lower()]
    converge(windows, clock, name=['image_server', 'event_server'], state='restarted')
    order = [(call[0], call[1]) for call in windows.calls if call[0] in ('start', 'stop')]
    assert order == [
        ('stop', NAMES['image_server']),
        ('stop', NAMES['event_server']),
        ('start', NAMES['event_server']),
        ('start', NAMES['image_server']),
    ]


def test_service_that_fails_to_start_reports_exit_code_and_what_was_done(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.services[NAMES['recording_server'].lower()]['_fail'] = 1067
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['standard'], state='started')
    assert '1067' in str(error.value)
    assert error.value.service == NAMES['recording_server']
    assert error.value.result['services']['recording_server']['state'] == 'stopped'
    assert len(windows.actions('start')) == 1, 'nothing else is started after the Recording Server failed'
    image_server = error.value.result['services']['image_server']
    assert image_server['actions'] == [] and image_server['pending'] == ['start'] and image_server['changed'] is False
    assert error.value.result['services']['recording_server']['actions'] == ['start']
    assert error.value.result['actions'] == [
        {'service': 'recording_server', 'action': 'start', 'failed': True, 'seconds': pytest.approx(2.0, abs=0.2)}
    ]
    assert error.value.result['changed'] is True


def test_failed_restart_says_what_was_done_and_what_was_not(clock):
    windows = FakeWindows(clock)
    windows.services[NAMES['recording_server'].lower()]['_fail'] = 1067
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['standard'], state='restarted')
    result = error.value.result
    assert result['changed'] is True
    assert result['services']['image_server']['actions'] == ['stop']
    assert result['services']['image_server']['pending'] == ['start']
    assert result['services']['recording_server']['actions'] == ['stop', 'start']
    assert 'pending' not in result['services']['recording_server']
    assert 'start' not in result['services']['recording_server']['seconds']


def test_stuck_service_times_out_with_the_state_reached(clock):
    windows = FakeWindows(clock)
    windows.services[NAMES['mobile_server'].lower()]['_stuck'] = True
    began = clock()
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['mobile_server'], state='stopped', timeout=5)
    assert 'Stop Pending' in str(error.value) and 'timeout 5' in str(error.value)
    assert 5 <= clock() - began <= 6


def test_waits_for_a_pending_service_without_sending_a_control(clock):
    windows = FakeWindows(clock)
    service = windows.services[NAMES['log_check'].lower()]
    service.update(State='Start Pending', _until=clock() + 0.5, _then='Running')
    result = converge(windows, clock, name=['log_check'], state='started')
    assert not windows.actions('start')
    assert result['changed'] is False
    assert result['services']['log_check']['state'] == 'started'


def test_real_service_name_is_matched_to_its_key(clock):
    windows = FakeWindows(clock, state='Stopped')
    result = converge(windows, clock, name=['Milestone XProtect Recording Server'], state='started')
    assert list(result['services']) == ['recording_server']


@pytest.mark.parametrize('name', ["x' OR Name LIKE '%", 'a"b', 'Milestone%', 'Name\nX', ''])
def test_unsafe_names_are_refused_before_anything_is_sent(clock, name):
    windows = FakeWindows(clock)
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=[name], state='started')
    assert error.value.kind == 'invalid'
    assert windows.calls == []


@pytest.mark.parametrize(
    'params, fragment',
    [
        ({'name': []}, 'at least one'),
        ({'name': ['recording_server'], 'timeout': 0}, 'timeout'),
        ({'name': ['recording_server'], 'timeout': 10**9}, 'timeout'),
        ({'name': ['recording_server'], 'state': 'started', 'start_mode': 'disabled'}, 'contradict'),
        ({'name': ['recording_server'], 'service_names': {'recorder': 'X'}}, 'unknown key'),
    ],
)
def test_bad_input_is_refused(clock, params, fragment):
    windows = FakeWindows(clock)
    params.setdefault('state', 'stopped')
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, **params)
    assert fragment in str(error.value)
    assert windows.calls == []


def test_describe_host_reports_installation_and_warnings(clock):
    windows = FakeWindows(clock, keys=('recording_server', 'image_server', 'image_import', 'log_check'))
    windows.services[NAMES['image_server'].lower()]['StartName'] = 'EXAMPLE\\svc-img'
    windows.services[NAMES['recording_server'].lower()]['State'] = 'Stopped'
    windows.add('Milestone XProtect Management Server')
    report = tasks.describe_host(windows)
    assert report['install_type'] == 'custom'
    assert report['missing'] == ['event_server', 'mobile_server']
    assert report['services']['mobile_server'] == {
        'installed': False,
        'title': 'Mobile Server',
        'optional': True,
        'description': catalog.SERVICES['mobile_server']['description'],
    }
    assert report['services']['recording_server']['state'] == 'stopped'
    assert [s['name'] for s in report['other_services']] == ['Milestone XProtect Management Server']
    assert any('EXAMPLE\\svc-img' in w and 'IP address' in w for w in report['warnings'])
    assert any('Recording Server' in w and 'no video' in w for w in report['warnings'])
    assert windows.calls == [('discover',)]


def test_connection_lost_mid_restart_says_what_was_sent(clock):
    windows = FakeWindows(clock)
    real_poll = windows.poll

    def poll_then_lose_the_connection(names, each=False):
        if windows.actions('stop'):
            raise XProtectError('cannot connect', host=windows.host, kind='unreachable')
        return real_poll(names, each)

    windows.poll = poll_then_lose_the_connection
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['standard'], state='restarted')
    result = error.value.result
    assert error.value.unreachable
    assert result['changed'] is True, 'stops were sent'
    assert result['services']['mobile_server']['actions'] == ['stop']
    assert result['services']['mobile_server']['state'] == 'unknown'
    assert result['services']['mobile_server']['pending'] == ['start']
    assert result['services']['recording_server']['actions'] == []
    assert result['services']['recording_server']['state'] == 'started', 'nothing was sent to it'
    assert all('seconds' not in entry for entry in result['actions'])
