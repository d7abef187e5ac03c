# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A host whose restart ends with its Recording Server's state unknown counts as a Recording Server down.

The rolling restart's limit (rolling_restart_max_recording_servers_down) counts the batch plus the hosts
of earlier batches whose restart failed. Here the second host's answers are lost right after its Recording
Server's StopService was carried out: held past the read timeout (the module ends unreachable) or garbled
(the module ends failed). Either way the module's result says `state: unknown` for the Recording Server,
and the next batch, which would make three down with a limit of two, is refused before anything is restarted.
"""

from __future__ import annotations

import threading

import pytest

from .helpers import (
    RC_FAILED,
    RECORDING_SERVER,
    TWO_PER_BATCH,
    Trigger,
    assert_next_batch_refused,
    failure,
    one_clear_line,
    quick_overrides,
    write_yaml,
)

FAULTS = {
    # Answers held 4 s (read timeout 2 s) for a second: the module's status read after the loss sees Stopped.
    'held': ({'delay': 4}, 'could not get an answer from the WinRM listener'),
    # Answers cut in half for a second: the read after the loss gets a garbled answer too.
    'garbled': ({'malformed': 'truncated'}, 'unexpected reply from the WinRM listener'),
}


def lose_answers_for_a_while(running, faults, seconds=1.0):
    running.faults.update(**faults)
    timer = threading.Timer(seconds, running.faults.clear)
    timer.daemon = True
    timer.start()


@pytest.mark.slow
@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_a_host_whose_recording_server_is_unknown_counts_as_down(sim_fleet, runner, tmp_path, fault):
    faults, reason = FAULTS[fault]
    fleet = sim_fleet(4, overrides_per_host=quick_overrides(['standard'] * 4, {1: {RECORDING_SERVER: {'stop_seconds': 0.5}}}))
    first, lost, third, fourth = fleet.hosts
    inventory = fleet.inventory()
    inventory['all']['children']['xprotect']['vars'].update(ansible_winrm_read_timeout_sec=2, ansible_winrm_operation_timeout_sec=1)
    path = write_yaml(tmp_path / 'inventory.yml', inventory)

    with Trigger(lost, RECORDING_SERVER, 'Stop Pending', lambda: lose_answers_for_a_while(lost, faults)) as trigger:
        run = runner(
            'playbooks/restart.yml',
            path,
            *TWO_PER_BATCH,
        )
    assert trigger.fired.is_set()
    assert run.rc == RC_FAILED, run.stdout
    # The module's own answer: the Recording Server's state is not known, and the message says why.
    converge = failure(run, lost.name, 'xprotect.go.services : Converge the XProtect services')
    assert converge.result['services']['recording_server']['state'] == 'unknown'
    assert converge.result['changed'] is True
    one_clear_line(
        converge.result['msg'], "while waiting for StopService sent to '%s'" % RECORDING_SERVER, reason, 'its outcome is not known'
    )
    # Counted against the limit: the next batch would make three down and is refused before anything is restarted.
    assert third.state.history == [] and fourth.state.history == [], 'a third Recording Server went down'
    assert_next_batch_refused(run, third, lost)
    assert run.recap[lost.name]['failed'] == 1 and run.recap[first.name]['failed'] == 0
