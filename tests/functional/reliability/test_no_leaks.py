# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""No leaks: 100 simulated hosts, 9 of them faulted (seeded), through the status and then the
rolling restart playbook, each run sampled (leaks.py) every 0.2 s. Afterwards no process of the
run is left, no TCP connection to the fleet is open on either side, and while it ran the
controller's fds, its connections to the fleet and its memory stayed under bounds that depend on
the forks, not on the hosts. The helpers' own tests run them against a child that leaks on purpose.
The status test is marked compat: `make compat` runs it with ansible-core 2.16 too. Rows "Leaks"
of docs/reliability.md.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import threading

import pytest

from tests.helpers import REPO_ROOT, ansible_bin_dir, ansible_environment

from .helpers import RC_FAILED, quick_overrides, write_yaml
from .leaks import all_processes, problems, run_measured
from .test_fleet_load import KINDS

pytestmark = pytest.mark.slow

HOSTS = 100
SEED = 20261213
FORKS = 20
SERIAL = 25
# The slow host answers 1 s after its read timeout (ansible_winrm_read_timeout_sec) has given up on it.
READ_TIMEOUT = 2
# kind -> (wire faults, service settings, status in the status report, outcome of the restart): test_fleet_load's kinds, and a slow host.
FAULT_KINDS = dict(KINDS, slow=({'delay': READ_TIMEOUT + 1}, {}, 'unreachable', 'UNREACHABLE'))
MIX = ('reset', 'garbage', 'http_500', 'slow', 'fails_to_start', 'stuck_start', 'refuse', 'stuck_stop', 'access_denied')
PROFILES = ['custom' if index % 4 == 3 else 'standard' for index in range(HOSTS)]
FAULTS = dict(zip(sorted(random.Random(SEED).sample(range(HOSTS), len(MIX))), MIX, strict=False))  # {host index: kind}, the same every run

# The bounds. They depend on FORKS, never on HOSTS: a leak per host (or per task: the restart runs
# about 21 tasks on each host, some 2000 worker processes in all) would go far past them.
#
# The leader (ansible-playbook, the one long-lived controller process) keeps 4 fds per fork slot:
# each of its `forks` WorkerProcess objects holds its WorkerQueue (a multiprocessing pipe, 2 fds)
# and the two pipes multiprocessing keeps of a forked process (sentinel and parent end, 2 fds) until
# the slot's next worker replaces it. Measured on the status playbook, 100 hosts, ansible-core 2.19:
# 28 fds at the peak with 5 forks, 88 with 20 (82 of them pipes: 20 slots x 4 and the results
# queue's 2), so K = (88 - 28) / 15 = 4 and the constant is 8; 88 for the restart too, 89 with 2.16
# (it keeps a copy of stdin around each fork). The bound gives the constant room for 12 more.
FDS_PER_FORK = 4
LEADER_FDS = FORKS * FDS_PER_FORK + 20
# A worker starts with a copy of the leader's fds and adds its connection and the files of its task (measured: 95 at most).
PROCESS_FDS = LEADER_FDS + 16
# A worker talks to its one host over one connection, plus one more for each further call of a stage sent at the same
# time (_execute.PlanExecutor._issue_together): the largest stage of the catalog is five services, so at most five.
# Measured before stages went out together: at most 14 at once, with 17-18 workers; after: 46.
CONNECTIONS_PER_WORKER = 5
FLEET_CONNECTIONS = FORKS * CONNECTIONS_PER_WORKER
# Memory: the leader's peak RSS (VmHWM, exact, not sampled) was 73-74 MB for either playbook on 100
# hosts, with ansible-core 2.19 and 2.16; the bound leaves it room for 70 % more. A worker's own PSS
# (pages shared after fork counted once) reached 37-45 MB at its largest, before and after the reads
# at a due time became Gets (2026-11-30, every process sampled). The run's PSS at one moment depends on
# how many workers are at their largest together: 379-399 MB with 18 alive before that change, 584-715 MB
# with 17-20 after it (the workers' module phases now end closer together). So the bound is every fork
# slot holding a worker at its largest, 48 MB, plus the leader's bound: 1088 MB.
LEADER_RSS_KB = 128 * 1024
WORKER_PSS_KB = 48 * 1024
PSS_KB = FORKS * WORKER_PSS_KB + LEADER_RSS_KB
BOUNDS = dict(
    leader_fds=LEADER_FDS, process_fds=PROCESS_FDS, fleet_connections=FLEET_CONNECTIONS, pss_kb=PSS_KB, leader_rss_kb=LEADER_RSS_KB
)
# Each playbook's run at most, whatever the machine's load: ansible itself spends about 20 s of CPU on
# the status playbook and 150 s on the restart; with load average 8-13 on 2 cores they took 41-47 s and 191-219 s.
RUN_TIMEOUT = 600


@pytest.fixture(scope='module')
def faulted_fleet(module_fleets, module_dir):
    """(fleet, inventory path, {(address, port)} of its listeners, {host name: kind})."""
    extra = {index: FAULT_KINDS[kind][1] for index, kind in FAULTS.items()}
    fleet = module_fleets(HOSTS, profile_mix={'standard': 3, 'custom': 1}, overrides_per_host=quick_overrides(PROFILES, extra))
    inventory = fleet.inventory()
    hosts = inventory['all']['children']['xprotect']['hosts']
    faulted = {}
    for index, kind in FAULTS.items():
        running = fleet.hosts[index]
        faulted[running.name] = kind
        if FAULT_KINDS[kind][0]:
            running.faults.update(**FAULT_KINDS[kind][0])
        if kind == 'slow':
            hosts[running.name].update(ansible_winrm_read_timeout_sec=READ_TIMEOUT, ansible_winrm_operation_timeout_sec=READ_TIMEOUT - 1)
    path = write_yaml(module_dir / 'no-leaks-inventory.yml', inventory)
    endpoints = {(running.address, running.port) for running in fleet.hosts}
    return fleet, path, endpoints, faulted


def measured_playbook(directory, inventory, endpoints, playbook, *extra_args):
    """ansible-playbook (from XPGO_ANSIBLE_BIN or this Python's) in its own session, sampled (leaks.run_measured)."""
    env = ansible_environment(directory)
    env['ANSIBLE_FORKS'] = str(FORKS)
    args = [str(ansible_bin_dir() / 'ansible-playbook'), '-i', str(inventory), str(REPO_ROOT / playbook)] + list(extra_args)
    run = run_measured(args, endpoints, env=env, cwd=directory, timeout=RUN_TIMEOUT)
    print('%s: %s' % (playbook, run.summary()))
    return run


def test_the_seeded_faults_cover_the_kinds():
    """The scenario: 9 faulted hosts, one of each kind, wire and service, spread over the restart's batches."""
    assert sorted(FAULTS.values()) == sorted(MIX) and len(FAULTS) == 9
    assert {index // SERIAL for index in FAULTS} == set(range(HOSTS // SERIAL)), FAULTS


@pytest.mark.compat
def test_status_of_a_100_host_fleet_leaks_nothing(faulted_fleet, tmp_path):
    fleet, inventory, endpoints, faulted = faulted_fleet
    run = measured_playbook(tmp_path, inventory, endpoints, 'playbooks/status.yml', '-e', 'fleet_report_dir=%s' % tmp_path)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    document = json.loads((tmp_path / 'xprotect-fleet-report.json').read_text(encoding='utf-8'))
    expected = {name: FAULT_KINDS[kind][2] for name, kind in faulted.items() if FAULT_KINDS[kind][2] != 'recording'}
    assert {host['name']: host['verdict'] for host in document['hosts'] if host['verdict'] != 'recording'} == expected
    # The run used the fleet: the one worker of the fleet-wide read held connections to it while it ran.
    assert run.peak('fleet_sockets') > 0 and run.peak('leader_children') >= 1, run.summary()
    assert problems(run, **BOUNDS) == [], run.summary()


def test_rolling_restart_of_a_100_host_fleet_leaks_nothing(faulted_fleet, tmp_path):
    """After the status test (which changes nothing); generous limits, so every batch runs."""
    fleet, inventory, endpoints, faulted = faulted_fleet
    run = measured_playbook(
        tmp_path,
        inventory,
        endpoints,
        'playbooks/restart.yml',
        '-e',
        'rolling_restart_serial=%d' % SERIAL,
        '-e',
        'rolling_restart_max_recording_servers_down=%d' % HOSTS,
        '-e',
        'rolling_restart_max_fail_percentage=100',
        '-e',
        'rolling_restart_timeout=2',
        '-e',
        'rolling_restart_settle_seconds=0',
    )
    assert run.rc == RC_FAILED, run.stdout[-3000:] + run.stderr[-3000:]
    unreachable = sum(1 for kind in faulted.values() if FAULT_KINDS[kind][3] == 'UNREACHABLE')
    assert (
        'Rolling restart done: %d restarted, %d failed, %d unreachable, 0 not restarted, of %d hosts.'
        % (HOSTS - len(faulted), len(faulted) - unreachable, unreachable, HOSTS)
    ) in run.stdout, run.stdout[-3000:]
    assert run.stdout.count('"Rolling restart so far: ') == HOSTS // SERIAL - 1, 'one summary after each batch'
    assert run.peak('fleet_sockets') > 0 and run.peak('leader_children') > 1, run.summary()
    assert problems(run, **BOUNDS) == [], run.summary()


# The checks themselves: a child that leaks each thing on purpose, and one that cleans up.
CHILD = r"""
import os, socket, subprocess, sys, time
address, (port, connections, fds, megabytes), leak = sys.argv[1], map(int, sys.argv[2:6]), sys.argv[6] == 'leak'
held = [socket.create_connection((address, port)) for dummy in range(connections)]
# A grandchild in the same session; the leaking child hands it the connections and never waits for it.
grandchild = subprocess.Popen(['sleep', '60' if leak else '0.8'], pass_fds=[c.fileno() for c in held] if leak else [])
files = [os.open(os.devnull, os.O_RDONLY) for dummy in range(fds)]
ballast = b'x' * (megabytes << 20)
time.sleep(1.2)
if not leak:
    grandchild.wait()
    for connection in held:
        connection.close()
"""
CHILD_BOUNDS = dict(leader_fds=40, process_fds=40, fleet_connections=1, pss_kb=60 * 1024, leader_rss_kb=60 * 1024)


@pytest.fixture
def listener():
    """(address, port) of a loopback listener that accepts connections and closes its side at once:
    a peer that does not close then holds a half-closed connection, CLOSE_WAIT."""
    server = socket.create_server(('127.0.0.1', 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, dummy = server.accept()
            except OSError:
                continue
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()
    stop.set()
    thread.join(timeout=5)
    server.close()


def run_child(tmp_path, endpoint, connections, fds, megabytes, leak):
    args = [sys.executable, '-c', CHILD, endpoint[0], endpoint[1], connections, fds, megabytes, 'leak' if leak else 'clean']
    return run_measured([str(arg) for arg in args], {endpoint}, cwd=tmp_path, timeout=30, settle_seconds=1.0)


def test_the_checks_report_a_child_that_leaks(listener, tmp_path):
    run = run_child(tmp_path, listener, connections=3, fds=60, megabytes=80, leak=True)
    assert run.rc == 0, run.stderr
    found = problems(run, **CHILD_BOUNDS)

    def reported(*fragments):
        return [line for line in found if all(fragment in line for fragment in fragments)]

    # The grandchild, orphaned when the child exited, still running (found by the environment's marker).
    assert len(reported('process left running: ', ': sleep 60')) == 1, found
    # Its connections: the listener closed its side, the grandchild never will.
    assert len(reported('TCP connection left open: ', '-> %s:%d CLOSE_WAIT' % listener)) == 3, found
    assert reported('the leader had ', 'fds open'), found
    assert reported('pid ', 'fds open, over the bound of 40'), found
    assert reported('the run held 3 TCP connections to the endpoints at once'), found
    assert reported('kB (PSS), over the bound'), found
    assert reported("the leader's RSS peaked at "), found
    # And the leak did not outlive the check: run_measured killed and reaped the grandchild.
    table = all_processes()
    assert not [pid for pid, process in run.left.items() if pid in table and table[pid][3] == process.started], run.left


def test_the_checks_report_nothing_for_a_child_that_cleans_up(listener, tmp_path):
    run = run_child(tmp_path, listener, connections=1, fds=2, megabytes=1, leak=False)
    assert run.rc == 0, run.stderr
    assert run.peak('fleet_sockets') == 1 and run.peak('processes') == 2, run.summary()
    assert problems(run, **CHILD_BOUNDS) == [], run.summary()
