# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""PlanExecutor's waits, guided by what Windows reports of a pending service (WaitHint, CheckPoint): when it reads."""

from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils._watch import BACKOFF_MIN, FIRST_READ, MAX_WAIT
from control_helpers import DURATIONS, NAMES, FakeClock, FakeWindows, converge, converge_fails


@pytest.fixture
def clock():
    return FakeClock()


def read_times(windows, clock):
    """The fake clock's time as each status read is sent, noted from now on."""
    times = []
    real_poll = windows.poll

    def poll(names, each=False):
        times.append(clock())
        return real_poll(names, each)

    windows.poll = poll
    return times


def one_stopped(clock, key, **behaviour):
    windows = FakeWindows(clock, state='Stopped', keys=(key,))
    windows.services[NAMES[key].lower()].update(behaviour)
    return windows


def after_the_start(windows, times):
    sent = windows.actions('start')[0][2]
    return [round(time - sent, 6) for time in times]


def test_a_service_with_a_wait_hint_is_read_soon_after_the_request_and_once_when_its_hint_ends(clock):
    windows = one_stopped(clock, 'recording_server')
    times = read_times(windows, clock)
    result = converge(windows, clock, name=['recording_server'], state='started')
    start_seconds = DURATIONS['recording_server'][0]
    assert after_the_start(windows, times) == [FIRST_READ, start_seconds], 'the first read tells the hint, the second sees it running'
    # The read at the due time is on the critical path: a Get of each service in flight (HostServices.poll), quicker
    # under Windows' costs than the query the first read makes.
    assert windows.read_each == [False, True]
    assert result['services']['recording_server']['seconds']['start'] == pytest.approx(start_seconds)


@pytest.mark.parametrize('state, initial, stages', [('started', 'Stopped', 2), ('restarted', 'Running', 4)])
def test_each_stage_costs_two_status_reads(clock, state, initial, stages):
    windows = FakeWindows(clock, state=initial)
    times = read_times(windows, clock)
    result = converge(windows, clock, name=['standard'], state=state)
    assert len(times) == 2 * stages
    assert windows.read_each == [False, True] * stages
    assert all(entry['state'] == 'started' for entry in result['services'].values())


def test_a_stage_is_read_once_its_slowest_service_is_due(clock):
    windows = FakeWindows(clock)
    times = read_times(windows, clock)
    converge(windows, clock, name=['standard'], state='stopped')
    others = [key for key in NAMES if key != 'recording_server']
    first_stop = windows.actions('stop')[0][2]
    slowest = max(DURATIONS[key][1] for key in others)
    assert times[1] == pytest.approx(first_stop + slowest), 'not when the quicker ones are due: nothing could go on then'
    assert windows.actions('stop')[-1][2] == pytest.approx(times[1]), 'the Recording Server is stopped right after that read'


def test_a_hint_of_0_backs_off_to_one_read_a_second(clock):
    windows = one_stopped(clock, 'log_check', _hint=0, _start=2.5)
    times = read_times(windows, clock)
    converge(windows, clock, name=['log_check'], state='started')
    assert after_the_start(windows, times) == [FIRST_READ + reads * BACKOFF_MIN for reads in range(4)], 'started after 2.5 s'
    assert not any(windows.read_each), 'no due time: every read is one query'


def test_a_service_later_than_its_hint_is_read_at_its_hint_then_backing_off(clock):
    windows = one_stopped(clock, 'log_check', _hint=1000, _start=3.0)
    times = read_times(windows, clock)
    result = converge(windows, clock, name=['log_check'], state='started')
    assert after_the_start(windows, times) == [FIRST_READ, 1.0, 1.0 + BACKOFF_MIN, 1.0 + 2 * BACKOFF_MIN]
    assert windows.read_each == [False, True, False, False], 'past its hint, back-off reads are one query each'
    assert result['services']['log_check']['seconds']['start'] == pytest.approx(3.0)


def test_a_hint_much_longer_than_the_start_costs_at_most_max_wait(clock):
    windows = one_stopped(clock, 'log_check', _hint=60000, _start=2.0)
    times = read_times(windows, clock)
    converge(windows, clock, name=['log_check'], state='started')
    assert after_the_start(windows, times) == [FIRST_READ, FIRST_READ + MAX_WAIT]


def test_a_hung_service_ends_at_the_timeout_with_the_same_error(clock):
    windows = one_stopped(clock, 'log_check', _stuck=True)
    times = read_times(windows, clock)
    error = converge_fails(windows, clock, name=['log_check'], state='started', timeout=7)
    assert str(error) == (
        "nvr01: service 'Milestone Log Check Service': the service is still Start Pending after 7 s (timeout 7 s): it did not reach Running; "
        'raise timeout if it needs longer, or check the host'
    )
    reads = after_the_start(windows, times)
    assert reads[-1] == 7.0 and max(reads) == 7.0, 'the last read at the deadline, none after it'
    assert len(reads) <= 2 + 7 / BACKOFF_MIN + 1, 'backing off, not a tick'
    assert error.result['actions'][0]['seconds'] == pytest.approx(7.0)


@pytest.mark.parametrize('hint', [0, 3000, 60000])
def test_no_wait_goes_past_the_deadline(clock, hint):
    windows = one_stopped(clock, 'log_check', _stuck=True, _hint=hint)
    times = read_times(windows, clock)
    converge_fails(windows, clock, name=['log_check'], state='started', timeout=5)
    reads = after_the_start(windows, times)
    assert max(reads) == reads[-1] == 5.0
    assert clock() - windows.actions('start')[0][2] == 5.0
