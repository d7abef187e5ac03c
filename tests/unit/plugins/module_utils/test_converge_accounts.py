# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The service module's log-on account and its failure reasons, against the fake Windows host."""

from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _eventlog as eventlog
from control_helpers import NAMES, FakeClock, FakeWindows, converge, converge_fails

IS = NAMES['image_server']
RS = NAMES['recording_server']
PASSWORD = 'Svc-Pass-2024!'


@pytest.fixture
def clock():
    return FakeClock()


def changes(windows):
    return windows.actions('change_account')


def test_check_mode_apply_and_idempotence(clock):
    windows = FakeWindows(clock)
    planned = converge(windows, clock, check_mode=True, diff=True, name=['image_server'], account='.\\xpgo-svc', account_password=PASSWORD)
    assert changes(windows) == [] and planned['changed']
    assert planned['services']['image_server']['actions'] == ['would_change_account']
    assert planned['services']['image_server']['start_name'] == '.\\xpgo-svc'
    assert planned['services']['image_server']['restart_required'] and planned['restart_required']
    assert planned['diff'] == {
        'before': {'image_server': {'state': 'started', 'start_mode': 'auto', 'account': 'LocalSystem'}},
        'after': {'image_server': {'state': 'started', 'start_mode': 'auto', 'account': '.\\xpgo-svc'}},
    }

    done = converge(windows, clock, name=['image_server'], account='.\\xpgo-svc', account_password=PASSWORD)
    assert changes(windows) == [('change_account', IS, '.\\xpgo-svc', True)]
    assert done['changed'] and done['restart_required'], 'it runs on under LocalSystem until it next starts'
    assert done['actions'][0] == {
        'service': 'image_server',
        'action': 'change_account',
        'account': '.\\xpgo-svc',
        'password_sent': True,
        'seconds': 0.0,
    }

    again = converge(windows, clock, name=['image_server'], account='.\\XPGO-SVC', account_password=PASSWORD)
    assert not again['changed'] and len(changes(windows)) == 1, 'the same account: nothing sent, the password included'
    assert again['restart_required'] is False


def test_update_password_always_sends_it_every_time(clock):
    windows = FakeWindows(clock)
    windows.services[IS.lower()]['StartName'] = '.\\xpgo-svc'
    result = converge(windows, clock, name=['image_server'], account='.\\xpgo-svc', account_password=PASSWORD, update_password='always')
    assert result['changed'] and changes(windows) == [('change_account', IS, '.\\xpgo-svc', True)]


def test_restarted_in_the_same_task_applies_it(clock):
    windows = FakeWindows(clock)
    windows.services[IS.lower()]['StartName'] = 'XPGO\\svc-imageserver'
    result = converge(windows, clock, name=['image_server'], account='LocalSystem', state='restarted')
    assert [call[0] for call in windows.calls if call[0] in ('change_account', 'stop', 'start')] == ['change_account', 'stop', 'start']
    assert result['services']['image_server']['actions'] == ['change_account', 'stop', 'start']
    assert result['restart_required'] is False and result['services']['image_server']['start_name'] == 'LocalSystem'
    # Built-in accounts take no password: none is sent.
    assert changes(windows) == [('change_account', IS, 'LocalSystem', False)]


def test_a_stopped_service_needs_no_restart(clock):
    windows = FakeWindows(clock, state='Stopped')
    result = converge(windows, clock, name=['image_server'], account='NT AUTHORITY\\NetworkService')
    assert result['changed'] and result['restart_required'] is False


def test_changing_to_a_user_account_needs_its_password(clock):
    windows = FakeWindows(clock)
    error = converge_fails(windows, clock, name=['image_server'], account='XPGO\\svc-imageserver')
    assert error.kind == 'invalid' and 'account_password is needed' in error.message and changes(windows) == []


def test_a_upn_for_a_domain_user_is_a_change_with_a_warning(clock):
    windows = FakeWindows(clock)
    windows.services[IS.lower()]['StartName'] = 'XPGO\\svc-imageserver'
    result = converge(
        windows, clock, check_mode=True, name=['image_server'], account='svc-imageserver@xpgo.example', account_password=PASSWORD
    )
    assert result['changed'] and 'cannot be compared without Active Directory' in result['warnings'][0]


def test_forced_dependents_keep_their_account(clock):
    windows = FakeWindows(clock)
    windows.add('Dependent', depends_on=[RS])
    converge(
        windows, clock, name=['recording_server'], account='LocalSystem', update_password='always', state='restarted', force_dependents=True
    )
    assert changes(windows) == []  # LocalSystem already, no password: nothing to send; the dependent is never changed


def test_a_refused_change_stops_the_task_and_never_shows_the_password(clock):
    windows = FakeWindows(clock)
    windows.change_refusal = 'echo'
    error = converge_fails(windows, clock, name=['image_server'], account='.\\xpgo-svc', account_password=PASSWORD)
    assert error.kind == 'fault' and PASSWORD not in str(error) and 'StartPassword ******** is not valid' in str(error)
    windows.change_refusal = 22
    error = converge_fails(windows, clock, name=['image_server'], account='.\\xpgo-svc', account_password=PASSWORD, state='restarted')
    assert 'ReturnValue 22' in error.message
    assert error.result['services']['image_server']['pending'] == ['change_account', 'stop', 'start']
    assert windows.actions('stop') == [], 'nothing after a refused change'


def test_a_start_that_fails_quotes_windows_reason(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.services[RS.lower()]['_fail'] = 1067
    windows.log_event(7034, [RS, '1'], 'The %s service terminated unexpectedly.  It has done this 1 time(s).' % RS)
    error = converge_fails(windows, clock, name=['recording_server'], state='started')
    assert 'exit code 1067' in error.message
    assert '(event 7034): The %s service terminated unexpectedly. It has done this 1 time(s).' % RS in error.message
    assert windows.actions('failure_events')[0][2] == eventlog.MAX_EVENTS, 'one bounded read, only now'


def test_no_failure_no_read(clock):
    windows = FakeWindows(clock, state='Stopped')
    converge(windows, clock, name=['recording_server'], state='started')
    assert windows.actions('failure_events') == []


def test_without_event_log_readers_the_message_names_the_right(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.services[RS.lower()]['_fail'] = 1067
    windows.event_log_denied = True
    error = converge_fails(windows, clock, name=['recording_server'], state='started')
    assert error.message.endswith("add it to the Event Log Readers group (or make it an administrator) to see Windows' reason")
    assert error.kind == 'service', 'the failure is the start, not the log'


def test_a_lost_read_of_the_log_does_not_hide_the_failure(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.services[RS.lower()]['_fail'] = 1067
    windows.inject('failure_events', 'timeout')
    error = converge_fails(windows, clock, name=['recording_server'], state='started')
    assert 'exit code 1067' in error.message and "Windows' reason could not be read from the System event log" in error.message
