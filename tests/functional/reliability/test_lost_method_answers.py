# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Truth under faults (issue 13): a method call Windows carried out, whose one answer was lost.

Each host's listener loses the answer to one call to the Recording Server (the simulator's
`lose_answer` fault, set through the control API): it carries the call out, as Windows would, then
resets the connection, holds the answer past the read timeout and closes, or sends garbage. The
module cannot tell whether its request was carried out, so its result says `state: unknown` (or
`start_mode: unknown`), `changed: true`, and a message that says what was sent, that its outcome is
not known and what the one status read afterwards saw. Out of band, through the control API, the
simulator shows the change really happened and the answer was lost.
"""

from __future__ import annotations

import pytest

from tests.helpers import WAYS_IN

from .helpers import (
    RC_FAILED,
    RC_UNREACHABLE,
    RECORDING_SERVER,
    TWO_PER_BATCH,
    assert_next_batch_refused,
    failure,
    one_clear_line,
    play,
    quick_overrides,
    write_yaml,
)

READ_TIMEOUT = 10  # ansible_winrm_read_timeout_sec: room for ordinary reads on a busy machine
HOLD = 60  # a held answer never comes in time (the fleet's stop ends the hold)
TIMEOUT = 40  # the task's timeout: room for the status read after a held answer (READ_TIMEOUT each)
# The Recording Server changes state at once: the status read after the loss sees the end state.
INSTANT = {'start_seconds': 0, 'stop_seconds': 0}
# How the answer is lost -> (how the task ends, what the client said instead of the answer).
HOWS = {
    'reset': ('unreachable', 'closed the connection before answering'),
    'hold': ('unreachable', 'could not get an answer from the WinRM listener at https://'),
    'garble': ('failed', 'unexpected reply from the WinRM listener'),
}
# Method -> (the task's option, the state before, the goal as the module says it, as Windows says it, the action logged).
METHODS = {
    'StopService': ({'state': 'stopped'}, 'Running', 'stopped', 'Stopped', 'stop'),
    'StartService': ({'state': 'started'}, 'Stopped', 'started', 'Running', 'start'),
}
CASES = {'%s-%s-%s' % (method, how, way): (method, how, way) for method in METHODS for how in HOWS for way in WAYS_IN}
# Start mode: ChangeStartMode's answer reset; the DelayedAutostart registry write's answer garbled.
START_MODE_CASES = {
    'ChangeStartMode-reset-inventory': ('ChangeStartMode', 'reset', 'inventory', 'manual'),
    'SetDWORDValue-garble-delegate': ('SetDWORDValue', 'garble', 'delegate', 'delayed'),
}


def lose(control, running, method, how):
    lose_answer = {'method': method, 'how': how, 'service': RECORDING_SERVER}
    if how == 'hold':
        lose_answer['hold_seconds'] = HOLD
    faults = control.post(running.control_url + '/faults', {'lose_answer': lose_answer})
    assert faults['lose_answer']['times'] == 1


@pytest.fixture(scope='module')
def lost(module_fleets, module_dir, module_runner):
    """One run: every case's host loses the answer to its call. Returns (run, {case: host}, {case: what the control API says after})."""
    names = list(CASES) + list(START_MODE_CASES)
    extra = {}
    for index, name in enumerate(names):
        extra[index] = {RECORDING_SERVER: dict(INSTANT, State=METHODS[CASES[name][0]][1] if name in CASES else 'Running')}
    fleet = module_fleets(len(names), overrides_per_host=quick_overrides(['standard'] * len(names), extra))
    control = fleet.control_client()
    by_case = dict(zip(names, fleet.hosts, strict=False))
    inventory = fleet.inventory()
    inventory['all']['children']['xprotect']['vars'].update(
        ansible_winrm_read_timeout_sec=READ_TIMEOUT, ansible_winrm_operation_timeout_sec=READ_TIMEOUT - 1
    )
    hosts = inventory['all']['children']['xprotect']['hosts']
    for name in names:
        if name in CASES:
            method, how, way = CASES[name]
            hosts[by_case[name].name].update(lost_way=way, lost_state=METHODS[method][0]['state'])
        else:
            method, how, way, start_mode = START_MODE_CASES[name]
            hosts[by_case[name].name].update(lost_way=way, lost_start_mode=start_mode)
        lose(control, by_case[name], method, how)
    path = write_yaml(module_dir / 'lost-method-inventory.yml', inventory)
    # One task a way in, each host running it its way (one play: a play whose every host fails ends the playbook).
    tasks = []
    for way in WAYS_IN:
        task = {
            'name': 'converge',
            'when': 'lost_way == %r' % way,
            'xprotect.go.service': {
                'name': 'recording_server',
                'state': '{{ lost_state | default(omit) }}',
                'start_mode': '{{ lost_start_mode | default(omit) }}',
                'timeout': TIMEOUT,
            },
        }
        tasks += play([task], way=way)['tasks']
    # Each task runs on the hosts of its way in (7 at most) at once.
    run = module_runner([play(tasks)], path, env={'ANSIBLE_FORKS': '8'})
    # Out of band: what the simulator itself says, through the control API.
    seen = {
        name: {route: control.get(running.control_url + '/' + route) for route in ('services', 'history', 'stats', 'faults')}
        for name, running in by_case.items()
    }
    return run, by_case, seen


def test_the_run_ends_with_every_host_failed_or_unreachable_once(lost):
    run, by_case, dummy = lost
    assert run.rc == RC_UNREACHABLE, run.stdout
    assert 'Traceback' not in run.stdout + run.stderr
    for name, running in by_case.items():
        recap = run.recap[running.name]
        assert recap['unreachable'] + recap['failed'] == 1, (name, recap)


@pytest.mark.parametrize('case', sorted(CASES))
def test_a_lost_answer_to_a_start_or_stop_reports_unknown_and_what_a_read_saw(lost, case):
    run, by_case, seen = lost
    method, how, way = CASES[case]
    dummy, dummy, goal, windows_goal, action = METHODS[method]
    status, reason = HOWS[how]
    running = by_case[case]
    result = failure(run, running.name, 'converge')
    assert result.status == status
    one_clear_line(
        result.result['msg'],
        "%s: %s was sent to '%s' but no answer came (" % (running.address, method, RECORDING_SERVER),
        reason,
        '): its outcome is not known; a status read afterwards saw it %s. ' % windows_goal,
        'read the services (xprotect.go.service_info) before running the task again',
    )
    assert result.result['changed'] is True, 'a request was sent and may have been carried out'
    rs = result.result['services']['recording_server']
    assert rs['state'] == 'unknown', 'neither done nor not done'
    assert rs['process_id'] is None, 'the process from before the request is not known now'
    observed = rs['observed_after_loss']
    assert observed['state'] == goal and observed['windows_state'] == windows_goal
    assert result.result['actions'] == [{'service': 'recording_server', 'action': action, 'unknown': True, 'observed_after_loss': observed}]
    # Out of band: the call was carried out once (not retried), its answer lost, the fault spent.
    out_of_band = seen[case]
    assert out_of_band['services'][RECORDING_SERVER]['State'] == windows_goal
    assert [event['state'] for event in out_of_band['history'] if event['service'] == RECORDING_SERVER] == (
        ['Stop Pending', 'Stopped'] if method == 'StopService' else ['Start Pending', 'Running']
    )
    assert out_of_band['stats']['by_action'][method] == 1 and out_of_band['stats']['lost_answers'] == {method: 1}
    assert out_of_band['faults']['lose_answer'] is None


@pytest.mark.parametrize('case', sorted(START_MODE_CASES))
def test_a_lost_answer_to_a_start_mode_change_leaves_the_start_mode_unknown(lost, case):
    run, by_case, seen = lost
    method, how, dummy, start_mode = START_MODE_CASES[case]
    status, reason = HOWS[how]
    running = by_case[case]
    result = failure(run, running.name, 'converge')
    assert result.status == status
    sent = 'SetDWORDValue (DelayedAutostart)' if method == 'SetDWORDValue' else method
    one_clear_line(
        result.result['msg'],
        "%s: %s was sent to '%s' but no answer came (" % (running.address, sent, RECORDING_SERVER),
        reason,
        '): its outcome is not known; a status read afterwards saw it Running with start mode %s. ' % start_mode,
    )
    assert result.result['changed'] is True
    rs = result.result['services']['recording_server']
    assert rs['start_mode'] == 'unknown' and rs['state'] == 'started', 'only the start mode is in doubt'
    assert rs['observed_after_loss']['start_mode'] == start_mode
    assert result.result['actions'] == [
        {
            'service': 'recording_server',
            'action': 'change_start_mode',
            'start_mode': start_mode,
            'unknown': True,
            'observed_after_loss': rs['observed_after_loss'],
        }
    ]
    out_of_band = seen[case]
    service = out_of_band['services'][RECORDING_SERVER]
    assert (service['StartMode'], service['DelayedAutoStart']) == (('Manual', False) if start_mode == 'manual' else ('Auto', True))
    assert out_of_band['stats']['lost_answers'] == {method: 1}


@pytest.mark.slow
@pytest.mark.parametrize('how', sorted(HOWS))
def test_a_host_whose_recording_server_stop_answer_is_lost_counts_as_down(sim_fleet, runner, tmp_path, how):
    """Rolling restart, 2 hosts a batch, at most 2 Recording Servers down: the second host's StopService answer
    to its Recording Server is lost, so the next batch (two more) would make three down and is refused."""
    fleet = sim_fleet(4, overrides_per_host=quick_overrides(['standard'] * 4))
    first, lost_host, third, fourth = fleet.hosts
    control = fleet.control_client()
    inventory = fleet.inventory()
    inventory['all']['children']['xprotect']['vars'].update(
        ansible_winrm_read_timeout_sec=READ_TIMEOUT, ansible_winrm_operation_timeout_sec=READ_TIMEOUT - 1
    )
    path = write_yaml(tmp_path / 'inventory.yml', inventory)
    lose(control, lost_host, 'StopService', how)
    run = runner(
        'playbooks/restart.yml',
        path,
        *TWO_PER_BATCH,
    )
    assert run.rc == RC_FAILED, run.stdout
    converge = failure(run, lost_host.name, 'xprotect.go.services : Converge the XProtect services')
    assert converge.result['services']['recording_server']['state'] == 'unknown'
    assert converge.result['changed'] is True
    one_clear_line(
        converge.result['msg'],
        "StopService was sent to '%s' but no answer came" % RECORDING_SERVER,
        HOWS[how][1],
        'its outcome is not known',
    )
    # It really went down, out of band; and it counts: the next batch would make three down and is refused untouched.
    assert control.get(lost_host.control_url + '/stats')['lost_answers'] == {'StopService': 1}
    assert any(
        event['service'] == RECORDING_SERVER and event['state'] == 'Stop Pending'
        for event in control.get(lost_host.control_url + '/history')
    )
    assert control.get(third.control_url + '/history') == [] and control.get(fourth.control_url + '/history') == []
    assert_next_batch_refused(run, third, lost_host)
    assert run.recap[lost_host.name]['failed'] == 1 and run.recap[first.name]['failed'] == 0
