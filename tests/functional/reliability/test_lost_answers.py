# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Truth under faults (issue 13): an unanswered request is reported as neither done nor not done.

A host starts holding its answers (the simulator's `delay` fault, longer than the read timeout: a
proxy or an overloaded listener that keeps the answer) right after a start or stop it carried out.
The module's next status read gets no answer in time. The result then says `state: unknown`, the
message says what was sent and that its outcome is not known, and one status read within what is
left of the timeout (the hold has ended by then) says what it saw, as `observed_after_loss`.
"""

from __future__ import annotations

import threading

import pytest

from tests.helpers import WAYS_IN

from .helpers import RC_UNREACHABLE, RECORDING_SERVER, Trigger, failure, one_clear_line, play, quick_overrides, write_yaml

READ_TIMEOUT = 2  # ansible_winrm_read_timeout_sec of every host here
HOLD = 4  # seconds the listener holds each answer: past the read timeout
HOLD_ENDS_AFTER = 1.0  # the hold ends before the module's status read after the loss
SLOW_STOP = {'stop_seconds': 1.0, 'start_seconds': 1.0}  # still pending at the module's first read

# Host -> (way in, state asked for, the Recording Server's state before, the transition that starts the hold, task timeout).
CASES = {
    'stop-inventory': ('inventory', 'stopped', 'Running', 'Stop Pending', 10),
    'stop-delegate': ('delegate', 'stopped', 'Running', 'Stop Pending', 10),
    'stop-module': ('module', 'stopped', 'Running', 'Stop Pending', 10),
    'start-inventory': ('inventory', 'started', 'Stopped', 'Start Pending', 10),
    'no-time-left': ('inventory', 'stopped', 'Running', 'Stop Pending', 3),
}


def hold_answers(running, seconds=HOLD, until=HOLD_ENDS_AFTER):
    """From now on the host's listener holds each answer `seconds`, for requests arriving in the next `until` seconds."""
    running.faults.update(delay=seconds)
    timer = threading.Timer(until, lambda: running.faults.update(delay=0))
    timer.daemon = True
    timer.start()


@pytest.fixture(scope='module')
def lost(module_fleets, module_dir, module_runner):
    """One run: every case's host holds its answers once its Recording Server began to change. Returns (run, {case: host})."""
    extra = {index: {RECORDING_SERVER: dict(SLOW_STOP, State=CASES[case][2])} for index, case in enumerate(CASES)}
    fleet = module_fleets(len(CASES), overrides_per_host=quick_overrides(['standard'] * len(CASES), extra))
    by_case = dict(zip(CASES, fleet.hosts, strict=False))
    inventory = fleet.inventory()
    inventory['all']['children']['xprotect']['vars'].update(
        ansible_winrm_read_timeout_sec=READ_TIMEOUT, ansible_winrm_operation_timeout_sec=1
    )
    path = write_yaml(module_dir / 'lost-inventory.yml', inventory)
    # One play (a play whose every host fails ends the playbook), each host running its case's task its way in.
    tasks = []
    for case, (way, state, _dummy, _dummy, timeout) in CASES.items():
        task = {
            'name': 'converge',
            'xprotect.go.service': {'name': 'recording_server', 'state': state, 'timeout': timeout},
            'when': 'inventory_hostname == %r' % by_case[case].name,
        }
        tasks += play([task], way=way)['tasks']
    triggers = [
        Trigger(by_case[case], RECORDING_SERVER, CASES[case][3], lambda running=by_case[case]: hold_answers(running)) for case in CASES
    ]
    for trigger in triggers:
        trigger.__enter__()
    try:
        run = module_runner([play(tasks)], path, env={'ANSIBLE_FORKS': str(len(CASES))})
    finally:
        for trigger in triggers:
            trigger.__exit__(None, None, None)
    assert all(trigger.fired.is_set() for trigger in triggers), run.stdout + run.stderr
    return run, by_case


@pytest.mark.parametrize('case', ['stop-' + way for way in WAYS_IN] + ['start-inventory'])
def test_a_lost_read_after_a_sent_request_reports_unknown_and_what_a_read_saw(lost, case):
    run, by_case = lost
    running = by_case[case]
    method, goal, windows_goal = (
        ('StopService', 'stopped', 'Stopped') if case.startswith('stop') else ('StartService', 'started', 'Running')
    )
    assert run.rc == RC_UNREACHABLE
    result = failure(run, running.name, 'converge')
    assert result.status == 'unreachable', 'the host stopped answering in time'
    one_clear_line(
        result.result['msg'],
        running.address + ': no answer came to a status read while waiting for %s sent to '
        "'%s' (could not get an answer from the WinRM listener" % (method, RECORDING_SERVER),
        'within connection_timeout (2 s)',
        'its outcome is not known; a status read afterwards saw it %s.' % windows_goal,
        'before running the task again',
    )
    services = result.result['services']
    assert result.result['changed'] is True, 'a request was sent'
    assert services['recording_server']['state'] == 'unknown', 'neither done nor not done'
    observed = services['recording_server']['observed_after_loss']
    assert observed['state'] == goal and observed['windows_state'] == windows_goal
    assert (observed['process_id'] == 0) == (goal == 'stopped')
    assert services['recording_server']['process_id'] is None, 'the process from before the request is not known now'
    # 'at' is the module's own figure (seconds into the task when it read the state back), a property of the result, not
    # this test's clock.
    assert READ_TIMEOUT <= observed['at'] < 10, 'seen after the lost read, within the timeout'
    assert result.result['actions'] == [
        {'service': 'recording_server', 'action': method.replace('Service', '').lower(), 'unknown': True, 'observed_after_loss': observed}
    ]
    # What the read saw is what the host has.
    assert running.state.snapshot()[RECORDING_SERVER]['State'] == windows_goal


def test_no_read_after_the_loss_when_the_timeout_leaves_no_room_for_one(lost):
    """timeout 3: the lost read ends about 2.1 s after the StopService, less than one read (2 s) is left."""
    run, by_case = lost
    running = by_case['no-time-left']
    result = failure(run, running.name, 'converge')
    one_clear_line(
        result.result['msg'],
        'its outcome is not known; no status read was tried: ',
        's of the timeout (3 s) was left, less than one read may take (connection_timeout 2 s)',
    )
    rs = result.result['services']['recording_server']
    assert rs['state'] == 'unknown' and 'observed_after_loss' not in rs
