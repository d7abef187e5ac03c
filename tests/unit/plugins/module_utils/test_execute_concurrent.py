# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The start and stop calls of one stage sent at the same time (PlanExecutor._issue_together): the same plan, log and
results as one after another, and refusals and lost answers recorded as they are then."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from control_helpers import NAMES, FakeClock, FakeWindows, converge

OTHERS = [key for key in NAMES if key != 'recording_server']


class ConcurrentWindows(FakeWindows):
    """A fake host whose HostServices can be copied, answering calls from several threads; refuse and lose name the
    services whose StopService is refused (access denied) or carried out with its answer lost."""

    def __init__(self, clock, **kwargs):
        super().__init__(clock, **kwargs)
        self.lock = threading.Lock()
        self.threads = set()
        self.refuse, self.lose = set(), set()

    def copies(self, count):
        return [self] * count

    def stop(self, name):
        with self.lock:
            self.threads.add(threading.get_ident())
            if name in self.refuse:
                self.calls.append(('refused', name))
                raise XProtectError('access denied to StopService (ReturnValue 2)', host=self.host, service=name, kind='access_denied')
            super().stop(name)
            if name in self.lose:
                raise XProtectError('the WinRM listener closed the connection before answering', host=self.host, kind='unreachable')


@pytest.fixture(name='clock')
def clock_fixture():
    return FakeClock()


def test_a_stage_is_sent_at_once_with_the_same_results_and_log_as_one_call_after_another(clock):
    concurrent = ConcurrentWindows(clock)
    result = converge(concurrent, clock, name=['standard'], state='restarted')
    sequential_clock = FakeClock()
    expected = converge(FakeWindows(sequential_clock), sequential_clock, name=['standard'], state='restarted')
    assert len(concurrent.threads) > 1, 'the stage went out from several threads'
    strip = [{key: value for key, value in entry.items() if key != 'seconds'} for entry in result['actions']]
    assert strip == [{key: value for key, value in entry.items() if key != 'seconds'} for entry in expected['actions']]
    assert {key: entry['state'] for key, entry in result['services'].items()} == {key: 'started' for key in NAMES}
    stops = concurrent.actions('stop')
    assert stops[-1][1] == NAMES['recording_server'] and len({call[2] for call in stops[:-1]}) == 1


def test_refusals_in_a_stage_are_refused_and_the_first_in_the_plans_order_is_raised(clock):
    windows = ConcurrentWindows(clock)
    windows.refuse = {NAMES['mobile_server'], NAMES['image_server']}
    with pytest.raises(XProtectError) as caught:
        converge(windows, clock, name=['standard'], state='restarted')
    stops = [entry for entry in caught.value.result['actions'] if entry['action'] == 'stop']
    assert sorted(entry['service'] for entry in stops) == sorted(OTHERS), 'the whole stage was sent'
    refused = [entry['service'] for entry in stops if entry.get('refused')]
    assert sorted(refused) == ['image_server', 'mobile_server']
    assert caught.value.service == NAMES[refused[0]], "the first refusal in the log's order"
    assert str(caught.value).count('access denied') == 1
    assert all(entry.get('unknown') for entry in stops if not entry.get('refused')), 'sent, not waited for'
    assert 'recording_server' not in [entry['service'] for entry in stops]


def test_a_lost_answer_in_a_stage_is_reported_as_one_after_another_would(clock):
    windows = ConcurrentWindows(clock)
    windows.lose = {NAMES['event_server']}
    with pytest.raises(XProtectError) as caught:
        converge(windows, clock, name=['standard'], state='restarted')
    message = str(caught.value)
    assert caught.value.unreachable
    assert "StopService was sent to '%s' but no answer came" % NAMES['event_server'] in message
    assert 'a status read afterwards saw' in message
    stops = [entry for entry in caught.value.result['actions'] if entry['action'] == 'stop']
    assert len(stops) == len(OTHERS) and all(entry.get('unknown') for entry in stops)
