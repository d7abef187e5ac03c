# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults in the service that tests/functional/modules/test_service_failures.py does not already cover:
a start that hangs in Start Pending (bounded wait), and a service that stops again seconds after it
started, caught by the settle check of the nightly rolling restart. Rows of docs/reliability.md."""

from __future__ import annotations


import pytest

from .helpers import (
    RC_FAILED,
    RECORDING_SERVER,
    TWO_PER_BATCH,
    Trigger,
    assert_next_batch_refused,
    failure,
    one_clear_line,
    play,
    quick_overrides,
)


def test_stuck_in_start_pending_gives_up_at_the_timeout(sim_fleet, runner, tmp_path, sim_control):
    fleet = sim_fleet(
        1, overrides_per_host=quick_overrides(['standard'], {0: {RECORDING_SERVER: {'State': 'Stopped', 'stuck': 'Start Pending'}}})
    )
    host = fleet.hosts[0]
    inventory = fleet.write_inventory(str(tmp_path / 'inventory.yml'))
    run = runner([play('- {name: start, xprotect.go.service: {name: recording_server, state: started, timeout: 2}}')], inventory)
    assert run.rc == RC_FAILED
    message = failure(run, host.name, 'start').result['msg']
    one_clear_line(
        message,
        host.address + ": service 'Milestone XProtect Recording Server': ",
        'the service is still Start Pending after 2 s',
        '(timeout 2 s)',
        'it did not reach Running',
        'raise timeout',
    )
    # Bounded: the task gave up at its timeout (the message says after 2 s), and polled about ten times a second
    # meanwhile (no retry storm): the host's own request count shows both, whatever the machine's load.
    stats = sim_control.get(host.control_url + '/stats')
    assert stats['by_action'].get('StartService') == 1, 'the start was asked for once, not retried'
    assert stats['soap_requests'] <= 2 / 0.1 + 10
    assert host.state.snapshot()[RECORDING_SERVER]['State'] == 'Start Pending'


@pytest.mark.slow
def test_stops_again_after_start_is_caught_by_the_settle_check(sim_fleet, runner, tmp_path):
    """Restart playbook, one host per batch: the second host's Recording Server runs, then dies 3 s later.

    The module saw it reach Running (its job is done); the services role's settle check (5 s) sees the
    process gone, the host fails and the rollout stops before the third host.
    """
    fleet = sim_fleet(3, overrides_per_host=quick_overrides(['standard'] * 3))
    first, crashing, untouched = fleet.hosts
    inventory = fleet.write_inventory(str(tmp_path / 'inventory.yml'))

    # Armed only once its restart began: a crash set on a running service would happen right away.
    def arm():
        crashing.state.configure(RECORDING_SERVER, crash_after_seconds=3)

    with Trigger(crashing, RECORDING_SERVER, 'Stop Pending', arm):
        run = runner('playbooks/restart.yml', inventory, '-e', 'rolling_restart_settle_seconds=5')
    assert run.rc == RC_FAILED, run.stdout
    assert crashing.state.snapshot()[RECORDING_SERVER]['State'] == 'Stopped'
    assert crashing.state.snapshot()[RECORDING_SERVER]['ExitCode'] == 1067
    stopped = failure(run, crashing.name)
    assert stopped.task == 'xprotect.go.rolling_restart : Stop the rollout at a host whose restart failed'
    one_clear_line(
        stopped.result['msg'],
        '%s: FAILED: Assert the started services kept running in the same process: ' % crashing.name,
        'Recording Server (%s) did not stay up' % RECORDING_SERVER,
        '5 s later is Stopped',
        '(exit code 1067)',
    )
    assert '%s: not restarted (the rollout stopped before it)' % untouched.name in run.stdout
    assert untouched.state.history == []
    assert run.recap[first.name]['failed'] == 0 and run.recap[crashing.name]['failed'] == 1


@pytest.mark.slow
def test_a_host_lost_mid_restart_counts_as_a_recording_server_down(sim_fleet, runner, tmp_path):
    """The second host stops answering once its Recording Server has stopped (it rebooted, say).

    Its Recording Server may well be down, so it counts against rolling_restart_max_recording_servers_down
    like a failed host: the next batch would make three, and is refused before anything is restarted,
    although max_fail_percentage (50) lets the rollout go on past one lost host in a batch of two.
    """
    fleet = sim_fleet(4, overrides_per_host=quick_overrides(['standard'] * 4))
    first, lost, third, fourth = fleet.hosts
    inventory = fleet.write_inventory(str(tmp_path / 'inventory.yml'))

    with Trigger(lost, RECORDING_SERVER, 'Stopped', lambda: lost.faults.update(reset=True)) as trigger:
        run = runner(
            'playbooks/restart.yml',
            inventory,
            *TWO_PER_BATCH,
        )
    assert trigger.fired.is_set()
    # Kept in the play (not dropped as unreachable), so it is reported, counted and failed like any failed host.
    assert run.recap[lost.name] == dict(run.recap[lost.name], failed=1, unreachable=0)
    assert 'has no attribute' not in run.stdout + run.stderr, 'the checks read a result that was never there'
    assert lost.state.snapshot()[RECORDING_SERVER]['State'] == 'Stopped'
    assert third.state.history == [] and fourth.state.history == [], 'a third Recording Server went down'
    assert_next_batch_refused(run, third, lost)
    # The first batch's summary already names the lost host, and what that may mean.
    assert 'Rolling restart so far: 1 restarted, 1 failed, 0 unreachable, 2 not restarted, of 4 hosts.' in run.stdout, run.stdout
    stopped = failure(run, lost.name, 'xprotect.go.rolling_restart : Stop the rollout at a host whose restart failed')
    one_clear_line(
        stopped.result['msg'],
        '%s: FAILED: stopped answering during its restart, its services may be down: ' % lost.name,
        'closed the connection before answering',
    )
    assert run.recap[first.name]['failed'] == 0
