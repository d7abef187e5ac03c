# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults in the service that tests/functional/modules/test_service_failures.py does not already cover:
a start that hangs in Start Pending (bounded wait), and a service that stops again seconds after it
started, caught by the settle check of the nightly rolling restart. Rows of docs/reliability.md."""

from __future__ import annotations

import time

import pytest

from .conftest import RC_FAILED, RECORDING_SERVER, Trigger, failure, one_clear_line, play, quick_overrides


def test_stuck_in_start_pending_gives_up_at_the_timeout(sim_fleet, runner, tmp_path, sim_control):
    fleet = sim_fleet(1, overrides_per_host=quick_overrides(['standard'], {0: {RECORDING_SERVER: {'State': 'Stopped', 'stuck': 'Start Pending'}}}))
    host = fleet.hosts[0]
    inventory = fleet.write_inventory(str(tmp_path / 'inventory.yml'))
    began = time.monotonic()
    run = runner([play('- {name: start, xprotect.go.service: {name: recording_server, state: started, timeout: 2}}')], inventory)
    took = time.monotonic() - began
    assert run.rc == RC_FAILED
    message = failure(run, host.name, 'start').result['msg']
    one_clear_line(message, host.address + ": service 'Milestone XProtect Recording Server': ", 'the service is still Start Pending after 2 s',
                   '(timeout 2 s)', 'it did not reach Running', 'raise timeout')
    # Bounded: the task gave up at its timeout, and polled about ten times a second meanwhile (no retry storm).
    assert took < 2 + 15, 'ansible-playbook took %.1f s for a 2 s timeout' % took
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
    one_clear_line(stopped.result['msg'], '%s: FAILED: Assert the started services kept running in the same process: ' % crashing.name,
                   'Recording Server (%s) did not stay up' % RECORDING_SERVER, '5 s later is Stopped', '(exit code 1067)')
    assert '%s: not restarted (the rollout stopped before it)' % untouched.name in run.stdout
    assert untouched.state.history == []
    assert run.recap[first.name]['failed'] == 0 and run.recap[crashing.name]['failed'] == 1
