# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""PlanExecutor under faults: answers that never come, refusals, and waits that end within the timeout."""

from __future__ import annotations

import pytest

from control_helpers import NAMES, FakeClock, FakeWindows, converge, converge_fails

RS = NAMES['recording_server']


@pytest.fixture
def clock():
    return FakeClock()


def calls_after_loss(windows):
    lost = next(index for index, call in enumerate(windows.calls) if call[0] == 'lost' or call[0] == 'failed')
    return windows.calls[lost + 1 :]


@pytest.mark.parametrize('kind', ['timeout', 'unreachable', 'protocol'])
def test_stop_carried_out_but_its_answer_lost_is_reported_unknown_with_what_a_read_saw(clock, kind):
    windows = FakeWindows(clock)
    windows.inject('StopService', kind, carried_out=True, cost=5)
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped', timeout=60)
    assert windows.state('recording_server') == 'Stopped', 'the stop was carried out'
    assert error.kind == kind and error.host == 'nvr01'
    assert str(error).startswith("nvr01: StopService was sent to '%s' but no answer came (" % RS)
    assert FAULT_FRAGMENT[kind] in str(error)
    assert 'its outcome is not known; a status read afterwards saw it Stopped. Check the host' in str(error)
    result = error.result
    assert result['changed'] is True
    rs = result['services']['recording_server']
    assert rs['state'] == 'unknown', 'never reported as done (stopped) nor as not done (started)'
    assert rs['observed_after_loss'] == {
        'state': 'stopped',
        'windows_state': 'Stopped',
        'start_mode': 'auto',
        'process_id': 0,
        'exit_code': 0,
        'at': 5.0,
    }
    assert rs['process_id'] is None and rs['exit_code'] is None, 'from before the request: not known now either'
    assert rs['actions'] == ['stop'] and 'stop' not in rs['seconds']
    assert result['actions'] == [
        {'service': 'recording_server', 'action': 'stop', 'unknown': True, 'observed_after_loss': rs['observed_after_loss']}
    ]
    assert [call[0] for call in calls_after_loss(windows)] == ['poll'], 'one status read, then it gives up'


FAULT_FRAGMENT = {
    'timeout': 'could not get an answer',
    'unreachable': 'closed the connection before answering',
    'protocol': 'unexpected reply',
}


def test_stop_lost_on_the_way_is_unknown_too_and_the_read_shows_it_still_running(clock):
    """The client cannot tell a request lost on its way from an answer lost on its way back."""
    windows = FakeWindows(clock)
    windows.inject('StopService', 'unreachable', carried_out=False)
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped')
    rs = error.result
    assert rs['services']['recording_server']['state'] == 'unknown'
    assert rs['services']['recording_server']['observed_after_loss']['windows_state'] == 'Running'
    assert 'a status read afterwards saw it Running' in str(error)
    assert error.unreachable and rs['changed'] is True


def test_start_lost_and_the_read_after_it_lost_too(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.inject('StartService', 'unreachable', carried_out=True)
    windows.inject('poll', 'unreachable')
    error = converge_fails(windows, clock, name=['recording_server'], state='started')
    assert "StartService was sent to '%s' but no answer came" % RS in str(error)
    assert 'a status read afterwards got no answer either (the WinRM listener' in str(error)
    rs = error.result['services']['recording_server']
    assert rs['state'] == 'unknown' and 'observed_after_loss' not in rs
    assert error.unreachable


def test_a_read_lost_while_waiting_for_an_answered_stop_leaves_its_outcome_unknown(clock):
    windows = FakeWindows(clock)
    windows.inject('poll', 'timeout', cost=30, when=lambda: windows.actions('stop'))
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped', timeout=120)
    assert str(error).startswith(
        "nvr01: no answer came to a status read while waiting for StopService sent to '%s' (could not get an answer" % RS
    )
    assert 'its outcome is not known; a status read afterwards saw it Stopped' in str(error)
    rs = error.result['services']['recording_server']
    assert rs['state'] == 'unknown' and rs['observed_after_loss']['state'] == 'stopped'
    assert error.kind == 'timeout' and error.result['changed'] is True


def test_a_lost_answer_in_a_stage_leaves_the_other_requests_of_the_stage_unknown(clock):
    windows = FakeWindows(clock)
    windows.inject('StopService', 'unreachable', carried_out=True, when=lambda: len(windows.actions('stop')) == 2)
    error = converge_fails(windows, clock, name=['image_server', 'image_import', 'recording_server'], state='stopped')
    first, second = [call[1] for call in windows.actions('stop')]
    assert "StopService was sent to '%s' but no answer came" % second in str(error)
    assert "its outcome is not known, nor that of StopService sent to '%s'" % first in str(error)
    assert "a status read afterwards saw '%s' Stop Pending, '%s' Stop Pending" % (second, first) in str(error)
    services = error.result['services']
    assert services['image_server']['state'] == services['image_import']['state'] == 'unknown'
    assert services['recording_server']['state'] == 'started' and services['recording_server']['pending'] == ['stop']
    assert not any(call[1] == RS for call in windows.actions('stop')), 'nothing after the loss'


def test_change_start_mode_lost_leaves_the_start_mode_unknown_and_starts_nothing(clock):
    windows = FakeWindows(clock, state='Stopped')
    windows.inject('ChangeStartMode', 'timeout', carried_out=True, cost=30)
    error = converge_fails(windows, clock, name=['image_server'], state='started', start_mode='manual')
    assert "ChangeStartMode was sent to 'Milestone Image Server' but no answer came" in str(error)
    assert 'a status read afterwards saw it Stopped with start mode manual' in str(error)
    image_server = error.result['services']['image_server']
    assert image_server['start_mode'] == 'unknown' and image_server['state'] == 'stopped'
    assert image_server['observed_after_loss']['start_mode'] == 'manual'
    assert image_server['actions'] == ['change_start_mode'] and image_server['pending'] == ['start']
    assert not windows.actions('start')
    assert error.result['changed'] is True


def test_delayed_autostart_write_lost_leaves_the_start_mode_unknown(clock):
    windows = FakeWindows(clock)
    windows.inject('SetDWORDValue', 'unreachable', carried_out=True)
    error = converge_fails(windows, clock, name=['log_check'], start_mode='delayed')
    assert "SetDWORDValue (DelayedAutostart) was sent to 'Milestone Log Check Service' but no answer came" in str(error)
    assert 'saw it Running with start mode delayed' in str(error)
    assert error.result['services']['log_check']['start_mode'] == 'unknown'


def test_the_read_after_a_loss_is_skipped_when_less_than_one_request_time_is_left(clock):
    windows = FakeWindows(clock)
    windows.inject('StopService', 'timeout', carried_out=True, cost=30)
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped', timeout=40)
    assert (
        'no status read was tried: 10.0 s of the timeout (40 s) was left, less than one read may take (connection_timeout 30 s)'
    ) in str(error)
    assert calls_after_loss(windows) == []
    assert 'observed_after_loss' not in error.result['services']['recording_server']


def test_the_read_after_a_loss_is_skipped_when_nothing_is_left(clock):
    windows = FakeWindows(clock)
    windows.inject('StopService', 'timeout', carried_out=True, cost=30)
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped', timeout=30)
    assert 'no status read was tried: nothing of the timeout (30 s) was left' in str(error)
    assert calls_after_loss(windows) == []


def slow_reads_after_the_stop(clock, request_timeout):
    """A host whose status reads, once a stop was sent, take request_timeout seconds and get no answer."""
    windows = FakeWindows(clock)
    windows.request_timeout = request_timeout
    windows.inject('poll', 'timeout', cost=request_timeout, times=2, when=lambda: windows.actions('stop'))
    return windows


def test_the_read_after_a_loss_ends_within_the_timeout(clock):
    windows = slow_reads_after_the_stop(clock, 4)
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped', timeout=9)
    # The lost read ended 4.1 s after the StopService, the read after it (4.9 s were left) 8.1 s after it.
    assert 'a status read afterwards got no answer either' in str(error)
    assert clock() - windows.actions('stop')[0][2] == pytest.approx(8.1)


def test_the_read_after_a_loss_is_not_tried_when_it_could_end_past_the_timeout(clock):
    windows = slow_reads_after_the_stop(clock, 4)
    error = converge_fails(windows, clock, name=['recording_server'], state='stopped', timeout=8)
    assert 'no status read was tried: 3.9 s of the timeout (8 s) was left, less than one read may take (connection_timeout 4 s)' in str(
        error
    )
    assert clock() - windows.actions('stop')[0][2] == pytest.approx(4.1)


def test_a_stuck_service_is_given_up_exactly_at_the_timeout(clock):
    windows = FakeWindows(clock)
    windows.services[NAMES['mobile_server'].lower()]['_stuck'] = True
    error = converge_fails(windows, clock, name=['mobile_server'], state='stopped', timeout=5)
    assert 'still Stop Pending after 5 s (timeout 5 s)' in str(error)
    assert error.result['actions'][0]['seconds'] == pytest.approx(5.0, abs=1e-6)
    assert error.result['services']['mobile_server']['state'] == 'stop_pending', 'a failure that was seen is not unknown'


@pytest.mark.parametrize('kind, fragment', [('access_denied', 'access denied to StopService'), ('service', 'StopService failed')])
def test_a_refused_first_request_changes_nothing(clock, kind, fragment):
    windows = FakeWindows(clock)
    windows.inject('StopService', kind)
    error = converge_fails(windows, clock, name=['standard'], state='stopped')
    assert fragment in str(error) and error.kind == kind
    result = error.result
    assert result['changed'] is False, 'Windows did nothing'
    refused = result['actions'][0]['service']
    assert len(result['actions']) == 1, 'nothing is sent after a refusal'
    assert result['services'][refused]['actions'] == [] and result['services'][refused]['changed'] is False
    assert result['services'][refused]['state'] == 'started', 'nothing was done to it: its state is known'
    assert result['actions'][0] == {'service': refused, 'action': 'stop', 'failed': True, 'refused': True}


def test_a_refused_start_after_a_stop_that_was_done_is_a_change(clock):
    windows = FakeWindows(clock)
    windows.inject('StartService', 'access_denied')
    error = converge_fails(windows, clock, name=['log_check'], state='restarted')
    assert error.result['changed'] is True
    log_check = error.result['services']['log_check']
    assert log_check['actions'] == ['stop'] and log_check['pending'] == ['start'] and log_check['state'] == 'stopped'


def test_a_refused_delayed_autostart_write_after_the_start_mode_changed_is_a_change(clock):
    windows = FakeWindows(clock)
    windows.services[NAMES['log_check'].lower()]['StartMode'] = 'Manual'
    windows.inject('SetDWORDValue', 'access_denied')
    error = converge_fails(windows, clock, name=['log_check'], start_mode='delayed')
    assert error.result['changed'] is True
    entry = error.result['actions'][0]
    assert entry['failed'] is True and not entry.get('refused')
    assert error.result['services']['log_check']['start_mode'] == 'auto', 'Automatic, without the delayed flag'


def test_a_refused_change_start_mode_changes_nothing(clock):
    windows = FakeWindows(clock)
    windows.inject('ChangeStartMode', 'access_denied')
    error = converge_fails(windows, clock, name=['log_check'], start_mode='manual')
    assert error.result['changed'] is False
    assert error.result['services']['log_check']['start_mode'] == 'auto'
    assert error.result['services']['log_check']['pending'] == ['change_start_mode']


def test_a_start_mode_change_alone_reports_the_new_start_mode(clock):
    windows = FakeWindows(clock)
    result = converge(windows, clock, name=['log_check'], start_mode='manual')
    assert result['services']['log_check']['start_mode'] == 'manual'
    assert result['changed'] is True
