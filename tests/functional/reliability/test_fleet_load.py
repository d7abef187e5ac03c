# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Load: 200 simulated hosts, 5 % of them faulted at random (seeded), through the status and the
rolling restart playbooks. The run finishes, the faulted hosts and only they are reported, and the
rollout keeps to its batch size and failure limit. Rows "Load" of docs/reliability.md."""

from __future__ import annotations

import json
import random
from contextlib import ExitStack

import pytest

from .helpers import RC_FAILED, RECORDING_SERVER, Trigger, quick_overrides

pytestmark = pytest.mark.slow

HOSTS = 200
FAULTED = HOSTS * 5 // 100
SEED = 20261124
SERIAL = 50
# The operator's limit on Recording Servers down at once: a batch, plus room for the faulted hosts
# whose failed restarts count against it until the rollout ends.
MAX_DOWN = SERIAL + FAULTED
# Failed hosts a batch may have and the rollout still go on: int(50 * 10 / 100) = 5, as Ansible counts them.
MAX_FAIL_PERCENTAGE = 10
# More workers than cores only adds forking: 20 are enough for a batch of 50 quick hosts.
FORKS = 20
# Only the recap and the printed report are read: no junit report of 4000 task results.
ENV = {'ANSIBLE_FORKS': str(FORKS)}
# A guard against a hung run, not a speed bound: the 200-host rolling restart takes about 150 s on a quiet
# machine and has taken 320 s beside make test's other workers; bench/run measures speed.
HANG_GUARD = 900
PROFILES = ['custom' if index % 4 == 3 else 'standard' for index in range(HOSTS)]
IMAGE_SERVER = 'Milestone Image Server'

# kind -> (wire faults, service settings, verdict in the status report, outcome of the restart)
KINDS = {
    'refuse': ({'refuse': True}, {}, 'unreachable', 'UNREACHABLE'),
    'reset': ({'reset': True}, {}, 'unreachable', 'UNREACHABLE'),
    'http_500': ({'http_500': True}, {}, 'unknown', 'FAILED'),
    'garbage': ({'malformed': 'garbage'}, {}, 'unknown', 'FAILED'),
    'fails_to_start': ({}, {RECORDING_SERVER: {'fail_start_exit_code': 1067}}, 'recording', 'FAILED'),
    'stuck_start': ({}, {RECORDING_SERVER: {'stuck': 'Start Pending'}}, 'recording', 'FAILED'),
    'stuck_stop': ({}, {IMAGE_SERVER: {'stuck': 'Stop Pending'}}, 'recording', 'FAILED'),
    'access_denied': ({}, {RECORDING_SERVER: {'deny_users': ['xpgo-admin']}}, 'recording', 'FAILED'),
    'crash_after_start': ({}, {}, 'recording', 'FAILED'),  # armed by a Trigger once its restart began
}


def choose_faults():
    """{host index: fault kind} for 5 % of the hosts, the same every run."""
    chooser = random.Random(SEED)
    return {index: chooser.choice(sorted(KINDS)) for index in sorted(chooser.sample(range(HOSTS), FAULTED))}


FAULTS = choose_faults()


@pytest.fixture(scope='module')
def load(module_fleets, module_dir):
    """(fleet, inventory path, {host name: kind}) of 200 quick hosts, the faulted ones faulted."""
    extra = {index: KINDS[kind][1] for index, kind in FAULTS.items()}
    fleet = module_fleets(HOSTS, profile_mix={'standard': 3, 'custom': 1}, overrides_per_host=quick_overrides(PROFILES, extra))
    faulted = {}
    for index, kind in FAULTS.items():
        running = fleet.hosts[index]
        faulted[running.name] = kind
        if KINDS[kind][0]:
            running.faults.update(**KINDS[kind][0])
    inventory = fleet.write_inventory(str(module_dir / 'load-inventory.yml'))
    return fleet, inventory, faulted


def test_seeded_faults_cover_the_kinds_and_leave_batches_within_the_limit():
    """The scenario itself: 10 faulted hosts of 8 kinds, wire and service; one batch exactly at the failure limit, none over."""
    assert len(FAULTS) == FAULTED == 10
    assert len(set(FAULTS.values())) == 8
    assert any(KINDS[kind][0] for kind in FAULTS.values()) and any(KINDS[kind][1] for kind in FAULTS.values())
    per_batch = [sum(1 for index in FAULTS if start <= index < start + SERIAL) for start in range(0, HOSTS, SERIAL)]
    assert max(per_batch) == SERIAL * MAX_FAIL_PERCENTAGE // 100, per_batch


def test_status_of_a_200_host_fleet_reports_the_faulted_hosts_only(load, runner, tmp_path):
    dummy, inventory, faulted = load
    run = runner('playbooks/status.yml', inventory, '-e', 'fleet_report_dir=%s' % tmp_path, env=ENV, timeout=HANG_GUARD, junit=False)
    assert run.rc == 0, run.stdout[-3000:]
    document = json.loads((tmp_path / 'xprotect-fleet-report.json').read_text(encoding='utf-8'))
    verdicts = {host['name']: host['verdict'] for host in document['hosts']}
    assert len(verdicts) == HOSTS
    expected = {name: KINDS[kind][2] for name, kind in faulted.items() if KINDS[kind][2] != 'recording'}
    assert {name: value for name, value in verdicts.items() if value in ('unknown', 'unreachable')} == expected
    assert set(verdicts.values()) <= {'recording', 'unknown', 'unreachable'}, 'quick hosts in good health are recording'
    assert document['summary']['hosts'] == HOSTS


def recording_server_downtimes(fleet):
    """{host: [(down at, up again or None)]} from the simulator's history of each Recording Server."""
    downtimes = {}
    for running in fleet.hosts:
        spans, down = [], None
        for event in running.state.history:
            if event['service'] != RECORDING_SERVER:
                continue
            if event['state'] in ('Stop Pending', 'Stopped') and down is None:  # a stop, or a crash
                down = event['time']
            elif event['state'] == 'Running' and down is not None:
                spans.append((down, event['time']))
                down = None
        if down is not None:
            spans.append((down, None))
        downtimes[running.name] = spans
    return downtimes


def most_at_once(spans, until):
    """The largest number of spans open at the same moment (an open end lasts until `until`)."""
    edges = sorted(
        [(start, 1) for start, end in spans] + [(end if end is not None else until, -1) for start, end in spans],
        key=lambda edge: (edge[0], edge[1]),
    )
    most = current = 0
    for _dummy, step in edges:
        current += step
        most = max(most, current)
    return most


def batch_summaries(run):
    """The headline of the summary printed after each batch."""
    return [line.strip().strip('",') for line in run.stdout.splitlines() if line.strip().startswith('"Rolling restart ')]


@pytest.fixture(scope='module')
def restart(load, module_runner):
    """The rolling restart playbook over the loaded fleet (after the status test: it leaves failed hosts down)."""
    fleet, inventory, faulted = load
    with ExitStack() as stack:
        for name, kind in faulted.items():
            if kind == 'crash_after_start':
                running = fleet.host(name)
                stack.enter_context(
                    Trigger(
                        running,
                        RECORDING_SERVER,
                        'Stop Pending',
                        lambda running=running: running.state.configure(RECORDING_SERVER, crash_after_seconds=0.5),
                    )
                )
        return module_runner(
            'playbooks/restart.yml',
            inventory,
            '-e',
            'rolling_restart_serial=%d' % SERIAL,
            '-e',
            'rolling_restart_max_recording_servers_down=%d' % MAX_DOWN,
            '-e',
            'rolling_restart_max_fail_percentage=%d' % MAX_FAIL_PERCENTAGE,
            '-e',
            'rolling_restart_timeout=3',
            '-e',
            'rolling_restart_settle_seconds=1',
            env=ENV,
            timeout=HANG_GUARD,
            junit=False,
        )


def test_rolling_restart_of_a_200_host_fleet_keeps_its_batch_and_failure_limits(load, restart):
    fleet, dummy, faulted = load
    run = restart
    assert run.rc == RC_FAILED, run.stdout[-3000:]

    # The run finished every batch, and its summary names the faulted hosts and only them.
    unreachable = sum(1 for kind in faulted.values() if KINDS[kind][3] == 'UNREACHABLE')
    assert (
        'Rolling restart done: %d restarted, %d failed, %d unreachable, 0 not restarted, of %d hosts.'
        % (HOSTS - FAULTED, FAULTED - unreachable, unreachable, HOSTS)
    ) in run.stdout
    summaries = batch_summaries(run)
    assert len(summaries) == HOSTS // SERIAL and summaries[-1].startswith('Rolling restart done:'), 'one summary after each batch'
    summary = run.stdout[run.stdout.rindex('Rolling restart done:') :]
    for running in fleet.hosts:
        if running.name in faulted:
            assert '"%s: %s: ' % (running.name, KINDS[faulted[running.name]][3]) in summary, running.name
        else:
            assert '"%s: restarted ' % running.name in summary, running.name
    assert {name for name, counts in run.recap.items() if counts['failed'] or counts['unreachable']} == set(faulted)

    # Healthy hosts were restarted and run; hosts that could not be read were not touched.
    downtimes = recording_server_downtimes(fleet)
    for running in fleet.hosts:
        kind = faulted.get(running.name)
        if kind is None:
            assert len(downtimes[running.name]) == 1 and downtimes[running.name][0][1] is not None, running.name
            assert {e['State'] for n, e in running.state.snapshot().items() if n.startswith('Milestone')} == {'Running'}, running.name
        elif KINDS[kind][0]:
            assert running.state.history == [], running.name

    # The batch limit: never more Recording Servers restarting at once than the batch size, and
    # each batch finished before the next one began.
    finished = [span for spans in downtimes.values() for span in spans if span[1] is not None]
    assert most_at_once(finished, None) <= SERIAL
    batches = [fleet.hosts[start : start + SERIAL] for start in range(0, HOSTS, SERIAL)]
    for earlier, later in zip(batches, batches[1:], strict=False):
        last_up = max(end for running in earlier for start, end in downtimes[running.name] if end is not None)
        first_down = min(start for running in later for start, end in downtimes[running.name])
        assert last_up < first_down
    # Recording Servers left down are exactly those of the hosts whose restart failed at their start, all reported FAILED;
    # with them, never more are down at once than the operator's limit.
    stayed_down = {name for name, spans in downtimes.items() if spans and spans[-1][1] is None}
    assert stayed_down == {name for name, kind in faulted.items() if kind in ('fails_to_start', 'stuck_start', 'crash_after_start')}
    everything = [span for spans in downtimes.values() for span in spans]
    assert most_at_once(everything, float('inf')) <= MAX_DOWN


def test_rolling_restart_summary_says_stopped_only_when_it_stops(restart):
    summaries = batch_summaries(restart)
    assert not [line for line in summaries if line.startswith('Rolling restart stopped')], summaries
